"""The demo campaign in motion: a history of the demo ledger, planned day by day.

The plan follows the pledges of the campaign (its milestones) and, for the built-in
campaign, the public record: 88 targets closed (已销账) by 2015-12-31, the 30 % and 60 %
pledges met overall with a street or two behind, every target closed by the 100 % pledge,
and 517 of 528 still closed a year later (the others rebounded). Each target gets a path
(demo_paths.py: verification, plan, remediation, sometimes the legal path, a petition, a hold,
a failed acceptance; then acceptance and re-inspections, sometimes a rebound) as dated acts.
The acts of one day that are the same work by the same hand form a sitting (the office's
weekly meeting approving a week's plans, an inspection round), which `demo_story_run` takes
through the real services in the order of their times, a sitting at a time.

Everything here is planned in the campaign's own days (as loaded, shifted or not) from one
random generator seeded by the caller: the same seed gives the same story.
"""

import datetime
import math
import random
from dataclasses import dataclass, field, replace

from .demo_paths import Act, PathPlanner, Rebound, Rhythm, plus

# The public record of the built-in campaign, in its preset's days: targets closed by then.
# 528 targets in the ledger; 88 were closed in 2015, 517 stood closed in June 2018.
PUBLIC_RECORD = {
    "shijingshan-2015": {"total": 528, "points": ((datetime.date(2015, 12, 31), 88),
                                                  (datetime.date(2018, 6, 30), 517))},
}
# Days from the campaign's start before the first target can be closed (verified, planned, cleared).
FIRST_CLOSE_AFTER = 28
# Where between the required and the stretch share each pledge lands (drawn per pledge).
OVER_REQUIRED = (0.15, 0.45)
# A street lagging at a pledge reaches this share of what the others reach.
LAG_FACTOR = 0.55
# Of the targets, how many rebound and are closed again before the last pledge.
EARLY_REBOUND_SHARE = 0.03
# After the last pledge, how many rebound and are closed again before the record's last figure.
LATE_REBOUND_SHARE = 0.01
# Working hours, in minutes after midnight, over which a day's sittings are spread.
DAY_OPENS, DAY_CLOSES = 8 * 60 + 30, 17 * 60 + 30
# Who takes each act (the step acts say it themselves): the street's staff unless named here.
HANDS = {"confirm_holder": "holder", "plan_approve": "office", "acceptance": "office", "hold": "office",
         "resume": "office", "inspection": "office", "judicial_open": "group", "judicial_done": "group"}


@dataclass(frozen=True)
class Pledge:
    """A milestone the story must meet: at least `count` targets closed at the end of `day`."""

    day: datetime.date
    count: int
    required: int  # the least count that meets the pledge
    lagging: tuple = ()  # street codes behind the required share that day


