"""Every write to the ledger goes through these functions, with its change-log entry."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.core.changelog import Change, changelog_append

from .columns import BY_FIELD, COLUMNS, snapshot_value
from .models import Target

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


@transaction.atomic
def target_create(*, actor, reason: str = "", **fields) -> Target:
    target = Target(**fields)
    target.full_clean()
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
    target.full_clean(validate_unique=False, validate_constraints=False)
    # Conditional update: only one of two concurrent editors can move the version on.
    fields = list(changes)
    updated = Target.objects.filter(pk=target.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **{f: getattr(target, f) for f in fields})
    if updated != 1:
        raise LedgerError(_("Someone else changed this target meanwhile; reload and try again."))
    target.refresh_from_db()
    after = target_snapshot(target)
    changelog_append(changes=[target_change(target, "update", before, after)], actor=actor, reason=reason)
    return target


@transaction.atomic
def targets_bulk_save(*, creates: list[Target], updates: list[tuple[Target, dict]], fields: list[str],
                      actor, reason: str, extra_changes: list[Change] = ()) -> None:
    """Write many targets at once (import, demo): new ones, changed ones with their
    before-snapshots, and one change-log entry each, all in the caller's transaction."""
    Target.objects.bulk_create(creates, batch_size=500)
    if updates:
        Target.objects.bulk_update([t for t, _before in updates], fields, batch_size=500)
    changes = list(extra_changes)
    changes += [target_change(t, "create", None, target_snapshot(t)) for t in creates]
    changes += [target_change(t, "update", before, target_snapshot(t)) for t, before in updates]
    changelog_append(changes=changes, actor=actor, reason=reason)
