"""Progress against the pledges, read from the ledger as it stood on a day (ledger.asof).

Done is `ledger.models.DONE_STATES` (已销账), the one definition the ledger's filters share.
Every figure for a day comes from `ledger.asof`: the targets as they stood at the end of that
day (`as_of_snapshots`), or, for a series of days, the same change-log entries replayed in one
pass (`replay`, which gives for each day exactly what `as_of_snapshots` gives; a test holds it).
Groups (street, ownership system, type) are the target's as they stood that day.
"""

import datetime
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.asof import OBJECT_TYPE, as_of_snapshots, day_end, snapshot_priority
from taizhang.ledger.models import DONE_STATES, Target
from taizhang.ledger.selectors import ledger_targets
from taizhang.remediation.models import Outcome
from taizhang.remediation.snapshots import OUTCOME

State = Target.State
# Where a target's group is read in its snapshot: labels by name (ledger.columns.TARGET).
GROUPS = ("street", "system", "target_type")
# People and money summed for the done targets, as recorded at acceptance (remediation.outcomes).
AMOUNTS = ("people_moved", "demolished_area", "land_recovered", "funds_paid")


def today() -> datetime.date:
    """The day progress is measured to when none is chosen."""
    return timezone.localdate()


def done_definition() -> str:
    """What done means, as the page says it."""
    states = "、".join(str(State(s).label) for s in DONE_STATES)
    return _("Done means 已销账: closed after a passed acceptance (state “%(states)s”). A target that rebounds "
             "stops being done from the day it rebounds, until it is closed again. Every figure counts the "
             "ledger as it stood at the end of the chosen day.") % {"states": states}


def is_done(state: str | None) -> bool:
    return state in DONE_STATES


def level(total: int, pct: int | None) -> int | None:
    """The targets a share of `total` needs: 30 % of 528 is 159 (rounded up: a pledge is met in whole targets)."""
    if pct is None:
        return None
    return math.ceil(total * pct / 100)


@dataclass(frozen=True)
class Scope:
    """Whose figures, of what, on which day: the user's visible targets in the campaign, narrowed
    to one street or system (as the target stood that day) when `unit` is given."""

    user: object
    campaign: Campaign
    day: datetime.date
    unit: OrgUnit | None = None

    def targets(self):
        return ledger_targets(self.user, self.campaign)

    def where(self) -> dict:
        """The unit as a condition on a snapshot (labels by name)."""
        if self.unit is None:
            return {}
        return {"street" if self.unit.kind == OrgUnit.Kind.STREET else "system": self.unit.name}


@dataclass
class Row:
    """One target as it stood on the scope's day: what progress groups and counts it by."""

    pk: int
    street: str
    system: str
    target_type: str
    state: str
    pilot: bool
    priority: bool

    @property
    def done(self) -> bool:
        return is_done(self.state)


def rows_on(scope: Scope) -> list[Row]:
    """The scope's targets as they stood at the end of its day, in code order."""
    reasons = snapshot_priority(scope.campaign)
    where = scope.where()
    found = []
    for pk, snap in sorted(as_of_snapshots(scope.targets(), scope.day).items(), key=lambda item: item[1]["code"]):
        if all(snap.get(k) == v for k, v in where.items()):
            found.append(Row(pk, snap.get("street"), snap.get("system"), snap.get("target_type"), snap.get("state"),
                             bool(snap.get("is_pilot")), bool(reasons(snap))))
    return found


@dataclass
class Tally:
    """Targets and done targets of one group."""

    label: str
    total: int = 0
    done: int = 0

    @property
    def pct(self) -> float | None:
        return 100 * self.done / self.total if self.total else None


def tally(rows: list[Row], by: str, order: list[str] | None = None) -> list[Tally]:
    """Totals and done per value of `by` (a Row attribute), in `order` (then any other value met)."""
    found: dict[str, Tally] = {name: Tally(name) for name in order or ()}
    for row in rows:
        group = found.setdefault(getattr(row, by), Tally(getattr(row, by)))
        group.total += 1
        group.done += row.done
    return list(found.values())


