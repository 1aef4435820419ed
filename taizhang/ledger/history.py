"""The targets as their change-log entries snapshot them, for replaying the log against the
stored ledger (`verify_history`)."""

from taizhang.core.changelog import replay_register

from .columns import COLUMNS, snapshot_value
from .exporting import VALUE_PATHS
from .models import Target
from .services import OBJECT_TYPE

# Written by workflow steps beside the columns (remediation.workflow.hold_snapshot).
HOLD_FIELDS = ("held_from", "hold_reason", "hold_review_on")


def stored_snapshots(ids: list[str]) -> dict[str, dict]:
    """{target id: its stored row in snapshot form}, in one query."""
    paths = [VALUE_PATHS.get(c.field, c.field) for c in COLUMNS]
    rows = {}
    for pk, *values in Target.objects.filter(pk__in=ids).values_list("pk", *paths, *HOLD_FIELDS):
        row = {c.field: snapshot_value(c, v) for c, v in zip(COLUMNS, values, strict=False)}
        held_from, hold_reason, hold_review_on = values[len(COLUMNS):]
        row |= {"held_from": held_from, "hold_reason": hold_reason,
                "hold_review_on": hold_review_on.isoformat() if hold_review_on else None}
        rows[str(pk)] = row
    return rows


def stored_ids() -> set[str]:
    return {str(pk) for pk in Target.objects.values_list("pk", flat=True)}


def register() -> None:
    replay_register(OBJECT_TYPE, stored=stored_snapshots, stored_ids=stored_ids)
