"""Pages of the legal path: a target's legal and petitions section (its leases, judicial steps and
petitions; the petitions' own posts are petition_views.py), and the list of judicial steps across
targets.

The target's section is one template partial: the work page loads it with HTMX, and each
form in it posts back and gets the refreshed partial (without JavaScript: a redirect).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from taizhang.core.errors import ServiceError
from taizhang.core.forms import errors_text
from taizhang.ledger.selectors import current_campaign

from .legal import (
    lease_answer,
    lease_expose,
    lease_notice,
    lease_record,
    legal_step_done,
    legal_step_open,
    legal_steps,
    may_record_judicial,
    may_record_lease,
    target_leases,
)
from .legal_forms import AnswerForm, DayForm, LeaseForm, LegalFilterForm, PetitionForm, StepDoneForm, StepOpenForm
from .models import Lease, LegalStep, Petition
from .petitions import may_handle_petitions, target_petitions
from .views import _target

PAGE_SIZE = 50


def _context(request, target, notice=None) -> dict:
    leases = target_leases(target)
    return {
        "target": target, "leases": leases, "petitions": target_petitions(target), "notice": notice,
        "overdue": sum(step.overdue for _lease, steps, _next in leases for step in steps),
        "can_lease": may_record_lease(request.user, target),
        "can_judicial": may_record_judicial(request.user, target),
        "can_petition": may_handle_petitions(request.user, target),
        "lease_form": LeaseForm(auto_id="lease_%s"), "petition_form": PetitionForm(auto_id="petition_%s"),
        "answers": AnswerForm.base_fields["answer"].choices, "stages": LegalStep.Stage.choices,
        "statuses": Petition.Status.choices, "today": timezone.localdate(),
    }


def _after(request, target, *, error: str = "", success: str = ""):
    """The refreshed section for HTMX; otherwise back to the legal page with a message."""
    if request.htmx:
        notice = {"tags": "error" if error else "success", "text": error or success}
        return render(request, "remediation/legal.html#legal", _context(request, target, notice))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, success)
    return redirect("remediation:legal", pk=target.pk)


def section_write(request, target, form, action, success: str):
    """Read the form, call the service; refusals come back as a message naming the field."""
    if not form.is_valid():
        return _after(request, target, error=errors_text(form))
    try:
        action(form.cleaned_data)
    except ValidationError as exc:
        return _after(request, target, error=" ".join(exc.messages))
    except ServiceError as exc:
        return _after(request, target, error=str(exc))
    return _after(request, target, success=success)


def _lease(request, lease_id):
    lease = get_object_or_404(Lease, pk=lease_id)
    return lease, _target(request, lease.target_id)


@login_required
def legal(request, pk):
    target = _target(request, pk)
    template = "remediation/legal.html#legal" if request.htmx else "remediation/legal.html"
    return render(request, template, _context(request, target))


@require_POST
@login_required
def lease_add(request, pk):
    target = _target(request, pk)
    return section_write(request, target, LeaseForm(request.POST),
                         lambda d: lease_record(target=target, actor=request.user, **d), _("Lease recorded."))


@require_POST
@login_required
def notice(request, lease_id):
    lease, target = _lease(request, lease_id)
    return section_write(request, target, DayForm(request.POST),
                         lambda d: lease_notice(lease=lease, actor=request.user, sent_on=d["day"]),
                         _("Termination notice recorded."))


@require_POST
@login_required
def answer(request, lease_id):
    lease, target = _lease(request, lease_id)
    return section_write(request, target, AnswerForm(request.POST),
                         lambda d: lease_answer(lease=lease, actor=request.user, answer=d["answer"],
                                                answered_on=d["day"]),
                         _("Answer recorded."))


@require_POST
@login_required
def exposure(request, lease_id):
    lease, target = _lease(request, lease_id)
    return section_write(request, target, DayForm(request.POST),
                         lambda d: lease_expose(lease=lease, actor=request.user, exposed_on=d["day"]),
                         _("Exposure recorded."))


@require_POST
@login_required
def step_open(request, lease_id):
    lease, target = _lease(request, lease_id)
    return section_write(request, target, StepOpenForm(request.POST),
                         lambda d: legal_step_open(lease=lease, actor=request.user, **d), _("Judicial step opened."))


@require_POST
@login_required
def step_done(request, step_id):
    step = get_object_or_404(LegalStep.objects.select_related("lease"), pk=step_id)
    target = _target(request, step.lease.target_id)
    return section_write(request, target, StepDoneForm(request.POST),
                         lambda d: legal_step_done(step=step, actor=request.user, **d), _("Judicial step done."))


@require_GET
@login_required
def legal_list(request):
    campaign = current_campaign(request)
    form = LegalFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    steps = legal_steps(request.user, campaign, stage=filters.get("stage", ""), overdue=filters.get("overdue", False))
    page = Paginator(steps, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "remediation/legal_list.html#results" if request.htmx else "remediation/legal_list.html"
    return render(request, template, {"campaign": campaign, "form": form, "page": page, "query": query.urlencode(),
                                      "stages": LegalStep.Stage.choices})
