"""Progress against the pledges, read from the ledger as it stood on a day.

Done is `ledger.models.DONE_STATES` (已销账), the one definition the ledger's filters share.
Every figure for a day is the ledger as it stood at the end of that day, as `ledger.asof`
defines it, read from the command room's projection of the change log (`command.standing`):
for the whole campaign, a street's or a system's targets, its tallies (a month's standing and
the day changes since); for a rights unit's, the spans of its targets. A test holds both
equal to `asof.as_of_snapshots`, out-of-order entries included. Groups (street, ownership
system, type) are the target's as they stood that day.
"""

import datetime
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.scoping import reaches
from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.ledger.models import DONE_STATES, Target

from .models import AMOUNTS, GROUP_FIELDS, SUMS
from .standing import (
    TALLY_REACH,
    campaign_spans,
    hundredths,
    reach_q,
    spans_stood,
    standing_on,
    standing_refresh,
    street_changes,
    tally_on,
)

State = Target.State


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
    to one street or system (as the target stood that day) when `unit` is given.

    Made, it brings the ledger's projection up to the change log (`standing_refresh`): every
    figure read through it counts every entry written before.
    """

    user: object
    campaign: Campaign
    day: datetime.date
    unit: OrgUnit | None = None

    def __post_init__(self):
        standing_refresh()

    def reach(self) -> frozenset | None:
        """Through what the user sees the campaign's targets (None: all of them)."""
        return reaches(self.user, self.campaign)

    def tallied(self) -> Q | None:
        """The tallies' rows of the user's targets, or None when the tallies cannot tell them (a
        rights unit's targets): those are counted from their spans."""
        return reach_q(self.reach(), TALLY_REACH)

    def spans(self, day: datetime.date | None = None):
        """The spans of the user's targets in the unit (a day given: those standing at its end)."""
        spans = standing_on(day) if day is not None else spans_stood()
        return campaign_spans(spans, self.campaign, self.reach()).filter(**self.where())

    def where(self) -> dict:
        """The unit as a condition on a snapshot, or a span (labels by name)."""
        if self.unit is None:
            return {}
        return {"street" if self.unit.kind == OrgUnit.Kind.STREET else "system": self.unit.name}


@dataclass(frozen=True)
class Group:
    """The targets that stood alike at the end of the scope's day: their groups, state, whether
    pilots and priorities, how many, how many of them were done and rebounded at least once by
    then, and the people and money their acceptances recorded (as the records stood then)."""

    street: str | None
    system: str | None
    target_type: str | None
    state: str
    pilot: bool
    priority: bool
    n: int
    closed: int = 0
    rebounded: int = 0
    people_moved: int = 0
    demolished_area: Decimal = Decimal(0)
    land_recovered: Decimal = Decimal(0)
    funds_paid: Decimal = Decimal(0)

    @property
    def done(self) -> bool:
        return is_done(self.state)

    def amount(self, name: str) -> Decimal:
        return Decimal(getattr(self, name))


def groups_on(scope: Scope) -> list[Group]:
    """The scope's targets as they stood at the end of its day, counted by group, state, pilot and priority."""
    return [_group(row) for row in (counted_groups(scope) if scope.tallied() is None else tallied_groups(scope))]


def tallied_groups(scope: Scope) -> list[tuple]:
    """(groups…, sums…) from the tallies of the user's targets (a street's, a system's, or all),
    narrowed to the scope's unit."""
    return tally_on(scope.campaign, scope.day, scope.where(), scope.tallied())


def counted_groups(scope: Scope) -> list[tuple]:
    """(groups…, sums…) from the spans of the targets the scope's user sees."""
    day = scope.day
    sums = {"s_n": Count("pk"), "s_closed": Count("pk", filter=Q(closed_on__lte=day)),
            "s_rebounded": Count("pk", filter=Q(rebounded_on__lte=day)), **{"s_" + a: Sum(a) for a in AMOUNTS}}
    return list(scope.spans(day).values(*GROUP_FIELDS).annotate(**sums).values_list(*GROUP_FIELDS, *sums).order_by())


def _group(row: tuple) -> Group:
    groups, sums = row[:len(GROUP_FIELDS)], dict(zip(SUMS, row[len(GROUP_FIELDS):], strict=True))
    for name in AMOUNTS[1:]:  # kept in hundredths
        sums[name] = hundredths(sums[name] or 0)
    sums["people_moved"] = int(sums["people_moved"] or 0)
    return Group(*groups, **sums)


def count(groups: list[Group], *, done: bool | None = None, **where) -> int:
    """Targets among `groups` matching `where` (and done or not, when asked)."""
    return sum(g.n for g in groups if (done is None or g.done == done)
               and all(getattr(g, k) == v for k, v in where.items()))


