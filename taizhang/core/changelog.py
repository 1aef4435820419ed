"""Writing and proving the change log.

Each entry's hash covers its content and the previous entry's hash, so editing or
deleting any row by hand breaks the chain from that row on, and `verify_history`
names it.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import transaction
from django.utils import timezone

from .bulk import concrete_field_names, insert_rows
from .context import current_request_id
from .models import ChainHead, ChangeLogEntry

GENESIS = "0" * 64


@dataclass(frozen=True)
class Change:
    """What one write did to one record, before it becomes a log entry."""

    object_type: str
    object_id: str
    object_repr: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def entry_hash(entry: ChangeLogEntry, prev_hash: str) -> str:
    payload = {
        "prev": prev_hash,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "request": str(entry.request_id) if entry.request_id else None,
        "type": entry.object_type,
        "id": str(entry.object_id),
        "repr": entry.object_repr,
        "action": entry.action,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def changelog_append(*, changes: list[Change], actor=None, reason: str = "") -> int:
    """Append entries for `changes`, in order, inside the caller's transaction."""
    if not changes:
        return 0
    # Locking the head row serialises appends on PostgreSQL; on SQLite the
    # IMMEDIATE transaction already holds the write lock.
    head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
    now = timezone.now()
    request_id = current_request_id()
    actor_name = actor.get_username() if actor else ""
    prev, entries = head.last_hash, []
    for change in changes:
        entry = ChangeLogEntry(
            at=now, actor=actor, actor_name=actor_name, request_id=request_id,
            object_type=change.object_type, object_id=str(change.object_id),
            object_repr=change.object_repr[:255], action=change.action,
            before=change.before, after=change.after, reason=reason, prev_hash=prev,
        )
        entry.hash = prev = entry_hash(entry, prev)
        entries.append(entry)
    insert_rows(ChangeLogEntry, entries, concrete_field_names(ChangeLogEntry))
    last_id = ChangeLogEntry.objects.filter(hash=prev).values_list("id", flat=True).get()
    ChainHead.objects.filter(pk=1).update(last_hash=prev, last_id=last_id)
    return len(entries)


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold."""

    entry_id: int | None
    problem: str


def changelog_verify() -> Iterator[int | Break]:
    """Walk the chain in order; yield each entry id checked, then a Break if one is found."""
    prev = GENESIS
    last_id = 0
    for entry in ChangeLogEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != prev:
            yield Break(entry.pk, "missing-before")
            return
        if entry_hash(entry, prev) != entry.hash:
            yield Break(entry.pk, "altered")
            return
        prev, last_id = entry.hash, entry.pk
        yield entry.pk
    head = ChainHead.objects.filter(pk=1).first()
    if head and (head.last_hash != prev or head.last_id != last_id):
        yield Break(head.last_id, "missing-after")
