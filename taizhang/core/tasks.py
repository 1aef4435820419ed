"""The tasks the worker runs (Django's tasks framework; django-tasks-db keeps the queue)."""

from django.tasks import task

from .sweeps import sweep_run


@task
def sweep(name: str) -> str:
    """Run a sweep the scheduler found due; a run that finds another one holding it skips."""
    run = sweep_run(name)
    return run.state if run else "skipped"
