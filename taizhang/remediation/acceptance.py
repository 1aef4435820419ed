"""Acceptance (验收) and re-inspections against rebound (长效管控): the writes and the reads.

A passed acceptance closes the account (销账) and schedules re-inspections at the days the
preset gives (`[anti_rebound] reinspect_after_days`), counted from the closing day. A failed
re-inspection moves the target to rebound at once and cancels the visits still pending; the
next closing schedules a fresh series.

The rebound step is taken by the system (actor None), not by the inspector: it is automatic,
caused by the inspection, and the workflow keeps the manual CLOSED → REBOUND step for the HQ
office alone. Who inspected is kept on the inspection, in its change-log entry and in the
step's comment, so the timeline still names them.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may, visible_q
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_lock

from .checks import RemediationError
from .models import Acceptance, Inspection, TransitionEvent
from .snapshots import ACCEPTANCE, INSPECTION
from .workflow import target_step

State = Target.State


@atomic
def acceptance_record(*, target: Target, actor, decision: str, reasons: str = "", tenants_cleared: bool = False,
                      structures_demolished: bool = False, demolished_area=None, site_cleaned: bool = False,
                      land_returned: bool = False) -> Acceptance:
    """The HQ office checks reported completion.

    Passed: the target is closed (销账) and its re-inspections are scheduled. Failed: it goes
    back to remediation with the reasons as the step's comment.
    """
    if not may(actor, target, Action.ACCEPTANCE_RECORD):
        raise RemediationError(_("Only the HQ office accepts the work on a target."))
    target_lock(target.pk)  # first: one lock order everywhere (ledger.services.target_lock)
    target.refresh_from_db()
    if target.state != State.COMPLETION_REPORTED:
        raise RemediationError(_("Acceptance needs a target in “%(needed)s”; this one is “%(state)s”.") % {
            "needed": State.COMPLETION_REPORTED.label, "state": target.get_state_display()})
    acceptance = Acceptance(
        target=target, decided_by=actor, decision=decision, reasons=reasons.strip(),
        tenants_cleared=tenants_cleared, structures_demolished=structures_demolished,
        demolished_area=demolished_area, site_cleaned=site_cleaned, land_returned=land_returned)
    errors = {}
    try:
        acceptance.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict
    if decision == Acceptance.Decision.FAILED and not acceptance.reasons:
        errors.setdefault("reasons", []).append(_("A failed acceptance needs its reasons."))
    if errors:
        raise ValidationError(errors)
    acceptance.save()
    changelog_append(changes=[ACCEPTANCE.created(acceptance)],
                     actor=actor, reason=_("acceptance recorded"))
    if decision == Acceptance.Decision.PASSED:
        target_step(target=target, to=State.CLOSED, actor=actor, comment=_("Acceptance passed."))
        _inspections_schedule(target=target, actor=actor, closed_on=timezone.localdate())
    else:
        target_step(target=target, to=State.IN_REMEDIATION, actor=actor, comment=acceptance.reasons)
    return acceptance


def _inspections_schedule(*, target: Target, actor, closed_on: datetime.date) -> list[Inspection]:
    """A fresh series of re-inspections from the closing day, at the preset's falling frequency."""
    days = (target.campaign.rules.get("anti_rebound") or {}).get("reinspect_after_days") or []
    rows = Inspection.objects.bulk_create(
        Inspection(target=target, due_on=closed_on + datetime.timedelta(days=d)) for d in days)
    changelog_append(changes=[INSPECTION.change(i, "create", None, INSPECTION.snapshot(i)) for i in rows],
                     actor=actor, reason=_("re-inspections scheduled"))
    return rows


def _inspections_cancel(*, target: Target, actor) -> int:
    """Drop the visits still pending: a rebounded target is remediated again, then re-scheduled."""
    pending = list(Inspection.objects.filter(target=target, done_on__isnull=True))
    changelog_append(changes=[INSPECTION.change(i, "delete", INSPECTION.snapshot(i), None) for i in pending],
                     actor=actor, reason=_("re-inspections cancelled: the target rebounded"))
    Inspection.objects.filter(pk__in=[i.pk for i in pending]).delete()
    return len(pending)


def _closed_on(target: Target) -> datetime.date | None:
    at = (TransitionEvent.objects.filter(target=target, to_state=State.CLOSED)
          .order_by("-at", "-id").values_list("at", flat=True).first())
    return timezone.localdate(at) if at else None


