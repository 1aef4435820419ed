"""Progress read from the as-of ledger, with the clock set explicitly (tests/command/conftest.py)."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taizhang.command import progress as pg
from taizhang.core.changelog import Change, changelog_append
from taizhang.ledger.asof import OBJECT_TYPE, as_of_snapshots
from taizhang.ledger.models import DONE_STATES, Target
from taizhang.ledger.standing import standing_refresh
from tests.history import CLOSINGS, REBOUND, TODAY, noon

S = Target.State


def _scope(personas, campaign, day, name="lee", unit=None):
    return pg.Scope(personas[name], campaign, day, unit)


def _standing(scope) -> dict:
    """{target id: the span it stood in at the end of the scope's day}."""
    return {span.target_id: span for span in scope.spans(scope.day)}


def test_done_is_closed_and_a_rebound_stops_it_from_the_day_it_rebounds(history, personas, campaign):
    code, day = REBOUND
    assert DONE_STATES == (S.CLOSED,)
    before = _standing(_scope(personas, campaign, day - datetime.timedelta(days=1)))
    after = _standing(_scope(personas, campaign, day))
    pk = history[code].pk
    assert before[pk].done and before[pk].state == S.CLOSED
    assert not after[pk].done and after[pk].state == S.REBOUND
    assert "已销账" in pg.done_definition()


def test_the_live_ledger_and_the_as_of_ledger_agree_today(history, personas, campaign):
    """Today's figures may come from either: they are the same targets in the same states."""
    scope = _scope(personas, campaign, TODAY)
    live = dict(Target.objects.values_list("pk", "state"))
    assert {pk: span.state for pk, span in _standing(scope).items()} == live
    groups = pg.groups_on(scope)
    assert pg.count(groups) == len(live)
    assert pg.count(groups, done=True) == Target.objects.filter(state__in=DONE_STATES).count() == 10


def test_the_replay_gives_the_as_of_ledger_for_every_day(history, personas, campaign):
    scope = _scope(personas, campaign, TODAY)
    days = pg.burnup_days(campaign, TODAY)
    series = pg.replay(scope, days)
    for index, day in enumerate(days):
        snaps = as_of_snapshots(Target.objects.all(), day).values()
        assert series.done[index] == sum(s["state"] in DONE_STATES for s in snaps), day
        assert series.total[index] == len(snaps), day
        for street in ("古城街道", "鲁谷街道"):
            expected = sum(s["state"] in DONE_STATES and s["street"] == street for s in snaps)
            assert series.group_at(street, day) == expected, (day, street)
    assert series.at(datetime.date(2016, 6, 30)) == 7  # 4 in 古城, 3 in 鲁谷
    assert series.at(datetime.date(2015, 12, 31)) == 1


def test_a_street_scope_counts_the_targets_that_stood_in_it_that_day(history, personas, campaign, units):
    groups = pg.groups_on(_scope(personas, campaign, TODAY, unit=units["LG"]))
    assert {g.street for g in groups} == {"鲁谷街道"} and pg.count(groups) == 10
    series = pg.replay(_scope(personas, campaign, TODAY, unit=units["LG"]), [TODAY])
    assert (series.total, series.done) == ([10], [3])


def test_a_street_user_counts_only_its_own_targets(history, personas, campaign):
    groups = pg.groups_on(_scope(personas, campaign, TODAY, name="alice"))
    assert {g.street for g in groups} == {"古城街道"} and pg.count(groups, done=True) == len(CLOSINGS["GC"]) - 1


def test_levels_are_rounded_up_to_whole_targets():
    assert (pg.level(528, 30), pg.level(528, 60), pg.level(528, 100), pg.level(10, 30)) == (159, 317, 528, 3)
    assert pg.level(10, None) is None


def test_streets_rank_over_the_whole_campaign(history, personas, campaign):
    ranks = pg.street_ranks(_scope(personas, campaign, TODAY, name="alice"))
    assert ranks["古城街道"] == (1, 9) and ranks["鲁谷街道"] == (2, 9)
    assert ranks["八角街道"] == (3, 9)  # no target: a share of nothing, level with the other empty streets


def test_people_and_money_count_the_done_targets_as_recorded_then(history, personas, campaign):
    scope = _scope(personas, campaign, TODAY)
    sums = pg.outcomes(scope)
    # 7 done in 古城 (8 closed, one rebounded): 10 people and 100.50 m² each.
    assert sums["古城街道"]["people_moved"] == 70
    assert sums["古城街道"]["demolished_area"] == Decimal("703.50")
    assert sums["鲁谷街道"]["funds_paid"] == Decimal("3000")
    early = _scope(personas, campaign, datetime.date(2016, 1, 31))
    assert pg.outcomes(early)["古城街道"]["people_moved"] == 10


def test_rebounds_count_targets_ever_done_and_ever_rebounded(history, personas, campaign):
    scope = _scope(personas, campaign, TODAY)
    found = {r.label: r for r in pg.rebounds(scope, ["古城街道", "鲁谷街道"])}
    assert (found["古城街道"].closed, found["古城街道"].rebounded, found["古城街道"].pct) == (8, 1, 12.5)
    before = _scope(personas, campaign, REBOUND[1] - datetime.timedelta(days=1))
    assert {r.label: r.rebounded for r in pg.rebounds(before, [])}["古城街道"] == 0


# Random histories: the projection, the replay and the as-of ledger read the same log the same
# way, even when entries were written out of time order (a clock set back, a late import) and
# the projection was brought up to date part way through.

STATES = [S.REGISTERED, S.IN_REMEDIATION, S.CLOSED, S.REBOUND]
START = datetime.date(2016, 1, 1)
writes = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 40), st.sampled_from(STATES),
                            st.sampled_from(["古城街道", "鲁谷街道"]), st.booleans(), st.booleans()),
                  min_size=1, max_size=25)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=writes, probes=st.lists(st.integers(-1, 42), min_size=1, max_size=6))
