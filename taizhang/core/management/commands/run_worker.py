"""The background worker: starts each sweep when it is due and runs the queued tasks.

One loop: ask which sweeps are due (core.sweeps.sweeps_due claims each for this worker, so
several workers do not queue one sweep twice), queue them as tasks, then run every task
ready in the queue with django-tasks-db's worker, and wait. Stopping (Ctrl-C, SIGTERM) lets
the task at hand finish; a second signal stops at once.
"""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from taizhang.core.sweeps import sweeps_due
from taizhang.core.tasks import sweep


class Command(BaseCommand):
    help = "Run background work: each sweep when it is due, and every queued task."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0,
                            help="Seconds between looks for due sweeps and queued tasks (default 5).")
        parser.add_argument("--once", action="store_true",
                            help="Queue the sweeps due now, run every queued task, and stop (for cron or a test).")

    def handle(self, *, interval: float, once: bool, verbosity: int, **options):
        worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default",
                        startup_delay=False, max_tasks=None, worker_id=get_random_string(32),
                        excluded_queue_names=[])
        self.stopping = False

        def stop(signum, frame):
            if self.stopping:
                raise KeyboardInterrupt
            self.stopping, worker.running = True, False

        if not once:
            signal.signal(signal.SIGINT, stop)
            signal.signal(signal.SIGTERM, stop)
            if verbosity:
                self.stdout.write("Worker running (every %ss); Ctrl-C to stop." % interval)
        while not self.stopping:
            close_old_connections()
            for name in sweeps_due():
                sweep.enqueue(name)
            worker.running = not self.stopping
            worker.run()
            if once:
                break
            deadline = time.monotonic() + interval
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(0.2)
