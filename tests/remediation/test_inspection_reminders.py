"""Re-inspections that fall due are told to the target's street once, by the worker's sweep."""

import datetime

import pytest
from django.utils import timezone

from taizhang.core.models import Notification
from taizhang.core.sweeps import sweep_run
from taizhang.remediation.acceptance import inspection_record
from taizhang.remediation.models import Inspection
from taizhang.remediation.reminders import inspections_sweep
from tests.remediation.test_acceptance import _closed

pytestmark = pytest.mark.usefixtures("english")


def _at(day: datetime.date):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))


def test_the_street_is_told_of_each_reinspection_due_once(targets, personas):
    target = targets["GC-0001"]
    _closed(target, personas)
    first = Inspection.objects.filter(target=target).order_by("due_on").first()
    assert inspections_sweep(now=_at(first.due_on - datetime.timedelta(days=1))) == {"due": 0, "told": 0}
    assert inspections_sweep(now=_at(first.due_on)) == {"due": 1, "told": 1}
    assert inspections_sweep(now=_at(first.due_on + datetime.timedelta(days=1))) == {"due": 1, "told": 0}
    told = Notification.objects.filter(kind="inspection.due")
    assert list(told.values_list("recipient__username", flat=True)) == ["alice"]  # 古城's staff, not 鲁谷's
    assert told.get().title == "Re-inspection of GC-0001 GC-0001大院 is due on %s." % first.due_on.isoformat()


def test_a_reinspection_done_is_not_told(targets, personas, monkeypatch):
    target = targets["GC-0001"]
    _closed(target, personas)
    first = Inspection.objects.filter(target=target).order_by("due_on").first()
    monkeypatch.setattr(timezone, "now", lambda: _at(first.due_on))
    inspection_record(target=target, actor=personas["alice"], passed=True)
    assert inspections_sweep(now=_at(first.due_on)) == {"due": 0, "told": 0}


def test_the_worker_runs_it_as_the_inspections_sweep(targets, personas):
    _closed(targets["GC-0001"], personas)
    due = Inspection.objects.order_by("due_on").first().due_on
    run = sweep_run("inspections", now=_at(due))
    assert (run.state, run.summary) == (run.State.OK, {"due": 1, "told": 1})
