"""Pages of one compound, one policy (一院一策): a target's plan versions and the policy library."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import model_to_dict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import campaigns_for, may, may_in_campaign
from taizhang.core.errors import ServiceError
from taizhang.ledger.models import Target
from taizhang.ledger.selectors import current_campaign

from .models import Plan, Policy
from .plan_forms import PlanForm, PolicyForm, PolicySearchForm, StepFormSet, owner_choices
from .plans import (
    OPEN_VERSIONS,
    POLICY_FIELDS,
    campaign_policies,
    locked_reason,
    means_labels,
    owner_units,
    plan_approve,
    plan_create,
    plan_new_version,
    plan_submit,
    plan_template,
    plan_update,
    policies_search,
    policy_citations,
    policy_create,
    policy_tags,
    policy_update,
    target_plans,
)
from .views import _target


@require_GET
@login_required
def plans(request, pk):
    """The target's plan versions; the work page loads it as a partial."""
    target = _target(request, pk)
    versions = list(target_plans(target))
    for plan in versions:
        plan.means_display = means_labels(plan.means)
    open_plan = next((p for p in versions if p.status in OPEN_VERSIONS), None)
    context = {"target": target, "plans": versions, "open_plan": open_plan,
               "can_record": may(request.user, target, Action.PLAN_RECORD),
               "can_approve": may(request.user, target, Action.PLAN_APPROVE)}
    return render(request, "remediation/plans.html#plans" if request.htmx else "remediation/plans.html", context)


@login_required
def plan_create_view(request, pk):
    target = _target(request, pk)
    if not may(request.user, target, Action.PLAN_RECORD):
        raise PermissionDenied
    template = plan_template(target) or {"means": [], "steps": []}
    initial = {"planned_on": timezone.localdate(), "means": template["means"]}
    return _plan_form(request, target, None, initial, [{"description": s} for s in template["steps"]])


@login_required
def plan_edit(request, plan_id):
    plan = get_object_or_404(Plan, pk=plan_id)
    target = _target(request, plan.target_id)
    if not may(request.user, target, Action.PLAN_RECORD):
        raise PermissionDenied
    if locked_reason(plan):
        messages.error(request, locked_reason(plan))
        return redirect("remediation:work", pk=target.pk)
    initial = {"planned_on": plan.planned_on, "means": plan.means, "summary": plan.summary}
    steps = [{"description": s.description, "means": s.means, "owner": str(s.owner_id or ""), "due_on": s.due_on,
              "policies": [str(p.pk) for p in s.policies.all()]} for s in plan.steps.prefetch_related("policies")]
    return _plan_form(request, target, plan, initial, steps)


def _plan_form(request, target, plan, initial, steps_initial):
    """Create (plan None) or edit a version: header and steps in one form."""
    units = owner_units(target.campaign_id)
    choices = {"owners": owner_choices(units),
               "policies": [(str(p.pk), p.title) for p in campaign_policies(target.campaign_id).only("id", "title")]}
    form = PlanForm(request.POST or None, initial=initial)
    steps = StepFormSet(request.POST or None, initial=steps_initial, prefix="steps", form_kwargs=choices)
    if request.method == "POST" and form.is_valid() and steps.is_valid():
        by_pk = {u.pk: u for u in units}
        rows = [row for row in (f.row(by_pk) for f in steps.forms) if row is not None]
        header = {"planned_on": form.cleaned_data["planned_on"], "means": form.cleaned_data["means"],
                  "summary": form.cleaned_data["summary"], "steps": rows}
        try:
            if plan is None:
                saved = plan_create(target=target, actor=request.user, **header)
            else:
                saved = plan_update(plan=plan, actor=request.user, **header)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except ServiceError as exc:
            messages.error(request, str(exc))
            return redirect("remediation:work", pk=target.pk)
        else:
            messages.success(request, _("Plan v%(version)s saved as a draft.") % {"version": saved.version})
            return redirect("remediation:work", pk=target.pk)
    return render(request, "remediation/plans_form.html", {"target": target, "plan": plan, "form": form,
                                                           "steps": steps})


@require_POST
@login_required
def plan_submit_view(request, plan_id):
    plan = get_object_or_404(Plan, pk=plan_id)
    target = _target(request, plan.target_id)
    try:
        plan = plan_submit(plan=plan, actor=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Plan v%(version)s submitted to the HQ office.") % {"version": plan.version})
    return redirect("remediation:work", pk=target.pk)


@require_POST
@login_required
def plan_approve_view(request, plan_id):
    plan = get_object_or_404(Plan, pk=plan_id)
    target = _target(request, plan.target_id)
    try:
        plan = plan_approve(plan=plan, actor=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Plan v%(version)s approved.") % {"version": plan.version})
        if target.state == Target.State.VERIFIED:
            # Approval does not move the target (see plans.py): say what comes next.
            messages.info(request, _("Take the step “Plan approved” to move the target on."))
    return redirect("remediation:work", pk=target.pk)


@require_POST
@login_required
def plan_new_version_view(request, pk):
    target = _target(request, pk)
    try:
        plan = plan_new_version(target=target, actor=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("remediation:work", pk=target.pk)
    messages.success(request, _("Plan v%(version)s drafted from the latest version.") % {"version": plan.version})
    return redirect("remediation:plan_edit", plan_id=plan.pk)


# The policy library (法规汇集)

def _policy(request, policy_id):
    """A policy of a campaign the user takes part in; 404 otherwise."""
    return get_object_or_404(Policy.objects.select_related("campaign"), pk=policy_id,
                             campaign__in=campaigns_for(request.user))


@require_GET
@login_required
def policies(request):
    campaign = current_campaign(request)
    form = PolicySearchForm(request.GET)
    found = list(policies_search(campaign, **form.cleaned_data)) if form.is_valid() else []
    for item in found:
        item.tags_list = [t for t in item.tags.split(",") if t]
    context = {"campaign": campaign, "policies": found, "form": form,
               "q": form["q"].value() or "", "tag": form["tag"].value() or "",
               "tags": policy_tags(campaign), "can_edit": may_in_campaign(request.user, campaign, Action.POLICY_EDIT)}
    template = "remediation/policies.html#results" if request.htmx else "remediation/policies.html"
    return render(request, template, context, status=400 if form.errors else 200)


@require_GET
@login_required
def policy(request, policy_id):
    found = _policy(request, policy_id)
    return render(request, "remediation/policies_detail.html", {
        "policy": found, "tags": [t for t in found.tags.split(",") if t],
        "citations": policy_citations(request.user, found),
        "can_edit": may_in_campaign(request.user, found.campaign, Action.POLICY_EDIT)})


@login_required
def policy_create_view(request):
    campaign = current_campaign(request)
    return _policy_form(request, campaign, None)


@login_required
def policy_edit(request, policy_id):
    found = _policy(request, policy_id)
    return _policy_form(request, found.campaign, found)


def _policy_form(request, campaign, policy):
    if not may_in_campaign(request.user, campaign, Action.POLICY_EDIT):
        raise PermissionDenied
    initial = model_to_dict(policy, fields=POLICY_FIELDS) if policy else None
    if initial:
        initial["tags"] = initial["tags"].replace(",", ", ")
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if policy is None:
                policy = policy_create(campaign=campaign, actor=request.user, **form.cleaned_data)
            else:
                policy = policy_update(policy=policy, actor=request.user, changes=form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Saved."))
            return redirect("remediation:policy", policy_id=policy.pk)
    return render(request, "remediation/policies_form.html", {"form": form, "policy": policy})
