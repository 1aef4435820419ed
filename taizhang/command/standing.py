"""The change log projected into what the command room counts: spans of time, and tallies by day.

`ledger.asof.entries_on` says how the ledger stood at the end of one day by reading the change
log; `remediation.outcomes` says what each acceptance recorded. The command room asks both
for a hundred days over tens of thousands of targets, after every write. This projection
holds the same answers in two forms, kept by one refresh that reads only what the log gained:

- **Spans** (`models.Span`): one per run of a target's history in which what the figures
  count stayed the same: its groups, state, pilot and priority, and the sum of its accepted
  outcomes. A user who sees part of a campaign (a street, a unit) is counted from the spans
  of the targets they see.
- **Tallies**: how much the count and the sums of each group changed at the end of each day
  (`DayChange`, and `StreetDayChange` per street and system for the burn-up), with their
  running totals at each month's end (`MonthStanding`). One who sees the whole campaign is
  counted from one month standing and at most a month of changes, a few thousand rows
  however long the ledger.

What stands when. Each record's entries form a stream in id order; entry k of a stream stands
at a moment E when it is the stream's latest entry written before E: `at_k < E <= min(at_j for
j > k)` (as `entries_on` and the as-of outcomes read it, out-of-order entries included). A
target stands at E as its target entry says (or not at all before its first, or after its
deletion), with the amounts of each of its outcomes' standing entries that record an
acceptance. A span stands at the end of each day d with `from_day <= d < to_day`. An entry
written no earlier than its target's open span began extends the spans (the common case: it
ends the open span and opens its own, or joins it when nothing counted changed); an older one
makes the projection read the target's whole history again and rebuild its spans.

"Ever done" and "ever rebounded by day d" count every entry written by d's end, as the
ledger's own filters do: `closed_on` and `rebounded_on` hold the first such day per target.

The log is appended under its head's lock, so entry ids follow commit order and a watermark
on the id misses nothing. Everything the projection derives beyond the log (the priority
rules, the streets' and systems' codes they name, the time zone that sets a day's end) is in
its signature: when one changes, it is rebuilt from the log.
"""

import datetime
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import connection
from django.db.models import Case, F, JSONField, Max, Q, QuerySet, Sum, When
from django.utils import timezone

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.bulk import add_rows, insert_rows, update_rows
from taizhang.core.db import atomic
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.asof import OBJECT_TYPE as TARGET_KIND
from taizhang.ledger.asof import snapshot_priority
from taizhang.ledger.models import DONE_STATES, Target
from taizhang.ledger.priorities import campaign_rules
from taizhang.remediation.models import Outcome
from taizhang.remediation.snapshots import OUTCOME

from .models import (
    AMOUNTS,
    GROUP_FIELDS,
    REACH_FIELDS,
    SUMS,
    DayChange,
    MonthStanding,
    ProjectionMark,
    Span,
    StreetDayChange,
)

# Bump when what the projection holds, or how it is derived, changes: the next refresh rebuilds.
VERSION = "2"
CHUNK = 5000
OUTCOME_KIND = OUTCOME.object_type
DELETE = ChangeLogEntry.Action.DELETE
# What a span holds for its run: a new entry that agrees on all of it joins the open span.
COUNTED = ("street", "system", "target_type", "state", "done", "pilot", "priority", "gone")
KEY = (*COUNTED, *AMOUNTS)
GONE = {"street": "", "system": "", "target_type": "", "state": "", "done": False, "pilot": False,
        "priority": False, "gone": True}
NO_AMOUNTS = (0, 0, 0, 0)
# The target's own, the same on each of its spans.
PER_TARGET = ("campaign_id", "closed_on", "rebounded_on", "reach_street", "reach_system", "reach_unit")
# Where the projection copies the target fields that decide who sees it (accounts.scoping.reaches):
# every one on the spans, the street and the system on the tallies.
REACH = {"street_id": "reach_street", "system_id": "reach_system", "responsible_unit_id": "reach_unit"}
TALLY_REACH = {field: column for field, column in REACH.items() if column in REACH_FIELDS}
FIELDS = ["target_id", "starts", "ends", "from_day", "to_day", *KEY, *PER_TARGET]


