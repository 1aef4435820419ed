"""Writing and proving the change log.

Each entry's seal covers its content and the previous entry's seal, so editing or
deleting any row by hand breaks the chain from that row on, and `verify_history`
names it. Seals are HMAC-SHA256 under a key kept outside the database (core/keys.py):
someone who can write to the database cannot recompute them. Entries written before the
chain was keyed (ids below the head's `keyed_from`) keep their plain SHA-256; the head's
own seal covers `keyed_from`, so that boundary cannot be moved either.
"""

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from json.encoder import c_make_encoder, encode_basestring
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .bulk import insert_prepared, json_text_param
from .context import current_request_id
from .keys import chain_key
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
    # The target the record belongs to (core.snapshots declares it per model): which
    # target's history shows the entry. Kept beside the entry, not in its seal.
    target_id: int | None = None


def entry_hash(entry: ChangeLogEntry, prev_hash: str, key: bytes | None) -> str:
    """The seal a stored entry must have, given the one before it (key None: an entry from
    before the chain was keyed)."""
    return _digest(
        key, prev=prev_hash, before=_encode(entry.before), after=_encode(entry.after),
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


def _digest(key: bytes | None, /, **encoded: str) -> str:
    """HMAC-SHA256 under `key` (SHA-256 without one) of the entry's canonical JSON, from its
    values already encoded as JSON.

    The canonical form is `json.dumps(payload, sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))` of {prev, at, actor, actor_name, request, type, id, repr,
    action, before, after, reason}; it is put together from parts here because an
    import encodes each snapshot once, for the hash and for storing alike, and the
    parts that are the same for every entry of a batch once per batch.
    """
    canonical = _CANONICAL.format_map(encoded).encode()
    if key is None:
        return hashlib.sha256(canonical).hexdigest()
    return hmac.digest(key, canonical, "sha256").hex()


def _sealer(key: bytes | None, shared: dict[str, str]) -> Callable[..., str]:
    """`_digest` for the entries of one write, given the parts they share (`_write_parts`).

    The shared parts are put into the canonical form once; each entry's own parts are then
    joined between the pieces left, in the order the form has them (its keys' order). Per
    entry, format_map parsed the form again and took a dict of all twelve parts: a good part
    of sealing an import's 50,000 entries.
    """
    p = _CANONICAL.format_map(shared | dict.fromkeys(_OWN_PARTS, _GAP)).split(_GAP)
    encode = encode_basestring

    def seal(prev: str, object_type: str, object_id: str, object_repr: str, action: str, before: str,
             after: str) -> str:
        canonical = "".join((p[0], encode(action), p[1], after, p[2], before, p[3], encode(object_id), p[4], prev,
                             p[5], encode(object_repr), p[6], encode(object_type), p[7])).encode()
        if key is None:
            return hashlib.sha256(canonical).hexdigest()
        return hmac.digest(key, canonical, "sha256").hex()

    return seal


def head_seal(key: bytes, *, keyed_from: int, last_id: int, last_hash: str) -> str:
    """The chain head's own seal: truncating the chain or moving the keyed boundary breaks it."""
    return hmac.digest(key, ("head:%d:%d:%s" % (keyed_from, last_id, last_hash)).encode(), "sha256").hex()


# The payload's keys in sorted order, as json.dumps(sort_keys=True) writes them; `prev`
# is a hex digest and needs no escaping.
_CANONICAL = ('{{"action":{action},"actor":{actor},"actor_name":{actor_name},"after":{after},"at":{at},'
              '"before":{before},"id":{id},"prev":"{prev}","reason":{reason},"repr":{repr},'
              '"request":{request},"type":{type}}}')


# An entry's own parts, in the order the canonical form has them, and what stands in for each
# while the shared ones are put in (encoded JSON escapes a NUL, so no part holds one).
_OWN_PARTS = ("action", "after", "before", "id", "prev", "repr", "type")
_GAP = "\0"


def _encode(value) -> str:
    """A snapshot as canonical JSON: "null" for none (stored as NULL)."""
    if value is None:
        return "null"
    return "".join(_canonical_json(value, 0))


# What json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")) uses, made
# once: json.dumps makes a new encoder for every call given options, and the encoder's encode()
# makes its C encoder anew at every call (an import encodes two snapshots per changed row). No
# markers: a snapshot holds no cycles (one would end in RecursionError, not ValueError).
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
_canonical_json = c_make_encoder(
    None, _CANONICAL_JSON.default, encode_basestring, None, _CANONICAL_JSON.key_separator,
    _CANONICAL_JSON.item_separator, True, False, True) if c_make_encoder else _CANONICAL_JSON.iterencode


def changelog_head_hash() -> str:
    """The hash of the log's last entry: whatever is logged moves it on, and no other state of
    the log has it (not even one restored from a backup and written on since), so a figure
    cached under it is current as long as it is."""
    return ChainHead.objects.filter(pk=1).values_list("last_hash", flat=True).first() or ""


def changelog_append(*, changes: list[Change], actor=None, reason: str = "") -> int:
    """Append entries for `changes`, in order, inside the caller's transaction (or, inside
    `changelog_batch`, with the batch's other entries when it ends)."""
    if not changes:
        return 0
    now = timezone.now()
    request_id = current_request_id()
    actor_name = actor.get_username() if actor else ""
    actor_id = actor.pk if actor else None
    shared = _write_parts(at=now, actor_id=actor_id, actor_name=actor_name, request_id=request_id, reason=reason)
    connection = connections[DEFAULT_DB_ALIAS]
    field = ChangeLogEntry._meta.get_field
    fixed = (field("at").get_db_prep_save(now, connection), actor_id, actor_name,
             field("request_id").get_db_prep_save(request_id, connection), reason)
    write = (shared, fixed, changes)
    batch = _BATCH.get()
    if batch is None:
        with transaction.atomic():
            _write([write])
    else:
        batch.writes.append(write)
        batch.entries += len(changes)
        if batch.entries >= BATCH_FLUSH:
            _write(batch.writes)
            batch.writes, batch.entries = [], 0
    return len(changes)


@dataclass
class _Batch:
    """Writes waiting in a `changelog_batch`: (encoded shared parts, stored shared values, changes)."""

    writes: list
    entries: int = 0


_BATCH: ContextVar[_Batch | None] = ContextVar("taizhang_changelog_batch", default=None)
BATCH_FLUSH = 2000


@contextmanager
def changelog_batch():
    """The bulk form of the change log, for one transaction that makes many writes (the demo's
    story): inside, `changelog_append` keeps each write's entries, with its own time, actor,
    request and reason, and they are written together, in order, when the batch ends (every
    2,000 entries on the way). The entries and their seals are the ones appending them one by one
    would have made; what is saved is the head's lock and update, and the insert, per write.

    Only inside a transaction that holds every write of the batch: the entries are written
    before it commits, and none if it fails. Nothing may read the log in between.
    """
    if _BATCH.get() is not None:
        yield
        return
    if not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        raise RuntimeError("changelog_batch() needs a transaction around it")
    batch = _Batch([])
    token = _BATCH.set(batch)
    try:
        yield
        if batch.writes:
            _write(batch.writes)
    finally:
        _BATCH.reset(token)


def _write(writes: list[tuple[dict, tuple, list[Change]]]) -> None:
    """Seal the writes' entries after the chain's head, insert them and move the head, under its lock."""
    # Locking the head row serialises appends on PostgreSQL; on SQLite the
    # IMMEDIATE transaction already holds the write lock. A migration makes the row;
    # it is made here only in a database emptied since (a test's flush).
    head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
    key = chain_key()
    json_param = json_text_param(connections[DEFAULT_DB_ALIAS])
    prev, rows = head.last_hash, []
    for shared, fixed, changes in writes:
        seal = _sealer(key, shared)
        for change in changes:
            object_id, object_repr = str(change.object_id), change.object_repr[:255]
            before, after = _encode(change.before), _encode(change.after)
            digest = seal(prev, change.object_type, object_id, object_repr, change.action, before, after)
            rows.append((*fixed, change.object_type, object_id, object_repr, change.action,
                         None if change.before is None else json_param(before),
                         None if change.after is None else json_param(after), prev, digest, change.target_id))
            prev = digest
    insert_prepared(ChangeLogEntry, _COLUMNS, rows)
    last_id = ChangeLogEntry.objects.filter(hash=prev).values_list("id", flat=True).get()
    ChainHead.objects.filter(pk=1).update(last_hash=prev, last_id=last_id, seal=head_seal(
        key, keyed_from=head.keyed_from, last_id=last_id, last_hash=prev))


_COLUMNS = ["at", "actor_id", "actor_name", "request_id", "reason", "object_type", "object_id", "object_repr",
            "action", "before", "after", "prev_hash", "hash", "target_id"]


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold."""

    entry_id: int | None
    problem: str


@dataclass(frozen=True)
class Digest:
    """The chain's head at one moment (日终摘要), to be printed or signed and kept outside the
    system; `changelog_verify(against=...)` proves the chain still holds that head."""

    made_at: str  # ISO time in UTC
    last_id: int
    last_hash: str
    seal: str

    PREFIX = "taizhang-digest:v1"

    def __str__(self):
        return ":".join((self.PREFIX, self.made_at, str(self.last_id), self.last_hash, self.seal))

    @classmethod
    def parse(cls, text: str) -> "Digest":
        """The digest found in `text` (a printed page, a file, the line itself); ValueError if none."""
        found = _DIGEST.search(text)
        if found is None:
            raise ValueError("no digest found: expected %s:TIME:ENTRY:HASH:SEAL" % cls.PREFIX)
        return cls(found["at"], int(found["id"]), found["hash"], found["seal"])

    def expected_seal(self, key: bytes) -> str:
        return hmac.digest(key, ("digest:%s:%d:%s" % (self.made_at, self.last_id, self.last_hash)).encode(),
                           "sha256").hex()


_DIGEST = re.compile(r"taizhang-digest:v1:(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00):(?P<id>\d+):"
                     r"(?P<hash>[0-9a-f]{64}):(?P<seal>[0-9a-f]{64})", re.ASCII)


def digest_make() -> Digest:
    """A digest of the chain as it stands now."""
    head = ChainHead.objects.get(pk=1)
    made_at = timezone.now().astimezone(UTC).isoformat(timespec="seconds")
    digest = Digest(made_at, head.last_id, head.last_hash, "")
    return Digest(made_at, head.last_id, head.last_hash, digest.expected_seal(chain_key()))


def changelog_verify(*, against: Digest | None = None) -> Iterator[int | Break]:
    """Walk the chain in order; yield each entry id checked, then a Break if one is found.

    With `against`, the entry the digest names must still be in the chain with the seal
    the digest recorded.
    """
    key = chain_key()
    if against is not None and not hmac.compare_digest(against.seal, against.expected_seal(key)):
        yield Break(against.last_id, "digest-forged")
        return
    head = ChainHead.objects.filter(pk=1).first()
    keyed_from = head.keyed_from if head else 1
    if head and not hmac.compare_digest(head.seal, head_seal(key, keyed_from=head.keyed_from,
                                                             last_id=head.last_id, last_hash=head.last_hash)):
        yield Break(head.last_id, "head-altered")
        return
    prev = GENESIS
    last_id = 0
    digest_found = False
    for entry in ChangeLogEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != prev:
            yield Break(entry.pk, "missing-before")
            return
        if entry_hash(entry, prev, key if entry.pk >= keyed_from else None) != entry.hash:
            yield Break(entry.pk, "altered")
            return
        if against is not None and entry.pk == against.last_id:
            if entry.hash != against.last_hash:
                yield Break(entry.pk, "digest-differs")
                return
            digest_found = True
        prev, last_id = entry.hash, entry.pk
        yield entry.pk
    if head and (head.last_hash != prev or head.last_id != last_id):
        yield Break(head.last_id, "missing-after")
        return
    if against is not None and against.last_id and not digest_found:
        yield Break(against.last_id, "digest-missing")


# What each Break means, for the command line and the change-log page alike.
PROBLEMS = {
    "altered": _("entry #%(entry)s was altered after it was written (its seal does not match its content)"),
    "missing-before": _("the chain is broken at entry #%(entry)s: an entry before it was removed or inserted"),
    "missing-after": _("entries after #%(entry)s were removed (the chain head does not match the last entry)"),
    "head-altered": _("the chain head (last entry #%(entry)s) was altered: its seal does not match it"),
    "digest-forged": _("the digest (entry #%(entry)s) was not made with this installation's key"),
    "digest-differs": _("entry #%(entry)s is not the one the digest recorded: history up to it was rewritten"),
    "digest-missing": _("entry #%(entry)s, which the digest recorded, is no longer in the chain"),
}


@dataclass(frozen=True)
class Mismatch:
    """A stored record that is not what its change log says it became."""

    object_type: str
    object_id: str
    field: str  # "" when the record itself is missing on one side
    logged: Any
    stored: Any


# object type -> (stored snapshots of the records with these ids, the ids of every stored record),
# registered by the app that owns the records; the log is replayed against them.
_REPLAYS: dict[str, tuple[Callable[[list[str]], dict[str, dict]], Callable[[], set[str]]]] = {}
REPLAY_CHUNK = 2000


def replay_register(object_type: str, *, stored: Callable[[list[str]], dict[str, dict]],
                    stored_ids: Callable[[], set[str]]) -> None:
    """Have `changelog_replay` compare records of this type with their log.

    `stored(ids)` gives the records as their log entries snapshot them, by object id;
    `stored_ids()` the ids of all of them.
    """
    _REPLAYS[object_type] = (stored, stored_ids)


def changelog_replay() -> Iterator[Mismatch]:
    """Every stored record whose values differ from what its latest log entry says it became,
    field by field, and every record stored without an entry or logged without a record.

    What the log says is each record's latest snapshot: every entry keeps the record whole.
    A value written around the services (a hand-made UPDATE, a service that logged a stale
    read) shows up here.
    """
    for object_type, (stored, stored_ids) in _REPLAYS.items():
        latest = dict(ChangeLogEntry.objects.filter(object_type=object_type).values("object_id")
                      .annotate(last=Max("id")).values_list("object_id", "last"))
        ids = stored_ids()
        for object_id in sorted(ids - latest.keys(), key=_natural):
            yield Mismatch(object_type, object_id, "", None, "stored, never logged")
        logged = sorted(latest, key=_natural)
        for start in range(0, len(logged), REPLAY_CHUNK):
            chunk = logged[start:start + REPLAY_CHUNK]
            afters = dict(ChangeLogEntry.objects.filter(id__in=[latest[i] for i in chunk])
                          .values_list("object_id", "after"))
            rows = stored([i for i in chunk if i in ids])
            for object_id in chunk:
                yield from _compare(object_type, object_id, afters[object_id], rows.get(object_id))


def _compare(object_type: str, object_id: str, after: dict | None, row: dict | None) -> Iterator[Mismatch]:
    if after is None or row is None:
        if (after is None) != (row is None):
            yield Mismatch(object_type, object_id, "", after and "logged", row and "stored")
        return
    for name, value in row.items():
        if name in after and after[name] != value:
            yield Mismatch(object_type, object_id, name, after[name], value)


def _natural(object_id: str):
    return (len(object_id), object_id)


@dataclass(frozen=True)
class Verdict:
    """What `history_verify` found: the entries checked, the first break (if any), and, when
    the chain holds, the stored records that differ from their log."""

    checked: int
    broken: Break | None
    mismatches: list[Mismatch]

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.mismatches

    def problem(self) -> str:
        """The break in words, in the active language ("" if none)."""
        if self.broken is None:
            return ""
        return PROBLEMS[self.broken.problem] % {"entry": self.broken.entry_id}


def history_verify(*, against: Digest | None = None, progress: Callable[[], Any] | None = None) -> Verdict:
    """The whole check `verify_history` and the change-log page run: the chain walked entry by
    entry (`progress` called after each), then, if it holds, the stored records replayed
    against their latest entries."""
    checked = 0
    for item in changelog_verify(against=against):
        if isinstance(item, Break):
            return Verdict(checked, item, [])
        checked += 1
        if progress is not None:
            progress()
    return Verdict(checked, None, [*changelog_replay(), *(m for check in _CHECKS for m in check())])


# Further checks of stored records against the log (core.snapshots: each entry's target).
_CHECKS: list[Callable[[], Iterator[Mismatch]]] = []


def check_register(check: Callable[[], Iterator[Mismatch]]) -> None:
    """Have `history_verify` also run `check`, after the replay."""
    _CHECKS.append(check)
