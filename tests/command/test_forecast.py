"""The forecast and the early warning, as plain functions of counts and an explicit day."""

import datetime

import pytest

from taizhang.command.forecast import Pace, forecast, pace, reach_day, sample_days

DAY = datetime.date(2016, 11, 15)
DUE = datetime.date(2016, 12, 31)  # 6 weeks and 4 days after DAY


def test_sample_days_are_a_week_apart_ending_on_the_day():
    days = sample_days(DAY)
    assert len(days) == 9 and days[-1] == DAY and days[0] == DAY - datetime.timedelta(weeks=8)
    assert all((b - a).days == 7 for a, b in zip(days, days[1:], strict=False))


def test_the_pace_is_the_mean_of_eight_weeks_and_its_range_the_slow_and_fast_halves():
    done = [10, 10, 12, 12, 14, 15, 15, 18, 18]  # increments 0 2 0 2 1 0 3 0
    found = pace(done)
    assert found == Pace(per_week=1.0, slow=0.0, fast=2.0, weeks=8)


def test_a_campaign_only_weeks_old_uses_the_weeks_it_has():
    done = [0, 0, 0, 0, 0, 0, 2, 4, 6]
    assert pace(done, weeks_known=3) == Pace(per_week=2.0, slow=2.0, fast=2.0, weeks=3)
    assert pace(done, weeks_known=0) is None


def test_a_rebound_can_make_a_week_go_backwards():
    assert pace([5, 4]).per_week == -1


@pytest.mark.parametrize(("done", "level", "rate", "expected"), [
    (10, 10, 0, DAY),  # reached already
    (4, 10, 2.0, DAY + datetime.timedelta(days=21)),  # 3 weeks
    (4, 10, 4.0, DAY + datetime.timedelta(days=11)),  # 1.5 weeks: 10.5 days, a whole day after
    (4, 10, 0, None),  # never at a pace of nothing
    (4, 10, -1, None),
])
def test_reach_day(done, level, rate, expected):
    assert reach_day(done, level, rate, DAY) == expected


def test_a_level_forecast_after_its_day_is_a_warning_with_its_gap_and_weeks_left():
    found = forecast(done=3, level=6, due_on=DUE, day=DAY, pace=Pace(0.25, 0.0, 0.5, 8))
    assert found.on == DAY + datetime.timedelta(weeks=12)
    assert (found.earliest, found.latest) == (DAY + datetime.timedelta(weeks=6), None)
    assert found.misses and not found.overdue and not found.reached
    assert (found.gap, found.weeks_left) == (3, 6)


def test_a_level_forecast_before_its_day_is_no_warning():
    found = forecast(done=3, level=6, due_on=DUE, day=DAY, pace=Pace(1.0, 0.5, 1.5, 8))
    assert found.on == DAY + datetime.timedelta(weeks=3) and not found.misses


def test_a_level_reached_is_no_warning_even_with_no_pace():
    found = forecast(done=6, level=6, due_on=DUE, day=DAY, pace=None)
    assert found.reached and not found.misses and found.gap == 0 and found.on == DAY


def test_no_pace_at_all_is_a_warning():
    found = forecast(done=0, level=6, due_on=DUE, day=DAY, pace=None)
    assert found.on is None and found.misses


def test_a_level_past_its_day_and_not_reached_is_overdue():
    found = forecast(done=5, level=6, due_on=datetime.date(2016, 6, 30), day=DAY, pace=Pace(5.0, 5.0, 5.0, 8))
    assert found.overdue and found.misses
    assert found.weeks_left == -20 and found.weeks_overdue == 19  # 138 days
