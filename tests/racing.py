"""Race real processes against the test database.

Children are spawned, not forked: the test process may hold threads (a live server,
Playwright) that a fork would copy half-way. Each child sets Django up afresh, pointed at
the same test database, and waits at a barrier so that all start their write together.
"""

import importlib
import multiprocessing
import os

from django.db import connection

SPAWN = multiprocessing.get_context("spawn")


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return "sqlite:///" + str(db["NAME"])
    return "postgres://%s@%s:%s/%s" % (db["USER"], db["HOST"], db["PORT"], db["NAME"])


def race(worker: str, args_per_process: list[tuple]) -> list:
    """Call `module:function`(*args) in one process per args tuple; return the sorted answers."""
    barrier, answers = SPAWN.Barrier(len(args_per_process)), SPAWN.Queue()
    url = _database_url()
    processes = [SPAWN.Process(target=_child, args=(url, worker, barrier, answers, args))
                 for args in args_per_process]
    for process in processes:
        process.start()
    results = sorted(answers.get(timeout=120) for _p in processes)
    for process in processes:
        process.join(30)
    return results


def _child(url, worker, barrier, answers, args):
    os.environ["TAIZHANG_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")
    import django

    django.setup()
    module, _sep, name = worker.partition(":")
    function = getattr(importlib.import_module(module), name)
    barrier.wait()
    try:
        answers.put(function(*args))
    except Exception as exc:  # report, never hang the parent
        answers.put("error: %r" % exc)