def states_count(rows: list[Row]) -> list[tuple[str, str, int]]:
    """(state, label, targets) for every state, in the workflow's order."""
    counts = Counter(row.state for row in rows)
    return [(state, str(label), counts.get(state, 0)) for state, label in State.choices]


# --- over time ------------------------------------------------------------------------------------

@dataclass
class Series:
    """Targets in the ledger and targets done at the end of each of `days`, in all and per group."""

    days: list[datetime.date]
    total: list[int]
    done: list[int]
    groups: dict[str, list[int]] = field(default_factory=dict)
    group_totals: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self):
        self.index = {day: i for i, day in enumerate(self.days)}

    def at(self, day: datetime.date) -> int:
        return self.done[self.index[day]]

    def total_at(self, day: datetime.date) -> int:
        return self.total[self.index[day]]

    def group_at(self, group: str, day: datetime.date) -> int:
        return self.groups[group][self.index[day]] if group in self.groups else 0


def replay(scope: Scope, days: list[datetime.date], *, by: str = "street") -> Series:
    """Done and total at the end of each day, in one pass over the targets' change-log entries.

    A target stands on a day as its latest entry (highest id) written before the day ended
    (ledger.asof.entries_on). Entries are read in time order; each time one with a higher id
    than any before it arrives, it becomes the target's standing from that moment: the change
    of standing is an event (+1 / -1 to its group's done and total), and the events are summed
    up to each day's end. Equal to `as_of_snapshots` day by day even if entries were written
    out of time order.
    """
    days = sorted(set(days))
    visible = {str(pk) for pk in scope.targets().values_list("pk", flat=True)}
    where = scope.where()
    paths = sorted({by, *where})
    entries = (ChangeLogEntry.objects.filter(object_type=OBJECT_TYPE, at__lt=day_end(days[-1]))
               .values_list("object_id", "at", "id", "action", "after__state", *("after__" + p for p in paths)))
    by_target = defaultdict(list)
    for object_id, at, pk, action, state, *values in entries.iterator(chunk_size=5000):
        if object_id in visible:
            by_target[object_id].append((at, pk, action, state, dict(zip(paths, values, strict=True))))
    events = []  # (at, group, total change, done change)
    for entries_of_target in by_target.values():
        entries_of_target.sort(key=lambda e: (e[0], e[1]))
        standing = None  # (id, group, counted, done)
        for at, pk, action, state, values in entries_of_target:
            if standing is not None and pk < standing[0]:
                continue  # an older entry written late: the standing one is newer
            counted = action != ChangeLogEntry.Action.DELETE and all(values.get(k) == v for k, v in where.items())
            new = (pk, values.get(by), counted, counted and is_done(state))
            if standing is not None and standing[2]:
                events.append((at, standing[1], -1, -int(standing[3])))
            if counted:
                events.append((at, new[1], 1, int(new[3])))
            standing = new
    events.sort(key=lambda e: e[0])
    series = Series(days, [], [])
    total, done, group_done, group_total = 0, 0, Counter(), Counter()
    index = 0
    for day in days:
        end = day_end(day)
        while index < len(events) and events[index][0] < end:
            _at, group, n, d = events[index]
            total, done = total + n, done + d
            group_total[group] += n
            group_done[group] += d
            index += 1
        series.total.append(total)
        series.done.append(done)
        for group in set(group_total) | set(series.groups):
            series.groups.setdefault(group, [0] * (len(series.done) - 1)).append(group_done[group])
            series.group_totals.setdefault(group, [0] * (len(series.total) - 1)).append(group_total[group])
    return series


# Over a longer span the burn-up takes the last day of each month instead of every 7th day.
WEEKLY_SPAN = datetime.timedelta(weeks=104)


