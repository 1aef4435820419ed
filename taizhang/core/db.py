"""Transactions that survive contention: a deadlock or a serialization failure is retried.

PostgreSQL breaks a deadlock by failing one of the transactions in it; the failed one did
nothing (it rolled back), so running it again is safe, and after a few tries the writer
is told the ledger is busy rather than shown a server error.
"""

import functools
import random
import time

from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, OperationalError, connections, transaction

ATTEMPTS = 4
# PostgreSQL's SQLSTATEs for "deadlock detected" and "could not serialize access".
TRANSIENT_SQLSTATES = {"40P01", "40001"}


def is_transient(exc: BaseException) -> bool:
    """Whether a database error is one that the same transaction, run again, may not meet."""
    return isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) in TRANSIENT_SQLSTATES


def is_busy(exc: BaseException) -> bool:
    """Whether the database could not take the write now: a transient failure that retries did
    not get past, or SQLite's busy timeout run out. That last one is not retried: its writers
    already queued for the whole timeout, and a retry would make the writer wait as long again."""
    return is_transient(exc) or (isinstance(exc, OperationalError) and "database is locked" in str(exc))


def atomic(func=None, *, retry_when=is_transient):
    """`transaction.atomic`, run again on a failure `retry_when` accepts (by default a transient
    one) when it is the outermost transaction.

    Inside someone else's transaction it cannot be retried alone (the outer one is already
    lost): the error goes up to whoever opened it. Services that are retried must read what
    they change inside the transaction, not trust objects the caller loaded before it.
    """
    if func is None:
        return functools.partial(atomic, retry_when=retry_when)
    wrapped = transaction.atomic(func)

    @functools.wraps(func)
    def run(*args, **kwargs):
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return wrapped(*args, **kwargs)
        return retried(functools.partial(wrapped, *args, **kwargs), retry_when=retry_when)

    return run


def is_unique_violation(exc: BaseException) -> bool:
    """A row someone else inserted between our check that it was absent and our insert."""
    return isinstance(exc, IntegrityError) and getattr(exc.__cause__, "sqlstate", None) == "23505"


def retried(call, attempts: int = ATTEMPTS, retry_when=is_transient):
    """call() until it does not fail in a way `retry_when` accepts, at most `attempts` times,
    with a short random wait."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except DatabaseError as exc:
            if attempt == attempts or not retry_when(exc):
                raise
            # Random, so that the transactions that collided do not collide again in step.
            time.sleep(random.uniform(0.01, 0.05) * attempt)