@dataclass
class Tally:
    """Targets and done targets of one group."""

    label: str
    total: int = 0
    done: int = 0

    @property
    def pct(self) -> float | None:
        return 100 * self.done / self.total if self.total else None


def tally(groups: list[Group], by: str, order: list[str] | None = None) -> list[Tally]:
    """Totals and done per value of `by` (a Group attribute), in `order` (then any other value met)."""
    found: dict[str, Tally] = {name: Tally(name) for name in order or ()}
    for g in groups:
        group = found.setdefault(getattr(g, by), Tally(getattr(g, by)))
        group.total += g.n
        group.done += g.n if g.done else 0
    return list(found.values())


def states_count(groups: list[Group]) -> list[tuple[str, str, int]]:
    """(state, label, targets) for every state, in the workflow's order."""
    counts = Counter()
    for g in groups:
        counts[g.state] += g.n
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
    """Done and total at the end of each day, per value of `by` (a span's group) and in all.

    A span stands at the end of each day from its `from_day` up to the day before its `to_day`:
    its targets (and its done targets) are counted in at the first and out at the second. The
    tallies hold those changes per day, street and system for the whole campaign; for part of
    it, two aggregates of the spans give them. Summed in day order up to each day's end, they
    are what `standing_on` would count that day.
    """
    days = sorted(set(days))
    if (reach := scope.tallied()) is not None:
        events = street_changes(scope.campaign, days[-1], by, scope.where(), reach)
    else:
        spans = scope.spans().filter(from_day__lte=days[-1])
        done = Count("pk", filter=Q(done=True))
        events = [(day, group, n, d) for day, group, n, d in spans.values("from_day", by)
                  .annotate(n=Count("pk"), d=done).values_list("from_day", by, "n", "d").order_by()]
        events += [(day, group, -n, -d) for day, group, n, d in spans.filter(to_day__lte=days[-1])
                   .values("to_day", by).annotate(n=Count("pk"), d=done).values_list("to_day", by, "n", "d")
                   .order_by()]
    events.sort(key=lambda e: e[0])
    series = Series(days, [], [])
    total, done_now, group_done, group_total = 0, 0, Counter(), Counter()
    index = 0
    for day in days:
        while index < len(events) and events[index][0] <= day:
            _day, group, n, d = events[index]
            total, done_now = total + n, done_now + d
            group_total[group] += n
            group_done[group] += d
            index += 1
        series.total.append(total)
        series.done.append(done_now)
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

@dataclass
class Rebounds:
    """Targets of one street ever done and ever rebounded by the day."""

    label: str
    closed: int = 0  # done at least once by the day
    rebounded: int = 0  # rebounded at least once by the day

    @property
    def pct(self) -> float | None:
        return 100 * self.rebounded / self.closed if self.closed else None


def rebounds(groups: list[Group], order: list[str]) -> list[Rebounds]:
    """Per street (as it stood on the day): targets ever done, targets ever rebounded, and the rate."""
    found = {name: Rebounds(name) for name in order}
    for g in groups:
        street = found.setdefault(g.street, Rebounds(g.street))
        street.closed += g.closed
        street.rebounded += g.rebounded
    return list(found.values())


def outcomes(groups: list[Group]) -> dict[str, dict[str, Decimal]]:
    """People moved, floor area demolished, land recovered and funds spent per street, summed over
    the targets done on the day, as recorded at acceptance and as the records stood then."""
    sums = defaultdict(lambda: dict.fromkeys(AMOUNTS, Decimal(0)))
    for g in groups:
        if g.done:
            for name in AMOUNTS:
                sums[g.street][name] += g.amount(name)
    return sums


def street_ranks(scope: Scope) -> dict[str, tuple[int, int]]:
    """{street: (rank, streets)} by share done on the scope's day, over the whole campaign (1 is the
    best; equal shares share a rank). Only the rank of their own street is shown to a street's
    users: the other streets' figures stay out of their view."""
    campaign, day = scope.campaign, scope.day
    shares = {}
    streets = OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.STREET).values_list("name", flat=True)
    counts = {name: [0, 0] for name in streets}
    for g in map(_group, tally_on(campaign, day, {}, Q())):
        if g.street in counts:
            counts[g.street][0] += g.n
            counts[g.street][1] += g.n if g.done else 0
    for name, (total, done) in counts.items():
        shares[name] = done / total if total else 0
    ordered = sorted(shares.values(), reverse=True)
    return {name: (ordered.index(share) + 1, len(shares)) for name, share in shares.items()}
