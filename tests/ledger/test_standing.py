"""The ledger's projection into spans of time (ledger.standing): read incrementally, rebuilt when
what it derives from changes. That it equals the as-of ledger for every day, out-of-order entries
included, is held by tests/command/test_progress.py over random histories."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.asof import OBJECT_TYPE, as_of_snapshots, snapshot_priority
from taizhang.ledger.models import Standing, StandingMark, Target
from taizhang.ledger.standing import standing_on, standing_refresh
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
    spans = list(Standing.objects.order_by("pk").values())
    with CaptureQueriesContext(connection) as queries:
        assert standing_refresh() == 0
    assert len(queries.captured_queries) <= 4
    assert not [q for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert list(Standing.objects.order_by("pk").values()) == spans


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
    answers = race("tests.ledger.test_standing:_refresh_in_child", [(), ()])
    assert not [a for a in answers if isinstance(a, str)], answers
    assert sum(answers) == ChangeLogEntry.objects.filter(object_type=OBJECT_TYPE).count()
    made = sorted(Standing.objects.values_list("entry_id", "ends", "state"))
    StandingMark.objects.all().delete()
    Standing.objects.all().delete()
    standing_refresh()
    assert sorted(Standing.objects.values_list("entry_id", "ends", "state")) == made