def test_the_replay_equals_the_as_of_ledger_over_random_histories(clock, targets, personas, campaign, writes,
                                                                  probes):
    pks = [targets[code].pk for code in ("GC-0001", "GC-0003", "LG-0001")]
    with transaction.atomic():
        for index, offset, state, street, deleted, refresh in writes:
            clock.moment = noon(START + datetime.timedelta(days=offset))
            after = None if deleted and state == S.REBOUND else {"code": "T%d" % index, "state": state,
                                                                  "street": street}
            changelog_append(changes=[Change(OBJECT_TYPE, str(pks[index]), "t", "delete" if after is None else
                                             "update", None, after)])
            if refresh:
                standing_refresh()
        clock.moment = noon(TODAY)
        days = sorted({START + datetime.timedelta(days=p) for p in probes})
        series = pg.replay(_scope(personas, campaign, days[-1]), days)
        for day in days:
            snaps = as_of_snapshots(Target.objects.all(), day)
            standing = _standing(_scope(personas, campaign, day))
            assert {pk: (s["state"], s["street"]) for pk, s in snaps.items()} == {
                pk: (span.state, span.street) for pk, span in standing.items()}, day
            assert series.at(day) == sum(s["state"] in DONE_STATES for s in snaps.values())
            assert series.total[series.days.index(day)] == len(snaps)
            assert series.group_at("鲁谷街道", day) == sum(s["state"] in DONE_STATES and s["street"] == "鲁谷街道"
                                                        for s in snaps.values())
        transaction.set_rollback(True)


def test_the_burn_up_is_weekly_over_two_years_and_monthly_beyond(campaign):
    days = pg.burnup_days(campaign, datetime.date(2016, 1, 10))
    assert days[:3] == [datetime.date(2015, 11, 1), datetime.date(2015, 11, 8), datetime.date(2015, 11, 15)]
    assert datetime.date(2015, 12, 31) in days and days[-1] == datetime.date(2016, 1, 10)
    long = pg.burnup_days(campaign, datetime.date(2018, 6, 30))
    assert long[:4] == [datetime.date(2015, 11, 1), datetime.date(2015, 11, 30), datetime.date(2015, 12, 31),
                        datetime.date(2016, 1, 31)]
    assert datetime.date(2016, 2, 29) in long and datetime.date(2017, 6, 30) in long
    assert long[-1] == datetime.date(2018, 6, 30) and len(long) == len(set(long)) == 33
