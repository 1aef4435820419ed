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
from json.encoder import encode_basestring
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from .bulk import insert_prepared, json_text_param
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
    """The hash a stored entry must have, given the hash before it."""
    return _digest(
        prev=prev_hash, before=_encode(entry.before), after=_encode(entry.after),
        **_write_parts(at=entry.at, actor_id=entry.actor_id, actor_name=entry.actor_name,
                       request_id=entry.request_id, reason=entry.reason),
        **_record_parts(object_type=entry.object_type, object_id=str(entry.object_id),
                        object_repr=entry.object_repr, action=entry.action))


def _write_parts(*, at, actor_id, actor_name: str, request_id, reason: str) -> dict[str, str]:
    """The parts of the canonical form that one write shares across its entries, encoded."""
    return {"at": encode_basestring(at.astimezone(UTC).isoformat(timespec="microseconds")),
            "actor": json.dumps(actor_id), "actor_name": encode_basestring(actor_name),
            "request": encode_basestring(str(request_id)) if request_id else "null",
            "reason": encode_basestring(reason)}


def _record_parts(*, object_type: str, object_id: str, object_repr: str, action: str) -> dict[str, str]:
    """The parts naming the record and what was done to it, encoded."""
    return {"type": encode_basestring(object_type), "id": encode_basestring(object_id),
            "repr": encode_basestring(object_repr), "action": encode_basestring(action)}


def _digest(**encoded: str) -> str:
    """SHA-256 of the entry's canonical JSON, from its values already encoded as JSON.

    The canonical form is `json.dumps(payload, sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))` of {prev, at, actor, actor_name, request, type, id, repr,
    action, before, after, reason}; it is put together from parts here because an
    import encodes each snapshot once, for the hash and for storing alike, and the
    parts that are the same for every entry of a batch once per batch.
    """
    return hashlib.sha256(_CANONICAL.format_map(encoded).encode()).hexdigest()


# The payload's keys in sorted order, as json.dumps(sort_keys=True) writes them; `prev`
# is a hex digest and needs no escaping.
_CANONICAL = ('{{"action":{action},"actor":{actor},"actor_name":{actor_name},"after":{after},"at":{at},'
              '"before":{before},"id":{id},"prev":"{prev}","reason":{reason},"repr":{repr},'
              '"request":{request},"type":{type}}}')


def _encode(value) -> str:
    """A snapshot as canonical JSON: "null" for none (stored as NULL)."""
    if value is None:
        return "null"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@transaction.atomic
def changelog_append(*, changes: list[Change], actor=None, reason: str = "") -> int:
    """Append entries for `changes`, in order, inside the caller's transaction."""
    if not changes:
        return 0
    # Locking the head row serialises appends on PostgreSQL; on SQLite the
    # IMMEDIATE transaction already holds the write lock. A migration makes the row;
    # it is made here only in a database emptied since (a test's flush).
    head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
    connection = connections[DEFAULT_DB_ALIAS]
    now = timezone.now()
    request_id = current_request_id()
    actor_name = actor.get_username() if actor else ""
    actor_id = actor.pk if actor else None
    shared = _write_parts(at=now, actor_id=actor_id, actor_name=actor_name, request_id=request_id, reason=reason)
    field = ChangeLogEntry._meta.get_field
    fixed = (field("at").get_db_prep_save(now, connection), actor_id, actor_name,
             field("request_id").get_db_prep_save(request_id, connection), reason)
    json_param = json_text_param(connection)
    prev, rows = head.last_hash, []
    for change in changes:
        object_id, object_repr = str(change.object_id), change.object_repr[:255]
        before, after = _encode(change.before), _encode(change.after)
        digest = _digest(prev=prev, before=before, after=after, **shared, **_record_parts(
            object_type=change.object_type, object_id=object_id, object_repr=object_repr, action=change.action))
        rows.append((*fixed, change.object_type, object_id, object_repr, change.action,
                     None if change.before is None else json_param(before),
                     None if change.after is None else json_param(after), prev, digest))
        prev = digest
    insert_prepared(ChangeLogEntry, _COLUMNS, rows)
    last_id = ChangeLogEntry.objects.filter(hash=prev).values_list("id", flat=True).get()
    ChainHead.objects.filter(pk=1).update(last_hash=prev, last_id=last_id)
    return len(rows)


_COLUMNS = ["at", "actor_id", "actor_name", "request_id", "reason", "object_type", "object_id", "object_repr",
            "action", "before", "after", "prev_hash", "hash"]


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
