"""The ledger's history as spans of time (models.Standing), for figures over many days at once.

`asof.entries_on` says how the ledger stood at the end of one day by reading the change log.
The command room asks it for a hundred days over tens of thousands of targets; reading the log
that often is too slow. The projection holds the same answer as spans, one per run of a
target's entries that agree on what the figures count, so that a day's figures, or a burn-up
over every week, are a few SQL aggregates.

It is exact, out-of-order entries included. A target's entry k (ids in order) stands at the end
E of a day when it is the latest entry written before E: `at_k < E <= min(at_j for j > k)`. So
each new entry n ends every earlier span of its target that still stood at its time (`ends =
at_n` where `ends` is null or later), and opens a span of its own unless it agrees with the
target's open span and is not older than it, when it joins it. A span that ends before it
starts never stands at a day's end, but is kept: "ever in a state by day d" counts every entry
written by then, as the ledger's own filters do.

`standing_refresh` reads only the entries appended since its last run: the change log is
appended under its head's lock, so entry ids follow commit order and a watermark on the id
misses nothing. Everything the projection derives beyond the log (the priority rules, the
streets' and systems' codes they name, the time zone that sets a day's end) is in its
signature: when one changes, it is rebuilt from the log.
"""

import hashlib
import json
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Case, F, JSONField, OuterRef, Q, QuerySet, When
from django.utils import timezone

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.bulk import insert_rows, update_rows
from taizhang.core.db import atomic
from taizhang.core.models import ChangeLogEntry

from .asof import OBJECT_TYPE, snapshot_priority
from .models import DONE_STATES, Standing, StandingMark, Target
from .priorities import campaign_rules

# Bump when what a span holds, or how it is derived, changes: the next refresh rebuilds.
VERSION = "1"
CHUNK = 5000
# What a span counts by: a new entry that agrees on all of them joins the open span.
KEY = ("street", "system", "target_type", "state", "done", "pilot", "priority", "gone")
GONE = {"street": "", "system": "", "target_type": "", "state": "", "done": False, "pilot": False,
        "priority": False, "gone": True}


def standing_refresh() -> int:
    """Bring the projection up to the change log's last entry; the entries read (0: it was current)."""
    signature = _signature()
    mark = StandingMark.objects.filter(pk=1).first()
    if mark is not None and mark.signature == signature and not _log(mark.last_entry_id).exists():
        return 0
    return _catch_up(signature)


def campaign_spans(spans: QuerySet, campaign, targets: QuerySet | None) -> QuerySet:
    """`spans` of the campaign's targets, or of `targets` among them (None: all of them)."""
    spans = spans.filter(campaign_id=campaign.pk)
    return spans if targets is None else spans.filter(target_id__in=targets.values("pk"))


def standing_on(day) -> QuerySet:
    """The spans that stood at the end of `day`: one per target then in the ledger."""
    return Standing.objects.filter(gone=False, from_day__lte=day).filter(Q(to_day__isnull=True) | Q(to_day__gt=day))


def spans_stood() -> QuerySet:
    """The spans that stood at the end of at least one day (deletions left out)."""
    return Standing.objects.filter(gone=False).filter(Q(to_day__isnull=True) | Q(to_day__gt=F("from_day")))


def ever_in(states: Iterable[str], day) -> QuerySet:
    """The spans, of the target of the span the query is about (`OuterRef("target_id")`), that were
    in one of `states` in an entry written by the end of `day`: an `Exists` says whether the target
    ever stood so by then."""
    return Standing.objects.filter(target_id=OuterRef("target_id"), from_day__lte=day, state__in=list(states))


def _log(after_id: int) -> QuerySet:
    """Entries after `after_id`, of every kind, by id: a range of the primary key (a filter on
    the kind would lead SQLite to the kind's index and a sort of all its entries). The targets'
    snapshots are read, the others' left in the database."""
    snapshot = Case(When(object_type=OBJECT_TYPE, then="after"), output_field=JSONField())
    return ChangeLogEntry.objects.filter(id__gt=after_id).order_by("id").annotate(snapshot=snapshot)


def _signature() -> str:
    units = OrgUnit.objects.filter(kind__in=[OrgUnit.Kind.STREET, OrgUnit.Kind.SYSTEM]).order_by("campaign_id", "pk")
    parts = [VERSION, settings.TIME_ZONE, list(units.values_list("campaign_id", "kind", "name", "code")),
             [(c.pk, campaign_rules(c)) for c in Campaign.objects.order_by("pk")]]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _catch_up(signature: str) -> int:
    read, priorities = 0, _Priorities()
    while (chunk_read := _catch_up_chunk(signature, priorities)) is not None:
        read += chunk_read
    return read


