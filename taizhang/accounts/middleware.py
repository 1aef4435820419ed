"""The first login after a password reset, or with a temporary password, sets a new one first."""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

# Set in the session by the login page when the account's profile asks for a new password;
# dropped when it is set. A reset changes the password, which ends every session already open.
MUST_CHANGE_PASSWORD = "taizhang_must_change_password"
# What stays open meanwhile: the page to set it, logging out, switching language.
OPEN = {"accounts:password_change", "logout", "login", "set_language"}


class PasswordChangeRequiredMiddleware:
    """Send every other request to the password page until the new password is set."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # The session is read already for the logged-in user; a visitor without one costs nothing.
        if not request.session.get(MUST_CHANGE_PASSWORD) or request.resolver_match.view_name in OPEN:
            return None
        url = reverse("accounts:password_change")
        if request.htmx:
            return HttpResponseClientRedirect(url)
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)
