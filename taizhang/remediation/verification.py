"""Writes of the joint verification, each with its change-log entry (the workflow steps: workflow.py)."""

from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may
from taizhang.core.changelog import changelog_append
from taizhang.core.coordinates import CoordinateSystem
from taizhang.core.db import atomic
from taizhang.ledger.checking import location_problem
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update, targets_lock

from .checks import RemediationError
from .models import Tenant, Verification
from .snapshots import VERIFICATION

# Verified facts that, once both parties confirm, correct the ledger.
LEDGER_FACTS = ("rented_floor_area", "resident_population", "business_count", "hazards", "longitude", "latitude")


@atomic
def verification_record(*, target: Target, actor, facts: dict, tenants: list[dict] = ()) -> Verification:
    """Record what was found on site; it counts once the street and the rights holder confirm."""
    return verifications_record(actor=actor, items=[{"target": target, "facts": facts, "tenants": tenants}])[0]


@atomic
def verifications_record(*, actor, items: list[dict]) -> list[Verification]:
    """Record several verifications at once (a street's survey entered in one sitting), all or
    none, each checked as `verification_record` checks one. Each item: target, facts, tenants."""
    verifications = []
    for item in items:
        target, facts = item["target"], item["facts"]
        if not may(actor, target, Action.VERIFICATION_RECORD):
            raise RemediationError(_("Your role may not record a verification for this target."))
        # A point read on site must lie in the district, in the system it was read in, as the
        # ledger it will correct checks every point (ledger.checking.location_problem).
        given = [facts.get(name) for name in ("longitude", "latitude")]
        if given != [None, None]:
            system = facts.get("coordinate_system") or CoordinateSystem.WGS84
            # One coordinate corrects the ledger's point in the ledger's system; in another, a
            # half point would be half of two points.
            if None in given and system != target.coordinate_system:
                raise RemediationError(_(
                    "The point is given in %(given)s, the ledger's in %(stored)s: give its longitude and latitude "
                    "both.") % {"given": CoordinateSystem(system).label,
                                "stored": CoordinateSystem(target.coordinate_system).label})
            point = [new if new is not None else getattr(target, name)
                     for new, name in zip(given, ("longitude", "latitude"), strict=True)]
            if problem := location_problem(target.campaign.map_box(), *point, system):
                raise RemediationError(problem[1])
        verification = Verification(target=item["target"], created_by=actor, **item["facts"])
        verification.full_clean()
        verifications.append(verification)
    verifications = Verification.objects.bulk_create(verifications)
    rows = []
    for verification, item in zip(verifications, items, strict=True):
        for tenant in item.get("tenants") or ():
            row = Tenant(verification=verification, **tenant)
            row.full_clean()
            rows.append(row)
    Tenant.objects.bulk_create(rows)
    prefetch_related_objects(verifications, "tenants")
    changelog_append(changes=[VERIFICATION.created(v) for v in verifications],
                     actor=actor, reason=_("verification recorded"))
    return verifications


@atomic
def verification_confirm(*, verification: Verification, actor) -> Verification:
    """One party signs off; when both have, the verified facts correct the ledger."""
    return verifications_confirm(verifications=[verification], actor=actor)[0]


@atomic
def verifications_confirm(*, verifications: list[Verification], actor) -> list[Verification]:
    """One party signs off several verifications at once, all or none, each as
    `verification_confirm` does one; each confirmed by both corrects the ledger."""
    targets = {v.target_id: v.target for v in verifications}
    if len(targets) != len(verifications):
        raise RemediationError(_("A target comes once in a round."))
    locked = targets_lock(list(targets))  # first: one lock order everywhere (ledger.services.target_lock)
    sides = []
    for verification in verifications:
        target = locked[verification.target_id]
        if may(actor, target, Action.VERIFICATION_CONFIRM_STREET):
            sides.append("street")
        elif may(actor, target, Action.VERIFICATION_CONFIRM_HOLDER):
            sides.append("holder")
        else:
            raise RemediationError(_("Only the street sub-command or the rights holder confirms a verification."))
    # As they stand under the targets' locks (the other side may have confirmed since the caller read them).
    fresh = Verification.objects.prefetch_related("tenants").in_bulk([v.pk for v in verifications])
    now, changes = timezone.now(), []
    for verification, side in zip(verifications, sides, strict=True):
        current = fresh[verification.pk]
        before = VERIFICATION.snapshot(current)
        # Conditional: a second confirmation by the same side, even at the same moment, is refused.
        updated = Verification.objects.filter(pk=verification.pk, **{side + "_confirmed_at__isnull": True}).update(
            **{side + "_confirmed_by": actor, side + "_confirmed_at": now})
        if updated != 1:
            message = _("This verification is already confirmed by your side.")
            raise RemediationError(message if len(verifications) == 1 else "%s: %s" % (current.target, message))
        setattr(current, side + "_confirmed_by", actor)
        setattr(current, side + "_confirmed_at", now)
        changes.append(VERIFICATION.change(current, "update", before, VERIFICATION.snapshot(current)))
        for column in Verification._meta.concrete_fields:
            setattr(verification, column.attname, getattr(current, column.attname))
    changelog_append(changes=changes, actor=actor, reason=_("verification confirmed"))
    for verification in verifications:
        if verification.confirmed:
            # Compared with the target as it stands under its lock, not as the caller loaded it.
            verification.target = target = locked[verification.target_id]
            changes = {f: v for f, _old, v in differences(verification)}
            if changes:
                target_update(target=target, actor=actor, changes=changes, reason=_("confirmed verification"))
    return verifications


def differences(verification: Verification) -> list[tuple[str, object, object]]:
    """(field, ledger value, verified value) where the verification found something else."""
    target = verification.target
    found = []
    for field in LEDGER_FACTS:
        value = getattr(verification, field)
        if value not in (None, "") and value != getattr(target, field):
            found.append((field, getattr(target, field), value))
    # A point is its numbers in its system: the same numbers in another system are another point.
    if verification.longitude is not None and verification.coordinate_system != target.coordinate_system:
        found += [(field, getattr(target, field), getattr(verification, field))
                  for field in ("longitude", "latitude") if field not in {f for f, _o, _v in found}]
        found.append(("coordinate_system", target.coordinate_system, verification.coordinate_system))
    if verification.land_rights_holder and verification.land_rights_holder != target.land_rights_unit:
        found.append(("land_rights_unit", target.land_rights_unit, verification.land_rights_holder))
    return found
