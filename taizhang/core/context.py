"""Per-request context: a request id that ties together every change one action makes."""

import uuid
from contextlib import contextmanager
from contextvars import ContextVar

_request_id: ContextVar[uuid.UUID | None] = ContextVar("taizhang_request_id", default=None)


def current_request_id() -> uuid.UUID | None:
    return _request_id.get()


@contextmanager
def request_context(request_id: uuid.UUID | None = None):
    """Run a block (a request, a command) under one request id."""
    token = _request_id.set(request_id or uuid.uuid4())
    try:
        yield _request_id.get()
    finally:
        _request_id.reset(token)