@atomic
def inspection_record(*, target: Target, actor, passed: bool, findings: str = "",
                      done_on: datetime.date | None = None) -> Inspection:
    """A re-inspection of a closed target; a failed one moves the target to rebound.

    It fills the earliest visit still pending; a visit off the schedule gets its own row.
    """
    if not may(actor, target, Action.INSPECTION_RECORD):
        raise RemediationError(_("Only the street sub-command or the HQ office records a re-inspection."))
    target_lock(target.pk)  # first: one lock order everywhere (ledger.services.target_lock)
    target.refresh_from_db()
    if target.state != State.CLOSED:
        raise RemediationError(_("A re-inspection is recorded on a closed target only; this one is “%(state)s”.")
                               % {"state": target.get_state_display()})
    today, findings = timezone.localdate(), findings.strip()
    done_on = done_on or today
    closed_on = _closed_on(target)
    errors = {}
    if not isinstance(passed, bool):
        errors["passed"] = [_("Say whether the re-inspection passed.")]
    elif not passed and not findings:
        errors["findings"] = [_("A failed re-inspection needs its findings.")]
    if done_on > today:
        errors["done_on"] = [_("A re-inspection cannot be dated in the future.")]
    elif closed_on and done_on < closed_on:
        errors["done_on"] = [_("A re-inspection cannot predate the closing (%(day)s).") % {
            "day": closed_on.isoformat()}]
    if errors:
        raise ValidationError(errors)
    inspection = (Inspection.objects.filter(target=target, done_on__isnull=True).order_by("due_on", "id").first()
                  or Inspection(target=target, due_on=done_on))
    before = INSPECTION.snapshot(inspection) if inspection.pk else None
    done = {"done_on": done_on, "passed": passed, "findings": findings, "inspector": actor}
    for field, value in done.items():
        setattr(inspection, field, value)
    inspection.full_clean()
    if before is None:
        inspection.save()
    # Conditional: two inspectors filling the same visit at once do not overwrite each other.
    elif Inspection.objects.filter(pk=inspection.pk, done_on__isnull=True).update(**done) != 1:
        raise RemediationError(_("Someone recorded this re-inspection meanwhile; reload the page."))
    changelog_append(changes=[INSPECTION.change(inspection, "update" if before else "create", before,
                                                 INSPECTION.snapshot(inspection))],
                     actor=actor, reason=_("re-inspection recorded"))
    if not passed:
        _inspections_cancel(target=target, actor=actor)
        target_step(target=target, to=State.REBOUND, actor=None, comment=_(
            "Rebound found by the re-inspection of %(day)s (inspector %(inspector)s): %(findings)s") % {
            "day": done_on.isoformat(), "inspector": actor.get_username() if actor else _("system"),
            "findings": findings})
    return inspection


# Reads. Lists across targets start from the scoping rule, through the target.

def target_acceptances(target: Target):
    return (Acceptance.objects.filter(target=target).select_related("decided_by").prefetch_related("photos")
            .order_by("-decided_at", "-id"))


def target_inspections(target: Target):
    return Inspection.objects.filter(target=target).select_related("inspector").order_by("due_on", "id")


def inspections_overdue(user, campaign, on: datetime.date):
    """Visits due before `on` and not done, on closed targets the user sees, street by street."""
    return (Inspection.objects.filter(visible_q(user, prefix="target__"), target__campaign=campaign,
                                      target__state=State.CLOSED, done_on__isnull=True, due_on__lt=on)
            .select_related("target", "target__street")
            .order_by("target__street__sort", "target__street__code", "due_on", "target__code", "id"))


def rebound_rates(targets) -> dict:
    """Rebounded targets / targets ever closed, by street, by system and in all, counted in the database.

    A target counts as ever closed (or rebounded) when it is in that state now, or when its
    timeline shows it moved there; a target that rebounded and was closed again counts once in each.
    """
    def moved_to(state):
        return Exists(TransitionEvent.objects.filter(target=OuterRef("pk"), to_state=state))

    counts = {
        "closed": Count("pk", filter=Q(state__in=[State.CLOSED, State.REBOUND]) | Q(moved_to(State.CLOSED))),
        "rebounded": Count("pk", filter=Q(state=State.REBOUND) | Q(moved_to(State.REBOUND))),
    }
    rows = {
        kind: list(targets.values(field, label=F(field + "__name")).annotate(**counts)
                   .order_by(field + "__sort", field + "__code"))
        for kind, field in (("street", "street"), ("system", "system"))
    }
    rows["total"] = [dict(targets.aggregate(**counts), label=_("All targets"))]
    for row in (*rows["street"], *rows["system"], *rows["total"]):
        row["pct"] = 100 * row["rebounded"] / row["closed"] if row["closed"] else None
    return rows
