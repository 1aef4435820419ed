"""Every write to the ledger goes through these functions, with its change-log entry."""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.campaigns.models import Campaign
from taizhang.core.bulk import concrete_field_names, insert_rows, update_rows
from taizhang.core.changelog import Change, changelog_append

from .columns import BY_FIELD, COLUMNS, snapshot_value
from .models import Target
from .priorities import RULE_FIELDS, campaign_rules, priority_set

OBJECT_TYPE = "ledger.target"
LABEL_FIELDS = ("target_type", "street", "system", "responsible_unit")


class LedgerError(ValueError):
    """A write the ledger refuses; the message says why."""


def target_snapshot(target: Target) -> dict:
    """The target as the change log keeps it: every column, labels by name."""
    data = {}
    for column in COLUMNS:
        if column.field in LABEL_FIELDS:
            related = getattr(target, column.field)
            data[column.field] = related.name if related else None
        else:
            data[column.field] = snapshot_value(column, getattr(target, column.field))
    return data


def target_change(target: Target, action: str, before: dict | None, after: dict | None) -> Change:
    return Change(OBJECT_TYPE, str(target.pk), str(target), action, before, after)


def _clean_flags(target: Target) -> None:
    """Flags as a sorted list of known codes (the model field is plain JSON)."""
    flags = target.flags if isinstance(target.flags, list | tuple | set) else None
    unknown = [f for f in flags or () if f not in Target.Flag.values]
    if flags is None or unknown:
        raise ValidationError({"flags": _("Unknown situation flags: %(flags)s") % {
            "flags": ", ".join(map(str, unknown or [target.flags]))}})
    target.flags = sorted(set(flags))


@transaction.atomic
def target_create(*, actor, reason: str = "", **fields) -> Target:
    target = Target(**fields)
    _clean_flags(target)
    target.full_clean()
    priority_set(target, campaign_rules(target.campaign))
    target.save()
    changelog_append(changes=[target_change(target, "create", None, target_snapshot(target))],
                     actor=actor, reason=reason)
    return target


@transaction.atomic
def target_update(*, target: Target, actor, changes: dict, expected_version: int | None = None,
                  reason: str = "") -> Target:
    """Change fields of one target; refuses if someone else changed it since `expected_version`."""
    unknown = [f for f in changes if f not in BY_FIELD or BY_FIELD[f].kind == "readonly"]
    if unknown:
        raise LedgerError(_("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(unknown)})
    before = target_snapshot(target)
    version = target.version if expected_version is None else expected_version
    for field, value in changes.items():
        setattr(target, field, value)
    _clean_flags(target)
    target.full_clean(validate_unique=False, validate_constraints=False)
    fields = list(changes)
    if RULE_FIELDS.intersection(changes):
        priority_set(target, campaign_rules(target.campaign))
        fields += ["priority_reasons", "priority_rank"]
    # Conditional update: only one of two concurrent editors can move the version on.
    updated = Target.objects.filter(pk=target.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **{f: getattr(target, f) for f in fields})
    if updated != 1:
        raise LedgerError(_("Someone else changed this target meanwhile; reload and try again."))
    target.refresh_from_db()
    after = target_snapshot(target)
    changelog_append(changes=[target_change(target, "update", before, after)], actor=actor, reason=reason)
    return target


@transaction.atomic
def targets_bulk_save(*, creates: list[Target], updates: list[tuple[Target, dict]], actor, reason: str,
                      extra_changes: list[Change] = ()) -> None:
    """Write many targets at once (import, demo): new ones, changed ones with their
    before-snapshots, and one change-log entry each, all in the caller's transaction.

    Each target's priority is set from its campaign's rules on the way: one query for the
    rules, none per row (street and system are the objects the caller assigned or loaded)."""
    rules = {pk: r.get("priority_rules", []) for pk, r in Campaign.objects.filter(
        pk__in={t.campaign_id for t in creates} | {t.campaign_id for t, _b in updates}).values_list("pk", "rules")}
    for target in creates:
        priority_set(target, rules[target.campaign_id])
    _insert_targets(creates)
    changes = list(extra_changes)
    changes += [target_change(t, "create", None, target_snapshot(t)) for t in creates]
    groups = defaultdict(list)
    for target, before in updates:
        after = target_snapshot(target)
        changes.append(target_change(target, "update", before, after))
        changed = tuple(sorted(k for k in after if k not in ("state", "version") and after[k] != before.get(k)))
        if priority_set(target, rules[target.campaign_id]):
            changed += ("priority_reasons", "priority_rank")
        groups[changed].append(target)
    for fields, targets in groups.items():
        update_rows(Target, targets, [*fields, "version", "updated_at"])
    changelog_append(changes=changes, actor=actor, reason=reason)


def _insert_targets(targets: list[Target]) -> None:
    """Insert new targets, then read back their ids by code (executemany returns none)."""
    if not targets:
        return
    insert_rows(Target, targets, concrete_field_names(Target))
    by_code = {(t.campaign_id, t.code): t for t in targets}
    codes = [t.code for t in targets]
    for start in range(0, len(codes), 2000):
        found = Target.objects.filter(campaign_id__in={t.campaign_id for t in targets},
                                      code__in=codes[start:start + 2000])
        for pk, campaign_id, code in found.values_list("pk", "campaign_id", "code"):
            by_code[(campaign_id, code)].pk = pk
    for target in targets:
        target._state.adding = False