# --- reading ---------------------------------------------------------------------------------

def standing_refresh(progress=None) -> int:
    """Bring the projection up to the change log's last entry, and its month standings up to the
    last month ended; the entries read (0: it was current). After each chunk, `progress(read_to,
    last)` is told the entry id it has read up to and the log's last one."""
    signature = _signature()
    mark = ProjectionMark.objects.filter(pk=1).first()
    read = 0
    if mark is None or mark.signature != signature or _log(mark.last_entry_id).exists():
        read = _catch_up(signature, progress)
        mark = ProjectionMark.objects.get(pk=1)
    if mark.months_to is None or mark.months_to < _last_month_end(timezone.localdate()):
        _close_months()
    return read


def standing_on(day: datetime.date) -> QuerySet:
    """The spans that stood at the end of `day`: one per target then in the ledger."""
    return Span.objects.filter(gone=False, from_day__lte=day).filter(Q(to_day__isnull=True) | Q(to_day__gt=day))


def spans_stood() -> QuerySet:
    """The spans that stood at the end of at least one day (deletions left out)."""
    return Span.objects.filter(gone=False).filter(Q(to_day__isnull=True) | Q(to_day__gt=F("from_day")))


def reach_q(reach: frozenset | None, columns: dict[str, str]) -> Q | None:
    """The rows of the targets held through `reach` (accounts.scoping.reaches; None: every one),
    by `columns`; None when a field of `reach` has no column there."""
    if reach is None:
        return Q()
    if any(field not in columns for field, _value in reach):
        return None
    q = Q(pk__in=[])
    for field, value in reach:
        q |= Q(**{columns[field]: value})
    return q


def campaign_spans(spans: QuerySet, campaign, reach: frozenset | None = None) -> QuerySet:
    """`spans` of the campaign's targets, of those held through `reach` (None: all of them)."""
    return spans.filter(reach_q(reach, REACH), campaign_id=campaign.pk)


def tally_on(campaign, day: datetime.date, where: dict, reach: Q) -> list[tuple]:
    """(groups…, sums…) of the campaign's targets standing at the end of `day`, narrowed by `where`
    (a street or system by name) and `reach` (see `reach_q`): one month standing plus the
    changes since, summed per group."""
    base = _last_month_end(day + datetime.timedelta(days=1))
    months_to = _months_to()
    base = None if months_to is None else min(base, months_to)
    found = _add_up(campaign, day, where, reach, base)
    if base is not None and ((now := _months_to()) is None or now < base):
        # A refresh dropped the month standing meanwhile (an entry older than it came in): read
        # every change instead.
        found = _add_up(campaign, day, where, reach, None)
    return [(*groups, *sums) for groups, sums in found.items() if sums[0]]


def _months_to() -> datetime.date | None:
    return ProjectionMark.objects.filter(pk=1).values_list("months_to", flat=True).first()


def _add_up(campaign, day, where: dict, reach: Q, base: datetime.date | None) -> dict[tuple, list[int]]:
    """{groups: sums} from the month standing of `base` (None: none) and the day changes after it."""
    found: dict[tuple, list[int]] = {}
    parts = [DayChange.objects.filter(reach, campaign_id=campaign.pk, day__lte=day, **where)]
    if base is not None:
        parts = [MonthStanding.objects.filter(reach, campaign_id=campaign.pk, day=base, **where),
                 parts[0].filter(day__gt=base)]
    width = len(GROUP_FIELDS)
    for rows in parts:
        for row in (rows.values(*GROUP_FIELDS).annotate(**{"s_" + s: Sum(s) for s in SUMS})
                    .values_list(*GROUP_FIELDS, *("s_" + s for s in SUMS)).order_by()):
            total = found.setdefault(row[:width], [0] * len(SUMS))
            for index, value in enumerate(row[width:]):
                total[index] += value
    return found