@dataclass
class Calendar:
    """The story's days: where it starts, its pledges, where it ends, and its default stop."""

    start: datetime.date
    pledges: list[Pledge]
    # After the last pledge: the day of the last figure, and how many are closed then.
    end: datetime.date
    closed_at_end: int

    @property
    def last_pledge(self) -> Pledge:
        return self.pledges[-1]

    def default_until(self) -> datetime.date:
        """Halfway between the last two pledges: the campaign mid-way, with work to show."""
        days = [p.day for p in self.pledges if p.required]
        if len(days) < 2:
            return self.end
        return plus(days[-2], (days[-1] - days[-2]).days // 2)


def story_calendar(*, slug: str, starts_on: datetime.date, milestones: list[dict], total: int,
                   shift: int = 0, rng: random.Random | None = None) -> Calendar:
    """The pledges from the campaign's milestones (each required share, met with some margin;
    a milestone with no share takes the public record's count if there is one), the record's
    figures scaled to `total` targets; all days `shift` days later than the preset's."""
    rng = rng or random.Random(0)
    step = datetime.timedelta(days=shift)
    record = PUBLIC_RECORD.get(slug, {"total": total, "points": ()})
    known = {day + step: round(count * total / record["total"]) for day, count in record["points"]}
    pledges = []
    for item in sorted(milestones, key=lambda m: m["due_on"]):
        day, required = item["due_on"], item.get("required_pct")
        if required is None:
            if day in known:
                pledges.append(Pledge(day, known[day], 0))
            continue
        need = math.ceil(total * required / 100)
        stretch = item.get("stretch_pct") or required
        share = required + (stretch - required) * rng.uniform(*OVER_REQUIRED)
        pledges.append(Pledge(day, max(need, min(total, math.ceil(total * share / 100))), need))
    if not pledges or pledges[-1].count != total:
        last = pledges[-1].day if pledges else plus(starts_on, 600)
        pledges.append(Pledge(last, total, total))
    later = [(day, count) for day, count in known.items() if day > pledges[-1].day]
    end, closed = max(later) if later else (plus(pledges[-1].day, 365), total - total // 50)
    return Calendar(starts_on, pledges, end, closed)


def days_between(rng: random.Random, a: datetime.date, b: datetime.date, skew: float = 1.0) -> datetime.date:
    """A day in [a, b]; with `skew` > 1, drawn towards b (a late spurt)."""
    span = max(0, (b - a).days)
    return b - datetime.timedelta(days=round(span * rng.random() ** skew))


# --- which targets close when ---------------------------------------------------------------

def pilots_choose(targets: list, rng: random.Random) -> set:
    """One pilot per street (the speech: every street and every system picks 1-2), spread over
    the systems: each system's first pilot before any system gets a second."""
    by_street: dict = {}
    for target in targets:
        by_street.setdefault(target.street.code, []).append(target)
    chosen, per_system = set(), {}
    for code in sorted(by_street):
        candidates = sorted(by_street[code], key=lambda t: (per_system.get(t.system.code, 0), t.code))
        fewest = per_system.get(candidates[0].system.code, 0)
        pick = rng.choice([t for t in candidates if per_system.get(t.system.code, 0) == fewest])
        chosen.add(pick.pk)
        per_system[pick.system.code] = per_system.get(pick.system.code, 0) + 1
    return chosen


def _ease(target, rng: random.Random) -> float:
    """Days a target's closing tends to come after the easiest ones: scrap stations clear
    fastest, crowded compounds slowest; a larger population, later; priorities earlier."""
    kind = target.target_type.sort if target.target_type else 0
    return (kind * 45 + (target.resident_population or 0) / 8 - target.priority_rank * 12
            + rng.uniform(0, 150))


def street_counts(calendar: Calendar, sizes: dict[str, int], pilots: dict[str, int],
                  rng: random.Random) -> tuple[list[dict[str, int]], list[Pledge]]:
    """How many of each street's targets are closed at each pledge, and the pledges with the
    streets lagging at them: one street behind the first pledge with a share, another behind
    the next (it catches up only in a late spurt before the last)."""
    from taizhang.ledger.demo import apportion

    total = sum(sizes.values())
    shares = [i for i, p in enumerate(calendar.pledges[:-1]) if p.required]
    big = sorted(code for code, n in sizes.items() if n * len(sizes) >= total * 0.6)
    laggers = rng.sample(big, min(len(shares), 2, len(big))) if len(big) > 2 else []
    lag_at = dict(zip(shares, laggers, strict=False))
    counts, pledges, previous = [], [], {code: pilots.get(code, 0) for code in sizes}
    for index, pledge in enumerate(calendar.pledges):
        if index == len(calendar.pledges) - 1:
            counts.append(dict(sizes))
            pledges.append(pledge)
            break
        lagging = lag_at.get(index)
        weights = [sizes[c] * (LAG_FACTOR if c == lagging else 1) for c in sorted(sizes)]
        wanted = dict(zip(sorted(sizes), apportion(pledge.count, weights), strict=True))
        low = {c: previous[c] for c in sizes}
        high = {c: sizes[c] for c in sizes}
        if lagging:
            # Behind means under the required share of its own targets.
            high[lagging] = max(low[lagging], math.ceil(sizes[lagging] * pledge.required / total) - 1)
        row = _fit(wanted, low, high, pledge.count)
        counts.append(row)
        behind = lagging and row[lagging] * total < pledge.required * sizes[lagging]
        pledges.append(Pledge(pledge.day, pledge.count, pledge.required, (lagging,) if behind else ()))
        previous = row
    return counts, pledges


def _fit(wanted: dict[str, int], low: dict[str, int], high: dict[str, int], count: int) -> dict[str, int]:
    """`wanted` moved within [low, high] street by street, then evened out to sum to `count`:
    taken from the streets furthest above their floor, given to those furthest below their ceiling."""
    row = {c: min(max(wanted[c], low[c]), high[c]) for c in wanted}
    while sum(row.values()) > count:
        code = max(sorted(row), key=lambda c: row[c] - low[c])
        if row[code] <= low[code]:
            raise ValueError("the pledge of %d targets cannot be planned below the count before it" % count)
        row[code] -= 1
    while sum(row.values()) < count:
        code = max(sorted(row), key=lambda c: (high[c] - row[c]) / max(high[c], 1))
        if row[code] >= high[code]:
            raise ValueError("the pledge of %d targets is more than the streets hold" % count)
        row[code] += 1
    return row


def closing_days(targets: list, calendar: Calendar, pilots: set, rhythm: Rhythm,
                 rng: random.Random) -> tuple[dict, list[Pledge]]:
    """{target pk: the day it is first closed}, and the pledges with who lags at them.

    Within a street the pilots come first, then the easier targets; between two pledges a
    street's closings are spread over the office's acceptance days, those of a street lagging
    at the pledge before the last drawn towards the end (a late spurt)."""
    by_street: dict = {}
    for target in targets:
        by_street.setdefault(target.street.code, []).append(target)
    sizes = {code: len(ts) for code, ts in by_street.items()}
    pilot_counts = {code: sum(t.pk in pilots for t in ts) for code, ts in by_street.items()}
    counts, pledges = street_counts(calendar, sizes, pilot_counts, rng)
    late = {p.lagging[0] for p in pledges[-2:-1] if p.lagging}
    first = plus(calendar.start, FIRST_CLOSE_AFTER)
    closes = {}
    for code in sorted(by_street):
        order = sorted(by_street[code], key=lambda t: (t.pk not in pilots, _ease(t, rng), t.code))
        done, opens = 0, first
        for index, pledge in enumerate(pledges):
            batch, done = order[done:counts[index][code]], counts[index][code]
            # The lagging street's spurt at the end; the others a little ahead of an even pace, so
            # that at any day their recent pace keeps them on course.
            skew = 2.5 if code in late and index == len(pledges) - 1 else 0.6 if index else 1.0
            days = sorted(rhythm.within(Rhythm.ACCEPTANCE, days_between(rng, opens, pledge.day, skew), opens,
                                        pledge.day) for _t in batch)
            batch.sort(key=lambda t: (t.pk not in pilots, t.registered_on or first, t.code))
            for target, day in zip(batch, days, strict=True):
                closes[target.pk] = day
            opens = plus(pledge.day, 1)
    return closes, pledges


# --- rebounds -------------------------------------------------------------------------------

def rebounds_choose(planners: list[PathPlanner], calendar: Calendar, pledges: list[Pledge], rhythm: Rhythm,
                    rng: random.Random) -> None:
    """Which targets rebound, at which visit: a few before the last pledge, closed again before
    the next pledge day; after the last pledge, as many as the record says stay open at its end,
    and a few more closed again before it."""
    last, end = calendar.last_pledge.day, calendar.end
    pledge_days = [p.day for p in pledges]
    early = round(EARLY_REBOUND_SHARE * len(planners))
    pool = [p for p in planners if p.close <= plus(last, -150) and len(p.visits) > 1]
    rng.shuffle(pool)
    for planner in pool:
        if early == 0:
            break
        for visit in rng.sample(range(1, min(4, len(planner.visits))), min(3, len(planner.visits) - 1)):
            failed = planner.visits[visit][1]
            reclose = rhythm.within(Rhythm.ACCEPTANCE, plus(failed, rng.randint(30, 60)), failed, end)
            if reclose <= plus(last, -5) and not any(failed <= day < reclose for day in pledge_days):
                planner.rebound = Rebound(visit, plus(failed, rng.randint(3, 10)), reclose)
                early -= 1
                break
    still_open, again = len(planners) - calendar.closed_at_end, round(LATE_REBOUND_SHARE * len(planners))
    pool = [(p, next(i for i, (_due, done) in enumerate(p.visits) if last < done < end))
            for p in planners if p.rebound is None and any(last < done < end for _due, done in p.visits)]
    rng.shuffle(pool)
    for planner, visit in pool:
        failed = planner.visits[visit][1]
        if still_open:
            planner.rebound = Rebound(visit, plus(failed, rng.randint(3, 10)), None)
            still_open -= 1
        elif again and plus(failed, 60) < end:
            reclose = rhythm.within(Rhythm.ACCEPTANCE, plus(failed, rng.randint(30, 55)), failed, plus(end, -1))
            planner.rebound = Rebound(visit, plus(failed, rng.randint(3, 10)), reclose)
            again -= 1
    calendar.closed_at_end += still_open  # fewer visits after the last pledge than rebounds wanted


# --- the whole story ------------------------------------------------------------------------

@dataclass
class Sitting:
    """Acts of one kind taken at one moment by one hand on several targets (often one)."""

    moment: datetime.datetime
    kind: str
    items: list[tuple[object, Act]]  # (target, act)


@dataclass
class Story:
    """The planned history: its sittings in time order, and the figures it gives."""

    calendar: Calendar
    pledges: list[Pledge]  # the calendar's, with the streets lagging at each
    sittings: list[Sitting]
    pilots: set
    planners: dict = field(repr=False, default_factory=dict)

    def closed_at(self, day: datetime.date) -> int:
        """Targets closed at the end of `day`, as planned."""
        return sum(planner.closed_at(day) for planner in self.planners.values())

    def acts(self, until: datetime.date | None = None) -> int:
        return sum(len(s.items) for s in self.sittings if until is None or s.moment.date() < until)


def _hand(target, act: Act) -> tuple:
    """Whose hand takes the act, as far as a sitting goes: the street's, the holder's, the office's."""
    hand = act.args.get("who") if act.kind == "step" else HANDS.get(act.kind, "street")
    if hand == "street":
        return hand, target.street_id
    if hand == "holder":
        return hand, target.system_id
    return (hand,)


def sittings_of(days: dict[datetime.date, dict[int, list[Act]]], targets: dict, tz) -> list[Sitting]:
    """Each day's acts in sittings: the first act of each target that day, grouped by kind, step
    and hand, then the second, ...; the day's sittings spread over its working hours."""
    sittings = []
    for day in sorted(days):
        per_target = days[day]
        groups: dict[tuple, list] = {}
        for round_ in range(max(len(acts) for acts in per_target.values())):
            for pk in sorted(per_target, key=lambda pk: targets[pk].code):
                if round_ < len(per_target[pk]):
                    act = per_target[pk][round_]
                    key = (round_, act.kind, act.args.get("to", ""), _hand(targets[pk], act))
                    groups.setdefault(key, []).append((targets[pk], act))
        step = (DAY_CLOSES - DAY_OPENS) // (len(groups) + 1)
        for n, ((_round, kind, _to, _hand_key), items) in enumerate(groups.items(), start=1):
            minute = DAY_OPENS + n * step
            moment = datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60), tz)
            sittings.append(Sitting(moment, kind, items))
    return sittings