def burnup_days(campaign: Campaign, day: datetime.date) -> list[datetime.date]:
    """Every 7th day from the campaign's start up to `day` (each month's last day over more than two
    years), every milestone day before it, and `day`."""
    days, at = {day}, campaign.starts_on
    weekly = day - campaign.starts_on <= WEEKLY_SPAN
    while at < day:
        days.add(at)
        if weekly:
            at += datetime.timedelta(days=7)
        else:
            at = _month_end(at) if _month_end(at) > at else _month_end(at + datetime.timedelta(days=1))
    days.update(m.due_on for m in campaign.milestones.all() if campaign.starts_on <= m.due_on <= day)
    return sorted(days)


def _month_end(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)


# --- rebounds, people and money -------------------------------------------------------------------

def ever_ids(scope: Scope, states) -> set[int]:
    """Targets that stood in one of `states` at some time up to the end of the scope's day."""
    ids = (ChangeLogEntry.objects.filter(object_type=OBJECT_TYPE, at__lt=day_end(scope.day), after__state__in=states)
           .values_list("object_id", flat=True).distinct())
    return {int(pk) for pk in ids}


@dataclass
class Rebounds:
    """Targets of one street ever done and ever rebounded by the day."""

    label: str
    closed: int = 0  # done at least once by the day
    rebounded: int = 0  # rebounded at least once by the day

    @property
    def pct(self) -> float | None:
        return 100 * self.rebounded / self.closed if self.closed else None


def rebounds(scope: Scope, rows: list[Row], order: list[str]) -> list[Rebounds]:
    """Per street (as it stood on the day): targets ever done, targets ever rebounded, and the rate."""
    closed, rebounded = ever_ids(scope, DONE_STATES), ever_ids(scope, [State.REBOUND])
    found = {name: Rebounds(name) for name in order}
    for row in rows:
        group = found.setdefault(row.street, Rebounds(row.street))
        group.closed += row.pk in closed
        group.rebounded += row.pk in rebounded
    return list(found.values())


def outcomes(scope: Scope, rows: list[Row]) -> dict[str, dict[str, Decimal]]:
    """People moved, floor area demolished, land recovered and funds spent per street, summed over
    the targets done on the day, as recorded at acceptance and as the records stood then."""
    done = {row.pk: row.street for row in rows if row.done}
    latest = (ChangeLogEntry.objects.filter(object_type=OUTCOME.object_type, at__lt=day_end(scope.day))
              .values("object_id").annotate(last=Max("id")).values("last"))
    entries = (ChangeLogEntry.objects.filter(id__in=latest).exclude(action=ChangeLogEntry.Action.DELETE)
               .filter(after__stage=Outcome.Stage.ACCEPTANCE).values_list("target_id", "after"))
    sums = defaultdict(lambda: dict.fromkeys(AMOUNTS, Decimal(0)))
    for target_id, after in entries.iterator(chunk_size=2000):
        if target_id in done:
            for name in AMOUNTS:
                sums[done[target_id]][name] += Decimal(str(after.get(name) or 0))
    return sums


def street_ranks(campaign: Campaign, day: datetime.date) -> dict[str, tuple[int, int]]:
    """{street: (rank, streets)} by share done on the day, over the whole campaign (1 is the best;
    equal shares share a rank). Only the rank of their own street is shown to a street's users:
    the other streets' figures stay out of their view."""
    shares = {}
    streets = OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.STREET).values_list("name", flat=True)
    counts = {name: [0, 0] for name in streets}
    for snap in as_of_snapshots(Target.objects.filter(campaign=campaign), day).values():
        if snap.get("street") in counts:
            counts[snap["street"]][0] += 1
            counts[snap["street"]][1] += is_done(snap.get("state"))
    for name, (total, done) in counts.items():
        shares[name] = done / total if total else 0
    ordered = sorted(shares.values(), reverse=True)
    return {name: (ordered.index(share) + 1, len(shares)) for name, share in shares.items()}
