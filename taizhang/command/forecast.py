"""When each pledged level will be reached at the current pace, and the early warnings (预警).

The method, as the page states it: the pace is the targets done per week over the last
`WEEKS` weeks before the chosen day (done at the day minus done 8 weeks earlier, over 8); the
range comes from the same weeks, the four slowest averaged (the late end) and the four fastest
averaged (the early end). A level is forecast for the day the pace reaches it. A warning is
raised where a required level is not reached yet and either its day has passed or the forecast
falls after it (or the pace is nil). Plain functions of numbers, so tests set the clock by
passing the day.
"""

import datetime
import math
from dataclasses import dataclass

WEEKS = 8


def sample_days(day: datetime.date, weeks: int = WEEKS) -> list[datetime.date]:
    """The day and the `weeks` days a week apart before it, oldest first."""
    return [day - datetime.timedelta(weeks=k) for k in range(weeks, -1, -1)]


@dataclass(frozen=True)
class Pace:
    """Targets done per week: the mean, and the slow and fast ends of the range."""

    per_week: float
    slow: float
    fast: float
    weeks: int


def pace(done: list[int], *, weeks_known: int | None = None) -> Pace | None:
    """The pace from done counts a week apart, oldest first (`sample_days`). `weeks_known` caps
    the weeks used (a campaign begun 3 weeks ago has 3); None when no week is known."""
    increments = [b - a for a, b in zip(done, done[1:], strict=False)]
    if weeks_known is not None:
        increments = increments[len(increments) - max(0, min(weeks_known, len(increments))):]
    if not increments:
        return None
    ordered = sorted(increments)
    half = max(1, len(ordered) // 2)
    return Pace(per_week=sum(increments) / len(increments), slow=sum(ordered[:half]) / half,
                fast=sum(ordered[-half:]) / half, weeks=len(increments))


def reach_day(done: int, level: int, per_week: float, day: datetime.date) -> datetime.date | None:
    """The day `level` is reached from `done` on `day` at `per_week`; None if never at that pace."""
    if done >= level:
        return day
    if per_week <= 0:
        return None
    return day + datetime.timedelta(days=math.ceil((level - done) / per_week * 7))


@dataclass(frozen=True)
class Forecast:
    """One level of one milestone for one group, on the chosen day."""

    level: int
    done: int
    due_on: datetime.date
    day: datetime.date
    on: datetime.date | None  # at the mean pace; None: not reached at this pace
    earliest: datetime.date | None  # at the fast end
    latest: datetime.date | None  # at the slow end

    @property
    def reached(self) -> bool:
        return self.done >= self.level

    @property
    def gap(self) -> int:
        return max(0, self.level - self.done)

    @property
    def overdue(self) -> bool:
        return not self.reached and self.due_on < self.day

    @property
    def misses(self) -> bool:
        """Not reached, and its day has passed or the forecast falls after it."""
        return not self.reached and (self.overdue or self.on is None or self.on > self.due_on)

    @property
    def weeks_left(self) -> int:
        """Whole weeks from the chosen day to the level's day (negative: overdue by so many)."""
        return math.floor((self.due_on - self.day).days / 7)

    @property
    def weeks_overdue(self) -> int:
        """Whole weeks since the level's day passed (0 before it)."""
        return max(0, (self.day - self.due_on).days // 7)


def forecast(*, done: int, level: int, due_on: datetime.date, day: datetime.date, pace: Pace | None) -> Forecast:
    if pace is None:
        on = earliest = latest = day if done >= level else None
    else:
        on = reach_day(done, level, pace.per_week, day)
        earliest = reach_day(done, level, pace.fast, day)
        latest = reach_day(done, level, pace.slow, day)
    return Forecast(level=level, done=done, due_on=due_on, day=day, on=on, earliest=earliest, latest=latest)