def street_changes(campaign, last: datetime.date, by: str, where: dict, reach: Q) -> list[tuple]:
    """(day, value of `by`, targets in, done targets in) per day up to `last`: the changes the
    burn-up adds up, for the campaign narrowed by `where` and `reach` (see `reach_q`)."""
    return list(StreetDayChange.objects.filter(reach, campaign_id=campaign.pk, day__lte=last, **where)
                .values("day", by).annotate(dn=Sum("n"), dd=Sum("done")).values_list("day", by, "dn", "dd")
                .order_by())


def hundredths(value: int) -> Decimal:
    return Decimal(value) / 100


# --- keeping it ------------------------------------------------------------------------------

def _log(after_id: int) -> QuerySet:
    """Entries after `after_id`, of every kind, by id: a range of the primary key (a filter on
    the kind would lead SQLite to the kind's index and a sort of all its entries). The targets'
    and the outcomes' snapshots are read, the others' left in the database."""
    snapshot = Case(When(object_type__in=[TARGET_KIND, OUTCOME_KIND], then="after"), output_field=JSONField())
    return ChangeLogEntry.objects.filter(id__gt=after_id).order_by("id").annotate(snapshot=snapshot)


def _signature() -> str:
    units = OrgUnit.objects.filter(kind__in=[OrgUnit.Kind.STREET, OrgUnit.Kind.SYSTEM]).order_by("campaign_id", "pk")
    parts = [VERSION, settings.TIME_ZONE, list(units.values_list("campaign_id", "kind", "name", "code")),
             [(c.pk, campaign_rules(c)) for c in Campaign.objects.order_by("pk")]]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _catch_up(signature: str, progress=None) -> int:
    read, priorities = 0, _Priorities()
    while (chunk_read := _catch_up_chunk(signature, priorities)) is not None:
        read += chunk_read
        if progress is not None:
            mark = ProjectionMark.objects.get(pk=1)
            progress(mark.last_entry_id, ChangeLogEntry.objects.order_by("-id").values_list("id", flat=True).first())
    return read


@atomic
def _catch_up_chunk(signature: str, priorities: "_Priorities") -> int | None:
    """The next chunk of entries read into the projection, with the mark moved past them, in a
    transaction of its own: a long rebuild holds SQLite's one write lock a chunk at a time, and
    whoever refreshes meanwhile waits for the chunk, then reads on. The entries read (targets'
    and outcomes'), or None when there were none left."""
    mark, _created = ProjectionMark.objects.select_for_update().get_or_create(pk=1)
    if mark.signature != signature:
        for model in (Span, DayChange, MonthStanding, StreetDayChange):
            model.objects.all().delete()
        mark.last_entry_id, mark.signature, mark.months_to = 0, signature, None
    after_id = mark.last_entry_id
    chunk = list(_log(after_id).values_list("id", "object_type", "object_id", "target_id", "at", "action",
                                            "snapshot")[:CHUNK])
    if not chunk:
        mark.save()
        return None
    mark.last_entry_id = chunk[-1][0]
    read = [e for e in chunk if e[1] == TARGET_KIND or (e[1] == OUTCOME_KIND and e[3] is not None)]
    if read:
        _apply(read, after_id, mark, priorities)
    mark.save()
    return len(read)


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


def _counted(action: str, after: dict | None, campaign_id: int | None, priorities: _Priorities) -> dict:
    """What a target entry makes a span count: its groups, state, pilot and priority, or a deletion."""
    if action == DELETE or after is None:
        return GONE
    state = after.get("state") or ""
    return {"street": after.get("street") or "", "system": after.get("system") or "",
            "target_type": after.get("target_type") or "", "state": state, "done": state in DONE_STATES,
            "pilot": bool(after.get("is_pilot")), "priority": priorities(campaign_id, after), "gone": False}


def _accepted(action: str, after: dict | None) -> tuple[int, ...]:
    """What an outcome entry adds to its target's sums: its amounts if it records an acceptance."""
    if action == DELETE or not after or after.get("stage") != Outcome.Stage.ACCEPTANCE:
        return NO_AMOUNTS
    return (int(after.get("people_moved") or 0),
            *(int(Decimal(str(after.get(name) or 0)).scaleb(2)) for name in AMOUNTS[1:]))


