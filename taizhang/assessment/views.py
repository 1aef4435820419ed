"""Performance records' pages: the people and units a user may open, one record as a page
(printable) and as an .xlsx, and the HQ office's commendation form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may_in_campaign
from taizhang.core.errors import ServiceError
from taizhang.core.forms import errors_text
from taizhang.ledger.selectors import current_campaign
from taizhang.supervision.selectors import orders_visible

from .forms import CommendationForm
from .records import commendation_record, people_visible, person_record, unit_record, units_visible
from .xlsx import record_filename, write_record

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
@login_required
def records(request):
    campaign = current_campaign(request)
    return render(request, "assessment/records.html", {
        "campaign": campaign, "people": people_visible(request.user, campaign),
        "units": units_visible(request.user, campaign)})


def _answer(request, campaign, title: str, record, extra: dict):
    """The record as a page, or with ?format=xlsx as a workbook of exactly its rows."""
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(content_type=XLSX)
        response["Content-Disposition"] = "attachment; filename*=UTF-8''%s" % record_filename(campaign, title)
        write_record(response, record, title="%s · %s" % (campaign.name, title))
        return response
    return render(request, "assessment/record.html", {"campaign": campaign, "title": title, "record": record,
                                                      **extra})


@require_GET
@login_required
def person(request, user_id):
    campaign = current_campaign(request)
    someone = get_object_or_404(people_visible(request.user, campaign), pk=user_id)
    record = person_record(someone, campaign, timezone.localdate())
    may_commend = may_in_campaign(request.user, campaign, Action.COMMENDATION_RECORD)
    form = CommendationForm(units=someone.memberships.filter(unit__campaign=campaign).values("unit"),
                            orders=orders_visible(request.user, campaign)) if may_commend else None
    return _answer(request, campaign, someone.get_full_name() or someone.get_username(), record,
                   {"person": someone, "form": form})


@require_GET
@login_required
def unit(request, unit_id):
    campaign = current_campaign(request)
    found = get_object_or_404(units_visible(request.user, campaign), pk=unit_id)
    return _answer(request, campaign, found.name, unit_record(found, timezone.localdate()), {"unit": found})


@require_POST
@login_required
def commend(request, user_id):
    campaign = current_campaign(request)
    someone = get_object_or_404(people_visible(request.user, campaign), pk=user_id)
    form = CommendationForm(request.POST, units=someone.memberships.filter(unit__campaign=campaign).values("unit"),
                            orders=orders_visible(request.user, campaign))
    if not form.is_valid():
        messages.error(request, errors_text(form))
    else:
        try:
            commendation_record(actor=request.user, campaign=campaign, person=someone, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Commendation recorded."))
    return redirect("assessment:person", user_id=someone.pk)

