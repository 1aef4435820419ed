"""Where an import's time goes: wall-clock seconds per stage, measured inside the timed run.

The stages are functions the import calls a few times each (once, or once per chunk of
2,000 rows), so timing them around the calls costs microseconds, not a distortion.
They are private names of the import: if one is renamed, this fails loudly rather than
reporting a stage as taking no time.
"""

import functools
from collections import defaultdict
from contextlib import contextmanager
from time import perf_counter

# (stage, module, function); stages nest nowhere: each function runs outside the others.
STAGES = (
    ("read the sheet (calamine and header)", "taizhang.ledger.importing", "read_table"),
    ("check every cell", "taizhang.ledger.importing", "check_rows"),
    ("plan: stored rows, rights, diffs", "taizhang.ledger.importing", "_plan_writes"),
    ("write targets (values prepared, SQL)", "taizhang.ledger.services", "insert_rows"),
    ("write targets (values prepared, SQL)", "taizhang.ledger.services", "update_rows"),
    ("read back new ids (SQL)", "taizhang.ledger.services", "_pks_by_code"),
    ("change log: encode, hash", "taizhang.ledger.services", "changelog_append"),
    ("change log: write (SQL)", "taizhang.core.changelog", "insert_prepared"),
)
COMMIT = "commit"
OTHER = "the rest (rows, priorities, snapshots, units)"


@contextmanager
def timed_stages():
    """Yield a dict that fills with {stage: seconds} while the block runs."""
    import importlib

    from django.db import DEFAULT_DB_ALIAS, connections

    seconds = defaultdict(float)
    patched = []

    def timed(stage, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start = perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[stage] += perf_counter() - start
        return wrapper

    for stage, module_name, name in STAGES:
        module = importlib.import_module(module_name)
        function = getattr(module, name)  # AttributeError when the import changed: update STAGES
        patched.append((module, name, function))
        setattr(module, name, timed(stage, function))
    wrapper_class = type(connections[DEFAULT_DB_ALIAS])
    original_commit = wrapper_class._commit
    wrapper_class._commit = timed(COMMIT, original_commit)
    try:
        yield seconds
    finally:
        for module, name, function in patched:
            setattr(module, name, function)
        wrapper_class._commit = original_commit


def breakdown(seconds: dict, total: float) -> list[tuple[str, float]]:
    """(stage, seconds) in the order of STAGES, the change log's own work net of its
    write, and what no stage covers as the rest."""
    stages = dict(seconds)
    log, log_write = stages.get("change log: encode, hash", 0.0), stages.get("change log: write (SQL)", 0.0)
    stages["change log: encode, hash"] = log - log_write
    names = list(dict.fromkeys(stage for stage, _module, _name in STAGES)) + [COMMIT]
    rows = [(name, stages.get(name, 0.0)) for name in names]
    rows.append((OTHER, total - sum(value for _name, value in rows)))
    return rows