def _amounts(span: dict) -> tuple[int, ...]:
    return tuple(span[name] for name in AMOUNTS)


def _key(span: dict) -> tuple:
    return tuple(span[name] for name in KEY)


def _apply(chunk: list[tuple], after_id: int, mark: ProjectionMark, priorities: _Priorities) -> None:
    """Add a chunk of target and outcome entries, in id order, to the spans and the tallies."""
    entries: dict[int, list[tuple]] = defaultdict(list)
    for pk, kind, object_id, target_id, at, action, after in chunk:
        entries[int(object_id) if kind == TARGET_KIND else target_id].append((pk, kind, object_id, at, action, after))
    ids = set(entries)
    reach = {pk: {"campaign_id": campaign_id, "reach_street": street or 0, "reach_system": system or 0,
                  "reach_unit": unit or 0}
             for pk, campaign_id, street, system, unit in Target.objects.filter(pk__in=ids).values_list(
                 "pk", "campaign_id", *REACH)}
    stored: dict[int, list[dict]] = defaultdict(list)
    for span in Span.objects.filter(target_id__in=ids).values("pk", *FIELDS):
        stored[span["target_id"]].append(span)
    outcomes = _outcomes_before({object_id for _pk, kind, object_id, *_rest in chunk if kind == OUTCOME_KIND},
                                after_id)
    last_id = chunk[-1][0]
    tallies, new, changed, dropped = _Tallies(), [], [], []
    for target_id, mine in entries.items():
        before = {span["pk"]: dict(span) for span in stored[target_id]}
        per_target = reach.get(target_id, {"campaign_id": None, "reach_street": 0, "reach_system": 0,
                                           "reach_unit": 0})
        spans = [dict(span) for span in stored[target_id]]
        counted = partial(_counted, campaign_id=per_target["campaign_id"], priorities=priorities)
        if _extend(target_id, spans, mine, outcomes, counted):
            firsts = _firsts(mine, spans)
        else:  # an entry older than the open span: read the target's whole history again
            spans, firsts = _rebuild(target_id, last_id, counted)
        for span in spans:
            span.update(per_target, closed_on=firsts[0], rebounded_on=firsts[1])
        for span in spans:
            old = before.pop(span["pk"], None) if "pk" in span else None
            if old is not None and all(old[name] == span[name] for name in FIELDS):
                continue
            if old is not None:
                tallies.add(old, -1)
                changed.append(span)
            else:
                new.append(span)
            tallies.add(span, 1)
        for old in before.values():  # the spans a rebuild replaced
            tallies.add(old, -1)
            dropped.append(old["pk"])
    if dropped:
        Span.objects.filter(pk__in=dropped).delete()
    update_rows(Span, changed, ["ends", "to_day", *PER_TARGET])
    insert_rows(Span, new, FIELDS)
    tallies.write(mark)


def _outcomes_before(object_ids: set[str], after_id: int) -> dict[str, tuple[int, ...]]:
    """{outcome id: what its latest entry up to `after_id` adds}: what the open span holds of it."""
    if not object_ids:
        return {}
    latest = (ChangeLogEntry.objects.filter(object_type=OUTCOME_KIND, object_id__in=object_ids, id__lte=after_id)
              .values("object_id").annotate(last=Max("id")).values("last"))
    return {object_id: _accepted(action, after) for object_id, action, after in
            ChangeLogEntry.objects.filter(id__in=latest).values_list("object_id", "action", "after")}


