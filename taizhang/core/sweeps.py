"""Sweeps: plain functions run every so often by the worker (`manage.py run_worker`).

A room registers its sweep from its AppConfig.ready (`sweep_register("deliveries",
deliveries_send, every=timedelta(minutes=1))`); core never names what a sweep does. A sweep
is a function of `now` that does whatever is due by then and returns counts: so it is
idempotent, and a run that was missed (the worker was down) is simply caught up by the next.

Two runs of one sweep at once (two workers, a run that outlasts its interval) must not both
do the work: each run first claims the sweep's lease row with a conditional UPDATE, and a
run that finds it held skips. A lease lapses after `lease` so that a worker that died
mid-run does not stop its sweep for ever. Each run that ran is recorded (`SweepRun`), with
the error's traceback when it failed, for the office's page.
"""

import logging
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Max, Q
from django.utils import timezone

from .models import SweepLease, SweepRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    """A registered sweep: its name, its function of `now`, how often it runs."""

    name: str
    function: Callable[..., dict | None]
    every: timedelta
    label: str = ""
    # Longer than a run can take: after it, a run's claim is taken to be a dead worker's.
    lease: timedelta = timedelta(minutes=30)

    @property
    def minutes(self) -> int:
        return int(self.every.total_seconds() // 60)


_SWEEPS: dict[str, Sweep] = {}


def sweep_register(name: str, function: Callable[..., dict | None], *, every: timedelta, label="",
                   lease: timedelta = timedelta(minutes=30)) -> Sweep:
    """Declare a sweep: `function(now=...)` is run every `every`, returning counts ({"sent": 3})."""
    sweep = Sweep(name, function, every, label, lease)
    if _SWEEPS.get(name, sweep) != sweep:
        raise ValueError("sweep %r is already registered differently" % name)
    _SWEEPS[name] = sweep
    return sweep


def sweeps() -> list[Sweep]:
    return sorted(_SWEEPS.values(), key=lambda s: s.name)


def _leases_exist(names: list[str], now) -> None:
    # A new sweep is due at once; ON CONFLICT DO NOTHING, as two workers may start together.
    SweepLease.objects.bulk_create([SweepLease(name=name, next_due_at=now) for name in names], ignore_conflicts=True)


def sweep_run(name: str, *, now=None) -> SweepRun | None:
    """Run sweep `name` now unless another run holds its lease; returns the run, or None if it skipped.

    The sweep's function gets `now` (the real time unless a test gives one); the lease and the
    run's record are kept on the real clock, which is what tells a dead worker's claim apart.
    """
    sweep = _SWEEPS[name]
    started = timezone.now()
    _leases_exist([name], started)
    token = uuid.uuid4().hex
    free = Q(held_until__isnull=True) | Q(held_until__lte=started)
    if not SweepLease.objects.filter(free, name=name).update(held_by=token, held_until=started + sweep.lease):
        logger.info("sweep %s skipped: another run holds it", name)
        return None
    run = SweepRun.objects.create(name=name, started_at=started)
    try:
        summary = sweep.function(now=now or started) or {}
        run.state, run.summary = SweepRun.State.OK, summary
    except Exception:  # recorded for the office, and the next run tries again
        logger.exception("sweep %s failed", name)
        run.state, run.error = SweepRun.State.FAILED, traceback.format_exc()
    finally:
        run.finished_at = timezone.now()
        run.save(update_fields=["state", "summary", "error", "finished_at"])
        SweepLease.objects.filter(name=name, held_by=token).update(held_by="", held_until=None)
    return run


def sweeps_due(*, now=None) -> list[str]:
    """The sweeps due at `now`, each claimed for this caller: its next time moved on by a
    conditional UPDATE, so two schedulers asking at once do not both get it."""
    now = now or timezone.now()
    registered = sweeps()
    _leases_exist([s.name for s in registered], now)
    return [s.name for s in registered
            if SweepLease.objects.filter(name=s.name, next_due_at__lte=now).update(next_due_at=now + s.every)]


def sweeps_overview() -> list[dict]:
    """Each registered sweep with its lease, its last run and its last failure (for the office):
    the same five queries however many sweeps there are."""
    names = [s.name for s in sweeps()]
    leases = {lease.name: lease for lease in SweepLease.objects.filter(name__in=names)}
    runs = SweepRun.objects.filter(name__in=names)
    last = _latest(runs)
    failed = _latest(runs.filter(state=SweepRun.State.FAILED))
    return [{"sweep": s, "lease": leases.get(s.name), "last": last.get(s.name), "last_failure": failed.get(s.name)}
            for s in sweeps()]


def _latest(runs) -> dict[str, SweepRun]:
    ids = runs.values("name").annotate(last=Max("id")).values_list("last", flat=True)
    return {run.name: run for run in SweepRun.objects.filter(id__in=list(ids))}


def sweep_failures(limit: int = 20):
    """The latest runs that failed, any sweep, newest first."""
    return SweepRun.objects.filter(state=SweepRun.State.FAILED).order_by("-started_at", "-pk")[:limit]


# What the runs' records keep: a month of runs that went well (failures are kept), a week of
# finished tasks. Without this the worker's once-a-minute sweep adds 1,440 rows a day to each.
RUNS_KEPT = timedelta(days=30)
TASKS_KEPT = timedelta(days=7)


def records_prune(*, now) -> dict:
    """The `housekeeping` sweep: forget old runs that went well and old finished tasks."""
    from django_tasks_db.models import DBTaskResult

    runs, _by_model = SweepRun.objects.filter(state=SweepRun.State.OK, started_at__lt=now - RUNS_KEPT).delete()
    tasks, _by_model = DBTaskResult.objects.filter(status__in=["SUCCESSFUL", "FAILED"],
                                                   finished_at__lt=now - TASKS_KEPT).delete()
    return {"runs": runs, "tasks": tasks}
