"""Every write to the ledger goes through these functions, with its change-log entry."""

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.campaigns.snapshots import ORG_UNIT
from taizhang.core.bulk import concrete_field_names, insert_rows, update_rows
from taizhang.core.changelog import Change, changelog_append
from taizhang.core.db import atomic
from taizhang.core.errors import ConflictError, ServiceError
from taizhang.core.parsing import ValueProblem

from .checking import LOCATION_FIELDS, location_problem, value_check
from .columns import BY_FIELD, LABEL_FIELDS, TARGET
from .models import Target
from .priorities import RULE_FIELDS, campaign_rules, priority_reasons, priority_set

OBJECT_TYPE = TARGET.object_type
LOCATION_FIELDS_SET = frozenset(LOCATION_FIELDS)


class LedgerError(ServiceError):
    """A write the ledger refuses; the message says why."""


class TargetConflict(LedgerError, ConflictError):
    """The target changed since the writer read it."""


def target_snapshot(target: Target) -> dict:
    """The target as the change log keeps it (columns.TARGET): every column and the hold, labels by name."""
    return TARGET.snapshot(target)


def values_snapshot(values: dict) -> dict:
    """`target_snapshot` of a target given as {field: value} for every field, labels as objects."""
    return TARGET.row_values(values)


def snapshot_fields(values: dict) -> dict:
    """Some of a target's fields, given as {field: value}, in the form a snapshot keeps them."""
    return TARGET.values(values)


def target_change(target: Target, action: str, before: dict | None, after: dict | None) -> Change:
    return TARGET.change(target, action, before, after)


def target_clean(target: Target, fields) -> None:
    """Check the given fields of a target with the import's own checks (checking.value_check),
    storing each value as the ledger keeps it, then as the model says (`full_clean`)."""
    errors = {}
    for name in fields:
        column = BY_FIELD[name]
        value = getattr(target, name)
        if column.kind == "readonly" or value is None or value == "":
            continue
        try:
            value = value_check(column, value)
        except ValueProblem as exc:
            errors[name] = str(exc)
            continue
        if column.kind == "label" and not isinstance(value, str) and value.campaign_id != target.campaign_id:
            errors[name] = _("“%(value)s” belongs to another campaign.") % {"value": value}
            continue
        setattr(target, name, value)
    if not errors and LOCATION_FIELDS_SET.intersection(fields):
        problem = location_problem(target.campaign.map_box(), target.longitude, target.latitude,
                                   target.coordinate_system)
        if problem is not None:
            errors.update(dict.fromkeys(problem[0], problem[1]))
    if errors:
        raise ValidationError(errors)


def rights_units_make(campaign: Campaign,
                      systems: dict[str, OrgUnit | None]) -> tuple[dict[str, OrgUnit], list[Change]]:
    """Responsible units named (in a file, in a form) but not yet known become rights units
    of their system: {name: unit}, and the change-log entries for the caller to append."""
    created, changes = {}, []
    existing = OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.RIGHTS_UNIT).count()
    for offset, (name, system) in enumerate(sorted(systems.items()), start=1):
        unit = OrgUnit.objects.create(
            campaign=campaign, kind=OrgUnit.Kind.RIGHTS_UNIT, code="U%05d" % (existing + offset),
            name=name, parent=system)
        created[name] = unit
        changes.append(ORG_UNIT.created(unit))
    return created, changes


@atomic
def target_create(*, actor, reason: str = "", **fields) -> Target:
    target = Target(**fields)
    target_clean(target, [name for name in fields if name in BY_FIELD])
    target.full_clean()
    priority_set(target, campaign_rules(target.campaign))
    target.save()
    changelog_append(changes=[target_change(target, "create", None, target_snapshot(target))],
                     actor=actor, reason=reason)
    return target


def target_lock(pk: int) -> Target:
    """The target read afresh under a row lock, with the labels its snapshot names.

    Every service that writes a target, or logs what a target was, takes this lock first
    and the chain head's (in `changelog_append`) last: one order everywhere, so two writers
    never wait for each other in a circle. On SQLite the IMMEDIATE transaction already
    holds the database's write lock, and what is read here cannot change before the commit.
    """
    # NO KEY: rows that only refer to the target (a petition, an event) are still inserted meanwhile.
    locked = Target.objects.select_for_update(of=("self",), no_key=True)
    return locked.select_related(*LABEL_FIELDS, "campaign").get(pk=pk)


def targets_lock(pks: list[int]) -> dict[int, Target]:
    """`target_lock` for many targets in one query: {pk: target}, locked in the order of their ids."""
    locked = Target.objects.select_for_update(of=("self",), no_key=True).order_by("pk")
    found = {t.pk: t for t in locked.select_related(*LABEL_FIELDS, "campaign").filter(pk__in=pks)}
    if len(found) != len(set(pks)):
        raise Target.DoesNotExist("no target with id %s" % ", ".join(str(pk) for pk in set(pks) - found.keys()))
    return found


