"""Transactions that survive contention: a deadlock or a serialization failure is retried.

PostgreSQL breaks a deadlock by failing one of the transactions in it; the failed one did
nothing (it rolled back), so running it again is safe, and after a few tries the writer
is told the ledger is busy rather than shown a server error.
"""

import functools
import random
import time

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction

ATTEMPTS = 4
# PostgreSQL's SQLSTATEs for "deadlock detected" and "could not serialize access".
TRANSIENT_SQLSTATES = {"40P01", "40001"}


def is_transient(exc: BaseException) -> bool:
    """Whether a database error is one that the same transaction, run again, may not meet."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    # SQLite: only once its busy timeout has run out; IMMEDIATE transactions queue before that.
    return "database is locked" in str(exc)


def atomic(func):
    """`transaction.atomic`, retried on a transient failure when it is the outermost transaction.

    Inside someone else's transaction it cannot be retried alone (the outer one is already
    lost): the error goes up to whoever opened it. Services that are retried must read what
    they change inside the transaction, not trust objects the caller loaded before it.
    """
    wrapped = transaction.atomic(func)

    @functools.wraps(func)
    def run(*args, **kwargs):
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return wrapped(*args, **kwargs)
        return retried(functools.partial(wrapped, *args, **kwargs))

    return run


def retried(call, attempts: int = ATTEMPTS):
    """call() until it does not fail transiently, at most `attempts` times, with a short random wait."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except OperationalError as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            # Random, so that the transactions that collided do not collide again in step.
            time.sleep(random.uniform(0.01, 0.05) * attempt)
