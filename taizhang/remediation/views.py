"""Remediation pages: a target's workflow, its timeline and its joint verification."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may, sees_whole_campaign
from taizhang.core.coordinates import CoordinateSystem
from taizhang.core.errors import ServiceError
from taizhang.ledger.models import Target
from taizhang.ledger.selectors import current_campaign, ledger_targets

from .checks import label
from .forms import LessonForm, OutcomeForm, StepForm, TenantFormSet, VerificationForm
from .models import Outcome, Photo, PilotLesson, TransitionEvent, Verification
from .models.plans import Means
from .outcomes import outcome_record, outcome_totals
from .photos import PhotoError, photos_attach, photos_checked
from .pilots import PilotError, lesson_record, pilot_comparison, pilot_mark, quota_warnings
from .verification import differences, verification_confirm, verification_record
from .workflow import offered_steps, target_step


def _target(request, pk):
    """The target if the user may see it; 404 otherwise."""
    campaign = current_campaign(request)
    return get_object_or_404(ledger_targets(request.user, campaign).select_related("street", "system"), pk=pk)


@login_required
def work(request, pk):
    target = _target(request, pk)
    user = request.user
    verifications = list(Verification.objects.filter(target=target).prefetch_related("tenants", "photos"))
    can_confirm = (may(user, target, Action.VERIFICATION_CONFIRM_STREET)
                   or may(user, target, Action.VERIFICATION_CONFIRM_HOLDER))
    outcomes = {o.stage: o for o in Outcome.objects.filter(target=target)}
    return render(request, "remediation/work.html", {
        "target": target, "steps": offered_steps(target, user), "step_form": StepForm(),
        "outcome_forms": [(stage, label, OutcomeForm(instance=outcomes.get(stage), prefix=stage))
                          for stage, label in Outcome.Stage.choices],
        "can_record_outcomes": may(user, target, Action.OUTCOME_RECORD),
        "can_mark_pilot": may(user, target, Action.PILOT_MARK),
        "lessons": PilotLesson.objects.filter(target=target), "lesson_form": LessonForm(),
        "events": TransitionEvent.objects.filter(target=target).select_related("actor"),
        "verifications": [(v, _labelled(differences(v))) for v in verifications],
        "can_record": may(user, target, Action.VERIFICATION_RECORD), "can_confirm": can_confirm,
    })


def _labelled(diffs):
    """A verification's differences headed by the ledger's column names, not the fields'."""
    shown = {"coordinate_system": lambda value: CoordinateSystem(value).label}
    return [(capfirst(label(Target, field)), *map(shown.get(field, str), (ledger, found)))
            for field, ledger, found in diffs]


@require_POST
@login_required
def step(request, pk):
    target = _target(request, pk)
    form = StepForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The step could not be read: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("remediation:work", pk=target.pk)
    data = form.cleaned_data
    try:
        target_step(target=target, to=data["to"], actor=request.user, comment=data["comment"],
                    hold_reason=data["hold_reason"], hold_review_on=data["hold_review_on"])
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:  # the step brought `target` up to date
        messages.success(request, _("Done: the target is now “%(state)s”.") % {"state": target.get_state_display()})
    return redirect("remediation:work", pk=target.pk)


@login_required
def verify(request, pk):
    target = _target(request, pk)
    if not may(request.user, target, Action.VERIFICATION_RECORD):
        return redirect("remediation:work", pk=target.pk)
    form = VerificationForm(request.POST or None, initial=_ledger_facts(target))
    tenants = TenantFormSet(request.POST or None, prefix="tenants")
    if request.method == "POST" and form.is_valid() and tenants.is_valid():
        rows = [t.cleaned_data for t in tenants if t.has_changed() and t.cleaned_data.get("name")]
        try:
            photos = photos_checked(request.FILES.getlist("photos"))
            with transaction.atomic():
                verification = verification_record(target=target, actor=request.user, facts=form.cleaned_data,
                                                   tenants=rows)
                photos_attach(target=target, actor=request.user, photos=photos, verification=verification)
        except PhotoError as exc:  # a refused file: nothing stored, and a 400 says so
            messages.error(request, str(exc))
            return render(request, "remediation/verify.html", {"target": target, "form": form, "tenants": tenants},
                          status=400)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Verification recorded; it counts once both parties confirm it."))
            return redirect("remediation:work", pk=target.pk)
    return render(request, "remediation/verify.html", {"target": target, "form": form, "tenants": tenants})