def story_plan(*, targets: list, calendar: Calendar, seed: int, reinspect_after: list[int],
               templates: dict[str, dict], tz: datetime.tzinfo) -> Story:
    """The whole story of `targets` (with their street, system, type and campaign loaded),
    checked against its pledges before anything is written."""
    rng = random.Random(seed)
    targets = sorted(targets, key=lambda t: t.code)
    streets = sorted({t.street.code for t in targets})
    rhythm = Rhythm(calendar.start)
    pilots = pilots_choose(targets, rng)
    # Every pilot is closed by the first pledge, however small the ledger.
    calendar.pledges = [replace(p, count=max(p.count, len(pilots))) for p in calendar.pledges]
    closes, pledges = closing_days(targets, calendar, pilots, rhythm, rng)
    planners = {t.pk: PathPlanner(t, close=closes[t.pk], pilot=t.pk in pilots, rhythm=rhythm,
                                  street_day=streets.index(t.street.code) % 7, reinspect_after=reinspect_after,
                                  template=templates.get(t.target_type.code), rng=random.Random(rng.getrandbits(64)))
                for t in targets}
    rebounds_choose(list(planners.values()), calendar, pledges, rhythm, rng)
    story = Story(calendar, pledges, [], pilots, planners)
    for pledge in pledges:
        if story.closed_at(pledge.day) != pledge.count:
            raise ValueError("the story closes %d targets by %s, not the %d planned"
                             % (story.closed_at(pledge.day), pledge.day, pledge.count))
    days: dict[datetime.date, dict[int, list[Act]]] = {}
    for target in targets:
        for act in planners[target.pk].acts():
            days.setdefault(act.day, {}).setdefault(target.pk, []).append(act)
    story.sittings = sittings_of(days, {t.pk: t for t in targets}, tz)
    return story