def _extend(target_id: int, spans: list[dict], entries: list[tuple], outcomes: dict, counted) -> bool:
    """Extend a target's spans by its new entries, in id order; False (and `spans` to be thrown
    away) when one is older than the span open at the time, or an outcome comes before the target."""
    current = next((span for span in spans if span["ends"] is None), None)
    for _pk, kind, object_id, at, action, after in entries:
        if current is not None and at < current["starts"]:
            return False
        if kind == TARGET_KIND:
            held = {**counted(action, after), **dict(zip(AMOUNTS, _amounts(current) if current else NO_AMOUNTS,
                                                         strict=True))}
        elif current is None:
            return False
        else:
            adds = _accepted(action, after)
            sums = [a - b + c for a, b, c in zip(_amounts(current), outcomes.get(object_id, NO_AMOUNTS), adds,
                                                 strict=True)]
            outcomes[object_id] = adds
            held = {**{name: current[name] for name in COUNTED}, **dict(zip(AMOUNTS, sums, strict=True))}
        if current is not None and _key(current) == _key(held):
            continue  # nothing counted changed: the open span goes on
        day = timezone.localdate(at)
        if current is not None:
            current["ends"], current["to_day"] = at, day
        current = {"target_id": target_id, "starts": at, "ends": None, "from_day": day, "to_day": None, **held}
        spans.append(current)
    return True


def _firsts(entries: list[tuple], spans: list[dict]) -> tuple:
    """(closed_on, rebounded_on): the target's first days in a done state and in 反弹, from what
    its spans held and its new entries."""
    closed = [s["closed_on"] for s in spans if s.get("closed_on")]
    rebounded = [s["rebounded_on"] for s in spans if s.get("rebounded_on")]
    for _pk, kind, _object_id, at, action, after in entries:
        state = (after or {}).get("state") if kind == TARGET_KIND and action != DELETE else None
        if state in DONE_STATES:
            closed.append(timezone.localdate(at))
        elif state == Target.State.REBOUND:
            rebounded.append(timezone.localdate(at))
    return min(closed, default=None), min(rebounded, default=None)


def _rebuild(target_id: int, last_id: int, counted) -> tuple[list[dict], tuple]:
    """A target's spans and firsts from its whole history up to entry `last_id`: at each moment
    an entry was written, the entry of each stream that stands just after it (the latest by id
    written by then), runs of equal moments merged into spans."""
    history = list(ChangeLogEntry.objects.filter(id__lte=last_id).filter(
        Q(object_type=TARGET_KIND, object_id=str(target_id)) | Q(object_type=OUTCOME_KIND, target_id=target_id))
        .order_by("id").values_list("id", "object_type", "object_id", "at", "action", "after"))
    streams: dict[tuple, list[tuple]] = defaultdict(list)
    for entry in history:
        streams[(entry[1], entry[2] if entry[1] == OUTCOME_KIND else "")].append(entry)
    target_stream = streams.pop((TARGET_KIND, ""), [])
    spans, current = [], None
    for moment in sorted({entry[3] for entry in history}):
        standing = _standing_at(target_stream, moment)
        if standing is None:
            continue  # the target not written yet
        sums = [0, 0, 0, 0]
        for stream in streams.values():
            outcome = _standing_at(stream, moment)
            if outcome is not None:
                sums = [a + b for a, b in zip(sums, _accepted(outcome[4], outcome[5]), strict=True)]
        held = {**counted(standing[4], standing[5]), **dict(zip(AMOUNTS, sums, strict=True))}
        if current is not None and _key(current) == _key(held):
            continue
        day = timezone.localdate(moment)
        if current is not None:
            current["ends"], current["to_day"] = moment, day
        current = {"target_id": target_id, "starts": moment, "ends": None, "from_day": day, "to_day": None, **held}
        spans.append(current)
    return spans, _firsts(target_stream, [])


def _standing_at(stream: list[tuple], moment) -> tuple | None:
    """The entry of `stream` (in id order) standing just after `moment`: the latest written by then."""
    return next((entry for entry in reversed(stream) if entry[3] <= moment), None)


