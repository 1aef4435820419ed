"""The command room's projection of the change log (command.standing): read incrementally, rebuilt
when what it derives from changes. That its spans and its tallies equal the as-of ledger for every
day, out-of-order entries included, is held by tests/command/test_progress.py over random histories."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.command.models import GROUP_FIELDS, SUMS, DayChange, MonthStanding, ProjectionMark, Span, StreetDayChange
from taizhang.command.standing import FIELDS, OUTCOME_KIND, standing_on, standing_refresh
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.asof import OBJECT_TYPE, as_of_snapshots, snapshot_priority
from taizhang.ledger.models import Target
from tests.conftest import make_target
from tests.history import TODAY
from tests.racing import race


def _priorities(campaign) -> int:
    reasons = snapshot_priority(campaign)
    return sum(bool(reasons(s)) for s in as_of_snapshots(Target.objects.all(), TODAY).values())


def test_a_change_of_the_priority_rules_rebuilds_the_projection(history, campaign):
    standing_refresh()
    before = standing_on(TODAY).filter(priority=True).count()
    assert before == _priorities(campaign) > 0
    campaign.rules = {**campaign.rules, "priority_rules": []}
    campaign.save(update_fields=["rules"])
    assert standing_refresh() > 0  # every entry read again under the new rules
    assert standing_on(TODAY).filter(priority=True).count() == 0 == _priorities(campaign)


def test_a_refresh_with_nothing_new_reads_and_writes_nothing(history):
    assert standing_refresh() > 0
    kept = _projection()
    with CaptureQueriesContext(connection) as queries:
        assert standing_refresh() == 0
    assert len(queries.captured_queries) <= 4
    assert not [q for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert _projection() == kept


def _projection() -> list:
    return [list(model.objects.order_by("pk").values()) for model in (Span, DayChange, MonthStanding,
                                                                     StreetDayChange)]


def test_a_refresh_reads_only_the_entries_appended_since(history, units):
    standing_refresh()
    make_target(units, "GC-0099", "GC", "JT")
    assert standing_refresh() == 1
    added = Target.objects.get(code="GC-0099")
    assert standing_on(TODAY).filter(target_id=added.pk).get().state == Target.State.REGISTERED


def _refresh_in_child() -> int:
    return standing_refresh()


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_read_each_entry_once(history):
    """Two processes bringing the projection up to date together: one reads each chunk, the
    other waits for it and reads on; the spans are those one refresh alone makes."""
    answers = race("tests.command.test_standing:_refresh_in_child", [(), ()])
    assert not [a for a in answers if isinstance(a, str)], answers
    assert sum(answers) == ChangeLogEntry.objects.filter(object_type__in=[OBJECT_TYPE, OUTCOME_KIND]).count()
    made = _contents()
    _months_add_up()  # up to the children's today: this process's clock is the tests' own
    ProjectionMark.objects.all().delete()
    standing_refresh()  # a rebuild from nothing: its signature is gone
    assert _contents() == made
    _months_add_up()


def _months_add_up():
    """Each month standing is its day changes added up (and a group left with none has no row)."""
    months = sorted(set(MonthStanding.objects.values_list("day", flat=True)))
    assert months, "no month standing to check"
    keys = ["campaign_id", *GROUP_FIELDS]
    for month in months:
        summed = {}
        for row in DayChange.objects.filter(day__lte=month).values(*keys, *SUMS):
            sums = summed.setdefault(tuple(row[k] for k in keys), [0] * len(SUMS))
            for index, name in enumerate(SUMS):
                sums[index] += row[name]
        stored = {tuple(row[k] for k in keys): [row[name] for name in SUMS]
                  for row in MonthStanding.objects.filter(day=month).values(*keys, *SUMS)}
        assert stored == {key: sums for key, sums in summed.items() if sums[0]}, month


def _contents() -> list:
    """What the projection holds, without the row ids a rebuild numbers anew."""
    return [sorted((tuple(row.values()) for row in model.objects.values(*fields)), key=repr) for model, fields in (
        (Span, ["target_id", "starts", "ends", "state", "closed_on", "people_moved"]),
        (DayChange, ["campaign_id", "day", "street", "state", "n", "closed", "rebounded", "funds_paid"]),
        (StreetDayChange, ["campaign_id", "day", "street", "system", "n", "done"]))]


def test_the_bulk_writers_store_what_the_orm_would(db):
    """core.bulk: an aware time goes in as the ORM would store it, and add_rows adds to a row
    with the same key, or inserts one."""
    import datetime
    from zoneinfo import ZoneInfo

    from taizhang.core.bulk import add_rows, insert_rows

    moment = datetime.datetime(2016, 3, 1, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    row = {name: Span._meta.get_field(name).get_default() for name in FIELDS}
    insert_rows(Span, [{**row, "target_id": 1, "starts": moment, "from_day": moment.date()}], FIELDS)
    Span.objects.create(target_id=2, starts=moment, from_day=moment.date())
    first, second = Span.objects.order_by("target_id")
    assert first.starts == second.starts == moment and first.ends is None
    key = {"campaign_id": 1, "day": moment.date(), "street": "古城街道", "system": "", "target_type": "",
           "state": "closed", "pilot": False, "priority": False, "reach_street": 3, "reach_system": 4}
    keys, zero = list(key), dict.fromkeys(SUMS, 0)
    add_rows(DayChange, [{**key, **zero, "n": 2, "closed": 1}], keys, SUMS)
    add_rows(DayChange, [{**key, **zero, "n": -1}, {**key, **zero, "street": "鲁谷街道", "n": 5, "closed": 5}],
             keys, SUMS)
    assert sorted(DayChange.objects.values_list("street", "n", "closed")) == [("古城街道", 1, 1), ("鲁谷街道", 5, 5)]


def test_the_command_brings_the_projection_up_to_date_ahead_of_the_first_page(history):
    import io

    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    call_command("refresh_projection", stdout=out, stderr=err)
    read = ChangeLogEntry.objects.filter(object_type__in=[OBJECT_TYPE, OUTCOME_KIND]).count()
    assert "%d change-log entries read" % read in out.getvalue()
    call_command("refresh_projection", stdout=out, stderr=err)
    assert "0 change-log entries read" in out.getvalue()
