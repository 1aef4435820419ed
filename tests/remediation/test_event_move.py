"""The workflow's events moved from the ledger to remediation with their table: no row lost either way."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from taizhang.ledger.models import Target
from taizhang.remediation.models import TransitionEvent
from taizhang.remediation.workflow import target_step

BEFORE = [("remediation", "0001_initial"), ("ledger", "0004_demo_database_mark")]
HOLD = {"hold_reason": "产权纠纷", "hold_review_on": datetime.date(2016, 3, 1)}
FIELDS = ("id", "target_id", "from_state", "to_state", "actor_id", "comment")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_events_are_all_found_after_migrating_backwards_and_forwards(targets, personas):
    target = targets["GC-0001"]
    target_step(target=target, to=Target.State.ON_HOLD, actor=personas["carol"], comment="暂缓", **HOLD)
    target_step(target=target, to=Target.State.REGISTERED, actor=personas["carol"])
    events = sorted(TransitionEvent.objects.values_list(*FIELDS))
    assert len(events) == 2

    old = _migrate(BEFORE)  # remediation before it owned the model: the ledger's again
    OldEvent = old.get_model("ledger", "TransitionEvent")
    assert sorted(OldEvent.objects.values_list(*FIELDS)) == events
    written = OldEvent.objects.create(target_id=target.pk, from_state="registered", to_state="on_hold",
                                      comment="written before the move")
    events.append((written.pk, target.pk, "registered", "on_hold", None, "written before the move"))

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    new = _migrate(latest)
    assert sorted(new.get_model("remediation", "TransitionEvent").objects.values_list(*FIELDS)) == sorted(events)
    assert sorted(TransitionEvent.objects.values_list(*FIELDS)) == sorted(events)
    assert list(target.transitions.order_by("id").values_list("comment", flat=True))[-1] == "written before the move"