@atomic
def target_update(*, target: Target, actor, changes: dict, expected_version: int | None = None,
                  reason: str = "") -> Target:
    """Change fields of one target, logging what it was and what it became as stored.

    With `expected_version`, refuses if someone else changed it since (a form's version);
    without, the changes are applied to the target as it is now. The caller's object is
    brought up to date.
    """
    unknown = [f for f in changes if f not in BY_FIELD or BY_FIELD[f].kind == "readonly"]
    if unknown:
        raise LedgerError(_("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(unknown)})
    current = target_lock(target.pk)
    if expected_version is not None and current.version != expected_version:
        raise TargetConflict(_("Someone else changed this target meanwhile; reload and try again."))
    before = target_snapshot(current)
    changes, made = _with_new_unit(current, changes)
    for field, value in changes.items():
        setattr(current, field, value)
    target_clean(current, changes)
    current.full_clean(validate_unique=False, validate_constraints=False)
    fields = list(changes)
    if RULE_FIELDS.intersection(changes):
        priority_set(current, campaign_rules(current.campaign))
        fields += ["priority_reasons", "priority_rank"]
    current.version += 1
    current.updated_at = timezone.now()
    # Conditional on the version just read: a writer that bypassed the lock is caught, not overwritten.
    updated = Target.objects.filter(pk=current.pk, version=current.version - 1).update(
        version=current.version, updated_at=current.updated_at, **{f: getattr(current, f) for f in fields})
    if updated != 1:
        raise TargetConflict(_("Someone else changed this target meanwhile; reload and try again."))
    changelog_append(changes=[*made, target_change(current, "update", before, target_snapshot(current))],
                     actor=actor, reason=reason)
    target.refresh_from_db()
    return target


def _with_new_unit(target: Target, changes: dict) -> tuple[dict, list[Change]]:
    """`changes` with a responsible unit given by a name it does not know yet (as the import
    takes one) made a rights unit of the target's system, and that unit's change-log entry."""
    name = changes.get("responsible_unit")
    if not isinstance(name, str):
        return changes, []
    try:
        name = value_check(BY_FIELD["responsible_unit"], name)
    except ValueProblem as exc:
        raise ValidationError({"responsible_unit": str(exc)}) from None
    known = OrgUnit.objects.filter(campaign=target.campaign, kind=OrgUnit.Kind.RIGHTS_UNIT, name=name).first()
    if known is not None:
        return changes | {"responsible_unit": known}, []
    units, made = rights_units_make(target.campaign, {name: changes.get("system") or target.system})
    return changes | {"responsible_unit": units[name]}, made


@dataclass
class TargetUpdate:
    """A change to a stored target, for `targets_bulk_save`."""

    current: dict  # the stored target: pk, version and every column's value, labels as objects
    changes: dict  # field -> new value
    before: dict | None = None  # values_snapshot(current), if the caller has it already
    logged: dict | None = None  # snapshot_fields(changes), likewise


@atomic
def targets_bulk_save(*, campaign: Campaign, creates: list[dict], updates: list[TargetUpdate], actor,
                      reason: str, extra_changes: list[Change] = ()) -> None:
    """Write many targets at once (import, demo), with one change-log entry each, all in the
    caller's transaction. New targets are {field: value} (labels as objects, unset fields
    get their defaults); each target's priority is set from the campaign's rules on the way.

    Rows, not model instances: at 50,000 rows, building and reading back Target objects
    was a third of an import's time (docs/benchmarks.md).
    """
    rules = campaign_rules(campaign)
    now = timezone.now()
    changes = list(extra_changes)
    if creates:
        defaults = _defaults()
        rows = [_with_priority(defaults | values, rules) for values in creates]
        insert_rows(Target, rows, _INSERTED, constants={"campaign": campaign, "created_at": now, "updated_at": now})
        pks = _pks_by_code(campaign, [row["code"] for row in rows])
        changes += [Change(OBJECT_TYPE, str(pk), "%s %s" % (row["code"], row["name"]), "create", None,
                           values_snapshot(row), pk) for row in rows for pk in (pks[row["code"]],)]
    groups = defaultdict(list)
    for update in updates:
        current = update.current
        before = update.before or values_snapshot(current)
        after = before | (snapshot_fields(update.changes) if update.logged is None else update.logged)
        after["version"] = current["version"] + 1
        row = current | update.changes
        row["version"] = after["version"]
        changes.append(Change(OBJECT_TYPE, str(current["pk"]), "%s %s" % (row["code"], row["name"]), "update",
                              before, after, current["pk"]))
        changed = tuple(sorted(k for k in update.changes if k not in ("state", "version") and after[k] != before[k]))
        if RULE_FIELDS.intersection(update.changes):  # else it keeps its priority, as in target_update
            _with_priority(row, rules)
            if row["priority_reasons"] != current["priority_reasons"]:
                changed += ("priority_reasons", "priority_rank")
        groups[changed].append(row)
    for fields, rows in groups.items():
        update_rows(Target, rows, [*fields, "version"], constants={"updated_at": now})
    changelog_append(changes=changes, actor=actor, reason=reason)


def _with_priority(row: dict, rules: list[dict]) -> dict:
    reasons = priority_reasons(
        rules, system=_code(row["system"]), street=_code(row["street"]),
        texts=(row["address"], row["community"], row["name"]), flags=row["flags"])
    row["priority_reasons"], row["priority_rank"] = reasons, len(reasons)
    return row


def _code(unit) -> str | None:
    return None if unit is None else unit.code


# Every stored field of a new target but those `targets_bulk_save` sets for all rows alike.
_INSERTED = [name for name in concrete_field_names(Target) if name not in ("campaign", "created_at", "updated_at")]


def _defaults() -> dict:
    """A new target's value for each inserted field: one set per call, shared by that call's
    rows (the lists among them are never changed in place)."""
    fields = (Target._meta.get_field(name) for name in _INSERTED)
    return {field.name: field.get_default() for field in fields}


def _pks_by_code(campaign: Campaign, codes: list[str]) -> dict[str, int]:
    """The ids of targets just inserted (executemany returns none)."""
    pks = {}
    for start in range(0, len(codes), 2000):
        pks.update(Target.objects.filter(campaign=campaign, code__in=codes[start:start + 2000])
                   .values_list("code", "pk"))
    return pks
