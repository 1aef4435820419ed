"""Writes of the joint verification, each with its change-log entry (the workflow steps: workflow.py)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may
from taizhang.core.changelog import changelog_append
from taizhang.core.coordinates import CoordinateSystem
from taizhang.core.db import atomic
from taizhang.ledger.checking import location_problem
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_lock, target_update

from .checks import RemediationError
from .models import Tenant, Verification
from .snapshots import VERIFICATION

# Verified facts that, once both parties confirm, correct the ledger.
LEDGER_FACTS = ("rented_floor_area", "resident_population", "business_count", "hazards", "longitude", "latitude")


@atomic
def verification_record(*, target: Target, actor, facts: dict, tenants: list[dict] = ()) -> Verification:
    """Record what was found on site; it counts once the street and the rights holder confirm."""
    if not may(actor, target, Action.VERIFICATION_RECORD):
        raise RemediationError(_("Your role may not record a verification for this target."))
    # A point read on site (a phone's or a GPS's: WGS-84) must lie in the district, as the
    # ledger it will correct checks every point (ledger.checking.location_problem).
    point = [facts.get(name) if facts.get(name) is not None else getattr(target, name)
             for name in ("longitude", "latitude")]
    if any(facts.get(name) is not None for name in ("longitude", "latitude")) and (
            problem := location_problem(target.campaign.map_box(), *point, CoordinateSystem.WGS84)):
        raise RemediationError(problem[1])
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
    locked = target_lock(target.pk)  # first: one lock order everywhere (ledger.services.target_lock)
    if may(actor, locked, Action.VERIFICATION_CONFIRM_STREET):
        side = "street"
    elif may(actor, locked, Action.VERIFICATION_CONFIRM_HOLDER):
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
        if "longitude" in changes or "latitude" in changes:
            changes["coordinate_system"] = CoordinateSystem.WGS84  # read on site, as phones and GPS give it
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
