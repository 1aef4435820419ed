"""Logging in; the HQ office's pages: locked accounts, the change log's digest to print, background work."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from taizhang.campaigns.webhooks import unit_webhook_set
from taizhang.core.changelog import digest_make
from taizhang.core.deliveries import deliveries_failed, deliveries_retrying, delivery_retry
from taizhang.core.errors import ServiceError
from taizhang.core.models import Delivery
from taizhang.core.sweeps import sweep_failures, sweeps_overview

from .lockout import account_unlock, locked_accounts, unlockable_users
from .middleware import MUST_CHANGE_PASSWORD
from .models import Profile
from .scoping import is_hq_office, units_assignable


class LoginView(auth_views.LoginView):
    """Django's login page; an account that must set a new password (reset, or created with a
    temporary one) is sent to do that before anything else."""

    template_name = "accounts/login.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        if Profile.objects.filter(user=form.get_user(), must_change_password=True).exists():
            self.request.session[MUST_CHANGE_PASSWORD] = True
            return redirect("%s?%s" % (reverse("accounts:password_change"), urlencode({"next": response.url})))
        return response


def _require_office(request):
    # Only the HQ office unlocks accounts and prints the digest; others may not even see who is locked.
    if not is_hq_office(request.user):
        raise PermissionDenied


@login_required
@require_GET
def locked_list(request):
    _require_office(request)
    return render(request, "accounts/locked_accounts.html", {
        "accounts": locked_accounts(request.user),
        "lock_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)})


@login_required
@require_POST
def unlock(request, user_id):
    _require_office(request)
    user = get_object_or_404(unlockable_users(request.user), pk=user_id)
    try:
        account_unlock(actor=request.user, user_id=user.pk)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(username)s is unlocked.") % {"username": user.username})
    return redirect("accounts:locked")


@login_required
@require_GET
def history_digest(request):
    """The chain's head now (日终摘要), to print, sign and file; `verify_history --against` checks it."""
    _require_office(request)
    return render(request, "accounts/history_digest.html", {"digest": digest_make(), "now": timezone.now()})


@login_required
@require_GET
def background(request):
    """The sweeps' last runs and failures, and the e-mails and webhook posts that failed: what
    the worker could not do is shown here, never dropped."""
    _require_office(request)
    return render(request, "accounts/background.html", {
        "sweeps": sweeps_overview(), "sweep_failures": sweep_failures(),
        "failed": deliveries_failed(), "retrying": deliveries_retrying()})


@login_required
@require_GET
def robots(request):
    """Each unit's group robot (政务微信 / 钉钉 webhook), for the HQ office of its campaign: shown
    without its query (the robot's token), set or removed here."""
    _require_office(request)
    units = units_assignable(request.user).select_related("campaign").order_by("campaign", "sort", "name")
    return render(request, "accounts/robots.html", {"units": units})


@login_required
@require_POST
def robot_set(request, unit_id):
    _require_office(request)
    unit = get_object_or_404(units_assignable(request.user), pk=unit_id)
    try:
        unit_webhook_set(unit=unit, url=request.POST.get("url", "")[:500])
    except ServiceError as error:
        messages.error(request, "%s: %s" % (unit.name, error))
    else:
        messages.success(request, _("%(unit)s: group robot saved.") % {"unit": unit.name})
    return redirect("accounts:robots")


@login_required
@require_POST
def delivery_retry_view(request, delivery_id):
    _require_office(request)
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    try:
        delivery_retry(delivery=delivery)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("It will be sent again within a minute."))
    return redirect("accounts:background")
