"""The notification centre: a user's own notifications, and which kinds reach them by e-mail.

Every query starts from `request.user`: another user's notification is a 404, as if it did
not exist.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .models import Notification
from .notifications import email_choices_set, email_kinds, kinds, notification_read, notifications_read_all

PAGE_SIZE = 50


@login_required
@require_GET
def notification_list(request):
    page = Paginator(Notification.objects.filter(recipient=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/notifications.html", {"page": page})


@login_required
@require_POST
def notification_open(request, notification_id):
    """Mark it read and go to what it is about."""
    notification = get_object_or_404(Notification, pk=notification_id, recipient=request.user)
    notification_read(notification=notification)
    # The link is a path the calling room gave; anything else is not followed off the site.
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()}):
        return redirect(notification.url)
    return redirect("notifications")


@login_required
@require_POST
def notifications_read(request):
    count = notifications_read_all(user=request.user)
    messages.success(request, _("%(count)d notifications marked read.") % {"count": count})
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "POST"])
def email_choices(request):
    if request.method == "POST":
        email_choices_set(user=request.user, by_email=request.POST.getlist("kind"))
        messages.success(request, _("Your e-mail choices are saved."))
        return redirect("email_choices")
    return render(request, "core/email_choices.html", {"kinds": kinds(), "chosen": email_kinds(request.user)})
