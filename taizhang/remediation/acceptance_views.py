"""Acceptance and anti-rebound pages: a target's section, overdue re-inspections, rebound rates."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may
from taizhang.core.errors import ServiceError
from taizhang.ledger.models import Target
from taizhang.ledger.selectors import current_campaign, ledger_targets

from .acceptance import (
    acceptance_record,
    inspection_record,
    inspections_overdue,
    rebound_rates,
    target_acceptances,
    target_inspections,
)
from .models import Acceptance
from .photos import PhotoError, photos_attach, photos_checked
from .views import _target

State = Target.State


class AcceptanceForm(forms.ModelForm):
    """The HQ office's checklist and decision; the service holds the rules (reasons when failed)."""

    decision = forms.ChoiceField(label=gettext_lazy("Decision"), choices=Acceptance.Decision.choices,
                                 widget=forms.RadioSelect)

    class Meta:
        model = Acceptance
        fields = ["tenants_cleared", "structures_demolished", "demolished_area", "site_cleaned", "land_returned",
                  "decision", "reasons"]
        widgets = {"reasons": forms.Textarea(attrs={"rows": 3}),
                   "demolished_area": forms.NumberInput(attrs={"min": "0", "step": "0.01", "inputmode": "decimal"})}


def _passed(value: str) -> bool:
    return value == "1"


class InspectionForm(forms.Form):
    """What the re-inspection found on site."""

    passed = forms.TypedChoiceField(
        label=gettext_lazy("Result"), coerce=_passed, widget=forms.RadioSelect,
        choices=[("1", gettext_lazy("Passed: no rebound")), ("0", gettext_lazy("Failed: the site has rebounded"))])
    findings = forms.CharField(label=gettext_lazy("Findings"), required=False, max_length=2000,
                               widget=forms.Textarea(attrs={"rows": 3}))
    done_on = forms.DateField(label=gettext_lazy("Inspected on (default: today)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))


def _refused(request, form, exc: ValidationError) -> None:
    """Put the service's refusal on the form fields it names (or above the form)."""
    by_field = exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}
    for field, errors in by_field.items():
        form.add_error(field if field in form.fields else None, errors)
    messages.error(request, _("Nothing was recorded: see the highlighted fields."))


def _page(request, target, *, acceptance_form=None, inspection_form=None):
    may_accept = target.state == State.COMPLETION_REPORTED and may(request.user, target, Action.ACCEPTANCE_RECORD)
    may_inspect = target.state == State.CLOSED and may(request.user, target, Action.INSPECTION_RECORD)
    context = {
        "target": target, "acceptances": target_acceptances(target), "inspections": target_inspections(target),
        "acceptance_form": (acceptance_form or AcceptanceForm()) if may_accept else None,
        "inspection_form": (inspection_form or InspectionForm()) if may_inspect else None,
        "today": timezone.localdate(),
    }
    template = "remediation/acceptance.html#section" if request.htmx else "remediation/acceptance.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@login_required
def acceptance(request, pk):
    target = _target(request, pk)
    if request.method == "GET":
        return _page(request, target)
    form = AcceptanceForm(request.POST)
    if form.is_valid():
        try:
            photos = photos_checked(request.FILES.getlist("photos"))
            with transaction.atomic():
                decided = acceptance_record(target=target, actor=request.user, **form.cleaned_data)
                photos_attach(target=target, actor=request.user, photos=photos, acceptance=decided)
        except PhotoError as exc:  # a refused file: nothing stored, and a 400 says so
            messages.error(request, str(exc))
            response = _page(request, target, acceptance_form=form)
            response.status_code = 400
            return response
        except ServiceError as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            _refused(request, form, exc)
            return _page(request, target, acceptance_form=form)
        else:
            target.refresh_from_db()
            messages.success(request, _("Acceptance recorded: the target is now “%(state)s”.") % {
                "state": target.get_state_display()})
        return redirect("remediation:work", pk=target.pk)
    return _page(request, target, acceptance_form=form)


@require_POST
@login_required
def reinspect(request, pk):
    target = _target(request, pk)
    form = InspectionForm(request.POST)
    if form.is_valid():
        try:
            inspection_record(target=target, actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            _refused(request, form, exc)
            return _page(request, target, inspection_form=form)
        else:
            target.refresh_from_db()
            messages.success(request, _("Re-inspection recorded: the target is “%(state)s”.") % {
                "state": target.get_state_display()})
        return redirect("remediation:work", pk=target.pk)
    return _page(request, target, inspection_form=form)


@require_GET
@login_required
def inspections(request):
    campaign = current_campaign(request)
    try:
        on = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        on = timezone.localdate()
    overdue = list(inspections_overdue(request.user, campaign, on))
    for inspection in overdue:
        inspection.days_overdue = (on - inspection.due_on).days
    return render(request, "remediation/inspections.html", {"campaign": campaign, "on": on, "overdue": overdue})


@require_GET
@login_required
def rebound(request):
    campaign = current_campaign(request)
    rates = rebound_rates(ledger_targets(request.user, campaign))
    return render(request, "remediation/inspections_rebound.html", {"campaign": campaign, "rates": rates})
