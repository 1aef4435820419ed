"""Request middleware shared by every app."""

import logging

from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .context import request_context
from .db import is_busy
from .errors import ServiceError

logger = logging.getLogger(__name__)


class RequestIdMiddleware:
    """Give each request an id, so a bulk edit's change-log entries can be found together."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_context() as request_id:
            request.request_id = request_id
            return self.get_response(request)


class RefusalMiddleware:
    """Answer any service refusal, and a database too busy even after retries, with a page
    that says what happened instead of a server error.

    Views catch the refusals they expect and show them in place; this is the one answer for
    every other, so that a refusal a view did not foresee (a concurrent edit, say) is still
    a message and not a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, ServiceError):
            return _refused(request, str(exception), exception.status)
        if is_busy(exception):
            logger.warning("database still busy after retries: %s", exception)
            return _refused(request, _("The ledger is busy with other changes right now; nothing was changed. "
                                       "Try again in a moment."), 503)
        return None


def _refused(request, message: str, status: int):
    back = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = ""
    return render(request, "core/refused.html", {"message": message, "back": back}, status=status)
