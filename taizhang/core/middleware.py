"""Request middleware shared by every app."""

from .context import request_context


class RequestIdMiddleware:
    """Give each request an id, so a bulk edit's change-log entries can be found together."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_context() as request_id:
            request.request_id = request_id
            return self.get_response(request)
