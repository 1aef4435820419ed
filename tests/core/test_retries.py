"""Transactions that meet contention: a deadlock is run again, a busy SQLite is not, and
either left over is a message (503) with nothing changed, never a server error."""

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from taizhang.core import db
from taizhang.core.middleware import RefusalMiddleware


class _Deadlock(Exception):
    sqlstate = "40P01"


def _error(text: str, cause=None) -> OperationalError:
    exc = OperationalError(text)
    exc.__cause__ = cause
    return exc


def test_a_deadlocked_transaction_is_run_again(monkeypatch, transactional_db):
    monkeypatch.setattr(db.time, "sleep", lambda seconds: None)
    calls = []

    @db.atomic
    def write():
        calls.append(1)
        if len(calls) < 3:
            raise _error("deadlock detected", _Deadlock())
        return "written"

    assert write() == "written" and len(calls) == 3


def test_a_busy_sqlite_is_not_run_again(transactional_db):
    calls = []

    @db.atomic
    def write():
        calls.append(1)
        raise _error("database is locked")

    with pytest.raises(OperationalError):
        write()
    assert len(calls) == 1  # its writers already waited the whole busy timeout


@pytest.mark.parametrize("exc", [_error("deadlock detected", _Deadlock()), _error("database is locked")])
def test_the_database_still_busy_is_a_503_with_a_message(exc, db):
    request = RequestFactory().post("/work/targets/1/step/")
    response = RefusalMiddleware(lambda r: None).process_exception(request, exc)
    assert response.status_code == 503
    assert "nothing was changed" in response.content.decode() or "未做任何更改" in response.content.decode()


def test_other_database_errors_are_left_to_django(db):
    request = RequestFactory().get("/")
    assert RefusalMiddleware(lambda r: None).process_exception(request, _error("no such table: x")) is None
