"""Writes of the remediation work: verification and workflow steps, each with its change-log entry."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.models import Membership
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.core.errors import ServiceError
from taizhang.ledger.models import Target, TransitionEvent
from taizhang.ledger.services import target_lock, target_update
from taizhang.ledger.workflow import may_act, target_transition

from .models import Acceptance, Inspection, Plan, Tenant, Verification
from .snapshots import VERIFICATION

R = Membership.Role
# Verified facts that, once both parties confirm, correct the ledger.
LEDGER_FACTS = ("rented_floor_area", "resident_population", "business_count", "hazards", "longitude", "latitude")
RECORDERS = {R.STREET, R.UNIT, R.OFFICE}
STREET_SIDE = {R.STREET, R.OFFICE}
HOLDER_SIDE = {R.UNIT}


class RemediationError(ServiceError):
    """A remediation write that is refused; the message says why."""


@atomic
def verification_record(*, target: Target, actor, facts: dict, tenants: list[dict] = ()) -> Verification:
    """Record what was found on site; it counts once the street and the rights holder confirm."""
    if not may_act(actor, target, RECORDERS):
        raise RemediationError(_("Your role may not record a verification for this target."))
    verification = Verification(target=target, created_by=actor, **facts)
    verification.full_clean()
    verification.save()
    for tenant in tenants:
        row = Tenant(verification=verification, **tenant)
        row.full_clean()
        row.save()
    changelog_append(changes=[VERIFICATION.created(verification)],
                     actor=actor, reason=_("verification recorded"))
    return verification


@atomic
def verification_confirm(*, verification: Verification, actor) -> Verification:
    """One party signs off; when both have, the verified facts correct the ledger."""
    target = verification.target
    target_lock(target.pk)  # first: one lock order everywhere (ledger.services.target_lock)
    if may_act(actor, target, STREET_SIDE):
        side = "street"
    elif may_act(actor, target, HOLDER_SIDE):
        side = "holder"
    else:
        raise RemediationError(_("Only the street sub-command or the rights holder confirms a verification."))
    before = VERIFICATION.snapshot(verification)
    # Conditional: a second confirmation by the same side, even at the same moment, is refused.
    updated = Verification.objects.filter(pk=verification.pk, **{side + "_confirmed_at__isnull": True}).update(
        **{side + "_confirmed_by": actor, side + "_confirmed_at": timezone.now()})
    if updated != 1:
        raise RemediationError(_("This verification is already confirmed by your side."))
    verification.refresh_from_db()
    changelog_append(changes=[VERIFICATION.change(verification, "update", before, VERIFICATION.snapshot(verification))],
                     actor=actor, reason=_("verification confirmed"))
    if verification.confirmed:
        changes = {f: v for f, _old, v in differences(verification)}
        if changes:
            target.refresh_from_db()
            target_update(target=target, actor=actor, changes=changes, reason=_("confirmed verification"))
    return verification


def differences(verification: Verification) -> list[tuple[str, object, object]]:
    """(field, ledger value, verified value) where the verification found something else."""
    target = verification.target
    found = []
    for field in LEDGER_FACTS:
        value = getattr(verification, field)
        if value not in (None, "") and value != getattr(target, field):
            found.append((field, getattr(target, field), value))
    if verification.land_rights_holder and verification.land_rights_holder != target.land_rights_unit:
        found.append(("land_rights_unit", target.land_rights_unit, verification.land_rights_holder))
    return found


def _verification_confirmed(target: Target) -> str | None:
    if Verification.objects.filter(target=target, street_confirmed_at__isnull=False,
                                   holder_confirmed_at__isnull=False).exists():
        return None
    return _("A verification confirmed by both the street sub-command and the rights holder is needed first.")


def _acceptance_decided(decision: str, missing):
    """Met when the latest acceptance since the target last reported completion has this decision."""
    def check(target: Target) -> str | None:
        acceptances = Acceptance.objects.filter(target=target)
        reported_at = (TransitionEvent.objects.filter(target=target, to_state=Target.State.COMPLETION_REPORTED)
                       .order_by("-at", "-id").values_list("at", flat=True).first())
        if reported_at is not None:
            acceptances = acceptances.filter(decided_at__gte=reported_at)
        latest = acceptances.order_by("-decided_at", "-id").values_list("decision", flat=True).first()
        return None if latest == decision else str(missing)
    return check


def _reinspection_failed(target: Target) -> str | None:
    # Every failed re-inspection moves its target to rebound in the same transaction, so a failure
    # not yet matched by a rebound is the new one; older failures caused earlier rebounds.
    failed = Inspection.objects.filter(target=target, passed=False).count()
    if failed > TransitionEvent.objects.filter(target=target, to_state=Target.State.REBOUND).count():
        return None
    return _("No failed re-inspection for this target since it was closed.")


def _plan_approved(target: Target) -> str | None:
    # An approved version stays the plan in force until a newer one is approved (see plans.py).
    if Plan.objects.filter(target=target, status=Plan.Status.APPROVED).exists():
        return None
    return _("No approved plan (一院一策) for this target yet.")


CHECKS = {
    "verification_confirmed": _verification_confirmed,
    "plan_approved": _plan_approved,
    "acceptance_passed": _acceptance_decided(Acceptance.Decision.PASSED,
                                             gettext_lazy("No passed acceptance for this target yet.")),
    "acceptance_failed": _acceptance_decided(Acceptance.Decision.FAILED,
                                             gettext_lazy("No failed acceptance to return this target with.")),
    "reinspection_failed": _reinspection_failed,
}


def target_step(*, target: Target, to: str, actor, comment: str = "", hold_reason: str = "", hold_review_on=None):
    """Take a workflow step with the remediation app's conditions."""
    return target_transition(target=target, to=to, actor=actor, comment=comment, checks=CHECKS,
                             hold_reason=hold_reason, hold_review_on=hold_review_on)
