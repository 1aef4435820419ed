"""Sweeps: one run at a time under the lease, each run recorded (with its error when it fails),
due once per interval however many schedulers ask, and run by `manage.py run_worker`."""

import datetime
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from taizhang.core import sweeps
from taizhang.core.models import SweepLease, SweepRun
from taizhang.core.sweeps import sweep_register, sweep_run, sweeps_due
from tests.racing import race

T0 = timezone.make_aware(datetime.datetime(2016, 3, 1, 9, 0))
CALLS = []


def _counting(*, now):
    CALLS.append(now)
    return {"seen": 1}


def _broken(*, now):
    raise RuntimeError("the mail server said no")


def _slow(*, now):
    time.sleep(1.5)
    return {"slept": 1}


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """Sweeps registered for these tests only, beside the real ones."""
    monkeypatch.setattr(sweeps, "_SWEEPS", dict(sweeps._SWEEPS))
    CALLS.clear()
    sweep_register("test.counting", _counting, every=datetime.timedelta(minutes=10))
    sweep_register("test.broken", _broken, every=datetime.timedelta(minutes=10))
    sweep_register("test.slow", _slow, every=datetime.timedelta(minutes=10))


def test_a_run_is_recorded_with_what_it_did(db):
    run = sweep_run("test.counting", now=T0)
    assert CALLS == [T0]
    run.refresh_from_db()
    assert (run.state, run.summary, run.error) == (SweepRun.State.OK, {"seen": 1}, "")
    assert run.finished_at >= run.started_at
    assert SweepLease.objects.get(name="test.counting").held_until is None


def test_a_failed_run_is_recorded_with_its_error_and_frees_the_lease(db):
    run = sweep_run("test.broken")
    run.refresh_from_db()
    assert run.state == SweepRun.State.FAILED
    assert "RuntimeError: the mail server said no" in run.error and "Traceback" in run.error
    assert SweepLease.objects.get(name="test.broken").held_by == ""
    assert sweep_run("test.broken") is not None  # the next run tries again


def test_a_held_lease_makes_a_second_run_skip_until_it_lapses(db):
    sweep_run("test.counting")
    SweepLease.objects.filter(name="test.counting").update(
        held_by="another worker", held_until=timezone.now() + datetime.timedelta(minutes=5))
    assert sweep_run("test.counting") is None
    assert SweepRun.objects.filter(name="test.counting").count() == 1 and len(CALLS) == 1
    # The worker that held it died: once its lease lapses, the sweep runs again.
    SweepLease.objects.filter(name="test.counting").update(held_until=timezone.now() - datetime.timedelta(seconds=1))
    assert sweep_run("test.counting") is not None and len(CALLS) == 2


def _run(name: str) -> str:
    # A child process starts with the real registry only.
    sweep_register("test.slow", _slow, every=datetime.timedelta(minutes=10))
    run = sweep_run(name)
    return run.state if run else "skipped"


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_one_runs_and_one_skips():
    answers = race("tests.core.test_sweeps:_run", [("test.slow",), ("test.slow",)])
    assert answers == ["ok", "skipped"]
    assert SweepRun.objects.filter(name="test.slow").count() == 1


def test_a_sweep_is_due_once_per_interval_and_catches_up(db):
    assert "test.counting" in sweeps_due(now=T0)
    assert "test.counting" not in sweeps_due(now=T0)  # a second scheduler asking at once: not again
    assert "test.counting" not in sweeps_due(now=T0 + datetime.timedelta(minutes=9))
    # The worker was down for a day: one run is due, not 144.
    assert "test.counting" in sweeps_due(now=T0 + datetime.timedelta(days=1))
    assert "test.counting" not in sweeps_due(now=T0 + datetime.timedelta(days=1, minutes=1))


@pytest.mark.django_db(transaction=True)
def test_run_worker_once_runs_each_due_sweep_through_the_task_queue():
    from django_tasks_db.models import DBTaskResult

    call_command("run_worker", "--once", verbosity=0)
    ran = set(SweepRun.objects.values_list("name", "state"))
    assert {("deliveries", "ok"), ("test.counting", "ok"), ("test.broken", "failed")} <= ran
    assert DBTaskResult.objects.exclude(status="SUCCESSFUL").count() == 0
    call_command("run_worker", "--once", verbosity=0)  # nothing due yet: nothing runs again
    assert SweepRun.objects.filter(name="test.counting").count() == 1


def test_housekeeping_forgets_old_runs_that_went_well_but_keeps_failures(db):
    old = timezone.now() - datetime.timedelta(days=31)
    SweepRun.objects.create(name="test.counting", started_at=old, state=SweepRun.State.OK)
    SweepRun.objects.create(name="test.broken", started_at=old, state=SweepRun.State.FAILED, error="boom")
    recent = SweepRun.objects.create(name="test.counting", started_at=timezone.now(), state=SweepRun.State.OK)
    run = sweep_run("housekeeping")
    assert run.summary == {"runs": 1, "tasks": 0}
    assert set(SweepRun.objects.values_list("pk", flat=True)) == {
        recent.pk, run.pk, SweepRun.objects.get(state=SweepRun.State.FAILED).pk}
