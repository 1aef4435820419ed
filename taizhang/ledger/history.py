"""The targets as their change-log entries snapshot them, for replaying the log against the
stored ledger (`verify_history`)."""

from taizhang.core.changelog import replay_register

from .columns import TARGET
from .exporting import VALUE_PATHS
from .models import Target


def stored_snapshots(ids: list[str]) -> dict[str, dict]:
    """{target id: its stored row in snapshot form}, in one query."""
    return {str(pk): row for pk, row in TARGET.stored(Target.objects.filter(pk__in=ids), paths=VALUE_PATHS)}


def stored_ids() -> set[str]:
    return {str(pk) for pk in Target.objects.values_list("pk", flat=True)}


def register() -> None:
    replay_register(TARGET.object_type, stored=stored_snapshots, stored_ids=stored_ids)