@atomic
def _catch_up_chunk(signature: str, priorities: "_Priorities") -> int | None:
    """The next chunk of entries read into the spans, with the mark moved past them, in a
    transaction of its own: a long rebuild holds SQLite's one write lock a chunk at a time, and
    whoever refreshes meanwhile waits for the chunk, then reads on. The target entries read, or
    None when there were none left."""
    mark, _created = StandingMark.objects.select_for_update().get_or_create(pk=1)
    if mark.signature != signature:
        Standing.objects.all().delete()
        mark.last_entry_id, mark.signature = 0, signature
    chunk = list(_log(mark.last_entry_id).values_list("id", "object_type", "object_id", "at", "action", "snapshot")
                 [:CHUNK])
    if chunk:
        mark.last_entry_id = chunk[-1][0]
    mark.save()
    if not chunk:
        return None
    targets = [(pk, object_id, at, action, after) for pk, kind, object_id, at, action, after in chunk
               if kind == OBJECT_TYPE]
    if targets:
        _apply(targets, priorities)
    return len(targets)


class _Priorities:
    """Whether a snapshot is a priority target, by its campaign's rules (asof.snapshot_priority)."""

    def __init__(self):
        self.rules = {}

    def __call__(self, campaign_id: int | None, after: dict) -> bool:
        if campaign_id is None:  # a target deleted since: no campaign counts it
            return False
        if campaign_id not in self.rules:
            self.rules[campaign_id] = snapshot_priority(Campaign.objects.get(pk=campaign_id))
        return bool(self.rules[campaign_id](after))


def _key(span: dict) -> tuple:
    return tuple(span[name] for name in KEY)


def _counted(action: str, after: dict | None, campaign_id: int | None, priorities: _Priorities) -> dict:
    """What a span holds for an entry: its groups, state, pilot and priority, or that it is a deletion."""
    if action == ChangeLogEntry.Action.DELETE or after is None:
        return GONE
    state = after.get("state") or ""
    return {"street": after.get("street") or "", "system": after.get("system") or "",
            "target_type": after.get("target_type") or "", "state": state, "done": state in DONE_STATES,
            "pilot": bool(after.get("is_pilot")), "priority": priorities(campaign_id, after), "gone": False}


FIELDS = ["target_id", "campaign_id", "entry_id", "starts", "ends", "from_day", "to_day", *KEY]


def _apply(chunk: list[tuple], priorities: _Priorities) -> None:
    """Add a chunk of entries, in id order, to the spans (kept as dicts, written by core.bulk)."""
    ids = {int(object_id) for _pk, object_id, *_rest in chunk}
    campaigns = dict(Target.objects.filter(pk__in=ids).values_list("pk", "campaign_id"))
    earliest = min(at for _pk, _object_id, at, *_rest in chunk)
    # Every stored span an entry of the chunk can end: the open ones, and any ending later than it.
    spans: dict[int, list[dict]] = {}
    stored = Standing.objects.filter(target_id__in=ids).filter(Q(ends__isnull=True) | Q(ends__gt=earliest))
    for span in stored.values("pk", "target_id", "starts", "ends", *KEY):
        spans.setdefault(span["target_id"], []).append(span)
    new, changed = [], {}
    for pk, object_id, at, action, after in chunk:
        target_id = int(object_id)
        counted = _counted(action, after, campaigns.get(target_id), priorities)
        mine = spans.setdefault(target_id, [])
        current = next((s for s in mine if s["ends"] is None), None)
        if current is not None and at >= current["starts"] and _key(current) == _key(counted):
            continue  # it stands as the open span does, from a later time: the span goes on
        day = timezone.localdate(at)
        for span in mine:
            if span["ends"] is None or span["ends"] > at:
                span["ends"], span["to_day"] = at, day
                if "pk" in span:
                    changed[span["pk"]] = span
        span = {"target_id": target_id, "campaign_id": campaigns.get(target_id), "entry_id": pk, "starts": at,
                "ends": None, "from_day": day, "to_day": None, **counted}
        mine.append(span)
        new.append(span)
    update_rows(Standing, list(changed.values()), ["ends", "to_day"])
    insert_rows(Standing, new, FIELDS)
    # A target deleted since leaves every campaign's figures, its past included (as the ledger's
    # as-of filters, which read the targets there are, leave it).
    Standing.objects.filter(target_id__in=ids - set(campaigns), campaign_id__isnull=False).update(campaign_id=None)