class _Tallies:
    """The tallies' changes from spans counted in (+1) and out (-1), added up, then written."""

    def __init__(self):
        self.day: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(SUMS))
        self.street: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, span: dict, sign: int) -> None:
        start, end = span["from_day"], span["to_day"]
        if span["gone"] or span["campaign_id"] is None or (end is not None and end <= start):
            return
        groups = (span["campaign_id"], *(span[name] for name in GROUP_FIELDS), *(span[name] for name in REACH_FIELDS))
        values = (sign, 0, 0, *(sign * amount for amount in _amounts(span)))
        done = sign if span["done"] else 0
        for day, side in ((start, 1), (end, -1)):
            if day is None:
                continue
            row = self.day[(day, *groups)]
            for index, value in enumerate(values):
                row[index] += side * value
            street = self.street[(groups[0], day, span["street"], span["system"], *groups[-len(REACH_FIELDS):])]
            street[0] += side * sign
            street[1] += side * done
        for index, since in ((1, span["closed_on"]), (2, span["rebounded_on"])):
            if since is None:
                continue
            begins = max(start, since)
            if end is not None and begins >= end:
                continue
            self.day[(begins, *groups)][index] += sign
            if end is not None:
                self.day[(end, *groups)][index] -= sign

    def write(self, mark: ProjectionMark) -> None:
        days = [(key, sums) for key, sums in self.day.items() if any(sums)]
        keys = [*GROUP_FIELDS, *REACH_FIELDS]
        add_rows(DayChange, [{"day": day, "campaign_id": campaign_id, **dict(zip(keys, groups, strict=True)),
                              **dict(zip(SUMS, sums, strict=True))} for (day, campaign_id, *groups), sums in days],
                 ["campaign_id", "day", *keys], SUMS)
        keys = ["campaign_id", "day", "street", "system", *REACH_FIELDS]
        add_rows(StreetDayChange, [{**dict(zip(keys, key, strict=True)), "n": n, "done": done}
                                   for key, (n, done) in self.street.items() if n or done], keys, ["n", "done"])
        earliest = min((key[0] for key, _sums in days), default=None)
        if earliest is not None and mark.months_to is not None and earliest <= mark.months_to:
            # A change on a day a month standing already adds up: it and those after are made again.
            MonthStanding.objects.filter(day__gte=earliest).delete()
            mark.months_to = _last_month_end(earliest)


def _last_month_end(day: datetime.date) -> datetime.date:
    """The last day of the month before `day`'s."""
    return day.replace(day=1) - datetime.timedelta(days=1)


def _month_end(day: datetime.date) -> datetime.date:
    return _last_month_end((day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1))


@atomic
def _close_months() -> None:
    """Add up the day changes into a month standing for each month ended since the last one."""
    mark, _created = ProjectionMark.objects.select_for_update().get_or_create(pk=1)
    until = _last_month_end(timezone.localdate())
    previous = mark.months_to
    if previous is None:
        first = DayChange.objects.order_by("day").values_list("day", flat=True).first()
        if first is None:
            mark.months_to = until
            mark.save()
            return
        month = _month_end(first)
    else:
        month = _month_end(previous + datetime.timedelta(days=1))
    while month <= until:
        _add_up_month(previous, month)
        previous, month = month, _month_end(month + datetime.timedelta(days=1))
    mark.months_to = max(until, mark.months_to or until)
    mark.save()


def _add_up_month(previous: datetime.date | None, month: datetime.date) -> None:
    quote, adapt = connection.ops.quote_name, connection.ops.adapt_datefield_value
    groups = ", ".join(quote(name) for name in (*GROUP_FIELDS, *REACH_FIELDS))
    sums = ", ".join(quote(name) for name in SUMS)
    totals = ", ".join("SUM(%s)" % quote(name) for name in SUMS)
    select = "SELECT campaign_id, %s, %s FROM %%s WHERE " % (groups, sums)
    months, changes = MonthStanding._meta.db_table, DayChange._meta.db_table
    if previous is not None:
        parts = [select % months + "day = %s", select % changes + "day > %s AND day <= %s"]
        params = [adapt(previous), adapt(previous), adapt(month)]
    else:
        parts, params = [select % changes + "day <= %s"], [adapt(month)]
    sql = "INSERT INTO %s (campaign_id, day, %s, %s) SELECT campaign_id, %%s, %s, %s FROM (%s) AS changes " \
          "GROUP BY campaign_id, %s HAVING SUM(n) <> 0" % (
              MonthStanding._meta.db_table, groups, sums, groups, totals, " UNION ALL ".join(parts), groups)
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(month), *params])