def _ledger_facts(target):
    """Start the form from what the ledger holds; the team corrects it on site."""
    return {"land_rights_holder": target.land_rights_unit, "rented_floor_area": target.rented_floor_area,
            "resident_population": target.resident_population, "business_count": target.business_count,
            "hazards": target.hazards, "longitude": target.longitude, "latitude": target.latitude}


@require_POST
@login_required
def confirm(request, verification_id):
    verification = get_object_or_404(Verification, pk=verification_id)
    target = _target(request, verification.target_id)
    try:
        verification_confirm(verification=verification, actor=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Confirmed."))
    return redirect("remediation:work", pk=target.pk)


@login_required
def photo(request, photo_id):
    """A photo as it was uploaded, only for those who may see its target."""
    photo = get_object_or_404(Photo, pk=photo_id)
    _target(request, photo.target_id)
    return FileResponse(photo.file.open("rb"), content_type=photo.content_type)


@login_required
def photo_thumbnail(request, photo_id):
    """A photo's thumbnail (a small JPEG, photos.thumbnail_bytes), as the photo itself is served."""
    photo = get_object_or_404(Photo, pk=photo_id)
    _target(request, photo.target_id)
    if not photo.thumbnail:
        raise Http404("no thumbnail")
    response = FileResponse(photo.thumbnail.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"  # it never changes; the phone keeps it a day
    return response


@require_POST
@login_required
def outcome_save(request, pk, stage):
    target = _target(request, pk)
    form = OutcomeForm(request.POST, prefix=stage)
    if not form.is_valid():
        messages.error(request, _("People and money not saved: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("remediation:work", pk=target.pk)
    try:
        outcome_record(target=target, actor=request.user, stage=stage, values=form.cleaned_data)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("People and money saved."))
    return redirect("remediation:work", pk=target.pk)


@login_required
def outcomes_report(request):
    campaign = current_campaign(request)
    tables = {by: outcome_totals(request.user, campaign, by) for by in ("street", "system")}
    for row in tables["street"] + tables["system"]:
        row["stage_label"] = Outcome.Stage(row["stage"]).label
    return render(request, "remediation/outcomes.html", {
        "campaign": campaign, "by_street": tables["street"], "by_system": tables["system"]})


@require_POST
@login_required
def pilot_toggle(request, pk):
    target = _target(request, pk)
    try:
        warnings = pilot_mark(target=target, actor=request.user, is_pilot=request.POST.get("is_pilot") == "1")
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        for warning in warnings:
            messages.warning(request, warning)
    return redirect("remediation:work", pk=target.pk)


@require_POST
@login_required
def lesson_add(request, pk):
    target = _target(request, pk)
    form = LessonForm(request.POST)
    try:
        if not form.is_valid():
            raise PilotError(form.errors.as_text())
        lesson_record(target=target, actor=request.user, **form.cleaned_data)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Lesson recorded."))
    return redirect("remediation:work", pk=target.pk)


@login_required
def pilots_report(request):
    campaign = current_campaign(request)
    targets = ledger_targets(request.user, campaign)
    comparison = pilot_comparison(targets)
    for row in comparison:
        row["means"] = [(Means(code).label if code in Means.values else code, n) for code, n in row["means"]]
    return render(request, "remediation/pilots.html", {
        "campaign": campaign, "comparison": comparison,
        "pilots": targets.filter(is_pilot=True).select_related("street", "system").prefetch_related("lessons"),
        "warnings": quota_warnings(campaign) if sees_whole_campaign(request.user, campaign) else []})
