"""The command room's tests share a small campaign with a history (tests/history.py)."""

from tests.history import clock, history  # noqa: F401  (fixtures)
