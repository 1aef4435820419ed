"""The home page, my to-do list (我的待办) and its count in the header, and the list of petitions.

The home page lives here, in the top room, because it shows each role what waits for it
(remediation.todo) beside the figures of what it sees (the ledger's).
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may
from taizhang.ledger.selectors import current_campaign, user_campaigns

from .petitions import petitions_visible
from .todo import home_figures, todo_count, todo_sections

PAGE_SIZE = 50


def _no_role(request):
    return render(request, "ledger/no_role.html", status=403)


@require_GET
@login_required
def home(request):
    if not user_campaigns(request):
        return _no_role(request)
    campaign, user, today = current_campaign(request), request.user, timezone.localdate()
    return render(request, "remediation/home.html", dict(home_figures(user, campaign, today), campaign=campaign))


@require_GET
@login_required
def todo(request):
    if not user_campaigns(request):
        return _no_role(request)
    campaign = current_campaign(request)
    sections = todo_sections(request.user, campaign, timezone.localdate())
    return render(request, "remediation/todo.html", {
        "campaign": campaign, "sections": sections, "total": sum(len(s.lines) for s in sections),
        "limit_days": campaign.petition_open_limit_days()})


@require_GET
@login_required
def todo_count_view(request):
    """The header's count: asked by the header after the page loads, so no page pays for it."""
    count = todo_count(request.user, current_campaign(request), timezone.localdate()) if user_campaigns(request) else 0
    return render(request, "remediation/todo.html#count", {"count": count})


@require_GET
@login_required
def petition_list(request):
    if not user_campaigns(request):
        return _no_role(request)
    campaign, user, today = current_campaign(request), request.user, timezone.localdate()
    show_all = request.GET.get("all") == "1"
    page = Paginator(petitions_visible(user, campaign, open_only=not show_all), PAGE_SIZE).get_page(
        request.GET.get("page"))
    limit = campaign.petition_open_limit_days()
    for petition in page:
        # Who petitioned is shown only to those who handle petitions on that target.
        petition.may_handle = may(user, petition.target, Action.PETITION_HANDLE)
        petition.days_open = (today - petition.received_on).days
        petition.late = petition.status != petition.Status.CLOSED and petition.days_open > limit
    return render(request, "remediation/petition_list.html", {
        "campaign": campaign, "page": page, "show_all": show_all, "limit_days": limit})
