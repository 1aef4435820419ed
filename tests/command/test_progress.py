"""Progress read from the as-of ledger, with the clock set explicitly (tests/command/conftest.py)."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taizhang.command import progress as pg
from taizhang.command.models import GROUP_FIELDS, SUMS
from taizhang.command.standing import OUTCOME_KIND, standing_refresh
from taizhang.core.changelog import Change, changelog_append
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.asof import OBJECT_TYPE, as_of_snapshots, day_end
from taizhang.ledger.models import DONE_STATES, Target
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
    sums = pg.outcomes(pg.groups_on(scope))
    # 7 done in 古城 (8 closed, one rebounded): 10 people and 100.50 m² each.
    assert sums["古城街道"]["people_moved"] == 70
    assert sums["古城街道"]["demolished_area"] == Decimal("703.50")
    assert sums["鲁谷街道"]["funds_paid"] == Decimal("3000")
    early = _scope(personas, campaign, datetime.date(2016, 1, 31))
    assert pg.outcomes(pg.groups_on(early))["古城街道"]["people_moved"] == 10


def test_rebounds_count_targets_ever_done_and_ever_rebounded(history, personas, campaign):
    scope = _scope(personas, campaign, TODAY)
    found = {r.label: r for r in pg.rebounds(pg.groups_on(scope), ["古城街道", "鲁谷街道"])}
    assert (found["古城街道"].closed, found["古城街道"].rebounded, found["古城街道"].pct) == (8, 1, 12.5)
    before = _scope(personas, campaign, REBOUND[1] - datetime.timedelta(days=1))
    assert {r.label: r.rebounded for r in pg.rebounds(pg.groups_on(before), [])}["古城街道"] == 0


# Random histories: the projection (its spans and its tallies), the replay and the as-of ledger
# read the same log the same way, even when entries were written out of time order (a clock set
# back, a late import) and the projection was brought up to date part way through. Outcomes
# (people and money at acceptance, corrected, deleted) are written among the targets' entries.

STATES = [S.REGISTERED, S.IN_REMEDIATION, S.CLOSED, S.REBOUND]
START = datetime.date(2016, 1, 1)
STREETS = ["古城街道", "鲁谷街道"]
target_writes = st.tuples(st.just("target"), st.integers(0, 2), st.integers(0, 40), st.sampled_from(STATES),
                          st.sampled_from(STREETS), st.booleans(), st.booleans())
outcome_writes = st.tuples(st.just("outcome"), st.integers(0, 3), st.integers(0, 40),
                           st.sampled_from(["acceptance", "verification", "deleted"]), st.integers(0, 9),
                           st.decimals(0, 999, places=2), st.booleans())
writes = st.lists(st.one_of(target_writes, target_writes, outcome_writes), min_size=1, max_size=25)


def _write(pks, kind, index, offset, *rest):
    """One change-log entry: a target's snapshot (or its deletion), or an outcome of target
    `index % 3` (outcome ids 1..4, so that an outcome is corrected or deleted later)."""
    if kind == "target":
        state, street, deleted, _refresh = rest
        after = None if deleted and state == S.REBOUND else {"code": "T%d" % index, "state": state, "street": street}
        return Change(OBJECT_TYPE, str(pks[index]), "t", "delete" if after is None else "update", None, after)
    stage, people, funds, _refresh = rest
    after = None if stage == "deleted" else {"stage": stage, "people_moved": people, "funds_paid": str(funds)}
    return Change(OUTCOME_KIND, str(index + 1), "o", "delete" if after is None else "update", None, after,
                  target_id=pks[index % 3])


def _as_of(pks, day, only=None) -> dict:
    """{(street, state): [targets, ever done, ever rebounded, people, funds in hundredths]} from the
    log itself, of the targets in `only` (None: all)."""
    end = day_end(day)
    snaps = as_of_snapshots(Target.objects.all(), day)
    entries = ChangeLogEntry.objects.filter(at__lt=end).order_by("id")
    ever = {pk: {s for e in entries.filter(object_type=OBJECT_TYPE, object_id=str(pk)) for s in [
        (e.after or {}).get("state")]} for pk in pks}
    outcomes = {}
    for e in entries.filter(object_type=OUTCOME_KIND):
        outcomes[e.object_id] = (e.target_id, e.after if e.action != "delete" else None)
    found = {}
    for pk, snap in snaps.items():
        if only is not None and pk not in only:
            continue
        sums = found.setdefault((snap["street"], snap["state"]), [0, 0, 0, 0, 0])
        sums[0] += 1
        sums[1] += bool(ever[pk] & set(DONE_STATES))
        sums[2] += S.REBOUND in ever[pk]
        for target_id, after in outcomes.values():
            if target_id == pk and after and after["stage"] == "acceptance":
                sums[3] += after["people_moved"]
                sums[4] += int(Decimal(after["funds_paid"]) * 100)
    return found


def _by_street_state(rows) -> dict:
    found = {}
    for row in rows:
        g = dict(zip(GROUP_FIELDS, row[:len(GROUP_FIELDS)], strict=True))
        s = dict(zip(SUMS, row[len(GROUP_FIELDS):], strict=True))
        sums = found.setdefault((g["street"], g["state"]), [0, 0, 0, 0, 0])
        for index, name in enumerate(("n", "closed", "rebounded", "people_moved", "funds_paid")):
            sums[index] += s[name] or 0
    return {key: sums for key, sums in found.items() if sums[0]}


@pytest.mark.django_db
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=writes, probes=st.lists(st.integers(-1, 42), min_size=1, max_size=6))
def test_the_projection_equals_the_as_of_ledger_over_random_histories(clock, targets, personas, campaign, writes,
                                                                      probes):
    pks = [targets[code].pk for code in ("GC-0001", "GC-0003", "LG-0001")]
    with transaction.atomic():
        for kind, index, offset, *rest in writes:
            clock.moment = noon(START + datetime.timedelta(days=offset))
            changelog_append(changes=[_write(pks, kind, index, offset, *rest)])
            if rest[-1]:
                standing_refresh()
        clock.moment = noon(TODAY)
        days = sorted({START + datetime.timedelta(days=p) for p in probes})
        # The leader sees the campaign and a street user a street (both read the tallies); a rights
        # unit's user is counted from the spans.
        for name, tallied in (("lee", True), ("alice", True), ("dan", False)):
            seen = set(Target.objects.visible_to(personas[name]).filter(pk__in=pks).values_list("pk", flat=True))
            series = pg.replay(_scope(personas, campaign, days[-1], name=name), days)
            for day in days:
                expected = _as_of(pks, day, seen)
                scope = _scope(personas, campaign, day, name=name)
                assert (scope.tallied() is not None) == tallied
                if tallied:
                    assert _by_street_state(pg.tallied_groups(scope)) == expected, (name, day)
                assert _by_street_state(pg.counted_groups(scope)) == expected, (name, day)
                snaps = {pk: s for pk, s in as_of_snapshots(Target.objects.all(), day).items() if pk in seen}
                assert series.at(day) == sum(s["state"] in DONE_STATES for s in snaps.values())
                assert series.total[series.days.index(day)] == len(snaps)
                for street in STREETS:
                    assert series.group_at(street, day) == sum(s["state"] in DONE_STATES and s["street"] == street
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
