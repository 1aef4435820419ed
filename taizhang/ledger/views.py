"""Ledger pages: the classified ledgers, reconciliation, a target, export and import."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import (
    can_edit,
    may,
    may_in_campaign,
    seen_through,
    sees_whole_campaign,
    units_visible_q,
)
from taizhang.campaigns.models import OrgUnit
from taizhang.core.requests import InputRefused, parse_id

from .checking import Labels
from .columns import LABEL_FIELDS
from .exporting import LedgerLabel, export_ledger
from .forms import ImportForm, TargetForm
from .importing import ImportRejected, import_prepare, upload_apply, upload_keep, upload_pending, upload_recheck
from .label_aliases import LabelMapError, Mapping, label_aliases_save
from .models import ImportUpload, Target
from .priorities import priority_text
from .selectors import (
    LedgerFilterForm,
    current_campaign,
    ledger_targets,
    ledger_unit,
    reconciliation,
    target_history,
)
from .services import TargetConflict, target_update

PAGE_SIZE = 50


def _ledger(request, kind, code):
    """Campaign, ledger unit (or None), filter form and the filtered visible targets."""
    campaign = current_campaign(request)
    unit = ledger_unit(request.user, campaign, kind, code) if kind else None
    form = LedgerFilterForm(request.GET, campaign=campaign)
    targets = form.apply(ledger_targets(request.user, campaign, unit))
    return campaign, unit, form, targets


@require_GET
@login_required
def ledger_list(request, kind=None, code=None):
    campaign, unit, form, targets = _ledger(request, kind, code)
    # Page over ids, then load the page's rows: a deep page then walks a narrow index
    # instead of whole rows (docs/benchmarks.md, the ledger page).
    page = Paginator(targets.values_list("pk", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = Target.objects.select_related("target_type", "street", "system", "responsible_unit").in_bulk(
        list(page.object_list))
    page.object_list = [rows[pk] for pk in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    export_url = reverse("ledger:classified_export", args=[kind, code]) if unit else reverse("ledger:export")
    context = {"campaign": campaign, "unit": unit, "kind": kind, "form": form, "page": page,
               "query": query.urlencode(), "can_edit": can_edit(request.user), "export_url": export_url}
    template = "ledger/ledger.html#results" if request.htmx else "ledger/ledger.html"
    # A filter that cannot be applied (a search too long, an unknown street) shows nothing and says why.
    return render(request, template, context, status=400 if form.errors else 200)


@require_GET
@login_required
def ledger_export(request, kind=None, code=None):
    campaign, unit, form, targets = _ledger(request, kind, code)
    if form.errors:
        raise InputRefused(" ".join(e for errors in form.errors.values() for e in errors))
    label = LedgerLabel(unit=unit, scope=seen_through(request.user, campaign), filters=tuple(form.described()),
                        as_of=form.cleaned_data["as_of"])
    out = io.BytesIO()
    export_ledger(out, campaign=campaign, queryset=targets, label=label)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=label.filename())


@require_GET
@login_required
def unit_index(request):
    """Every unit's own ledger (每个单位一本账) the user may open, with its target count."""
    campaign = current_campaign(request)
    targets = ledger_targets(request.user, campaign)
    units = (OrgUnit.objects.filter(units_visible_q(request.user), campaign=campaign, kind=OrgUnit.Kind.RIGHTS_UNIT)
             .select_related("parent")
             .annotate(n=Count("unit_targets", filter=Q(unit_targets__in=targets)))
             .order_by("parent__sort", "name"))
    return render(request, "ledger/units.html", {"campaign": campaign, "units": units})


@require_GET
@login_required
def reconcile(request):
    campaign = current_campaign(request)
    context = reconciliation(request.user, campaign)
    context.update(campaign=campaign, whole=sees_whole_campaign(request.user, campaign))
    return render(request, "ledger/reconcile.html", context)


@require_GET
@login_required
def target_detail(request, pk):
    campaign = current_campaign(request)
    target = get_object_or_404(
        ledger_targets(request.user, campaign).select_related("target_type", "street", "system",
                                                              "responsible_unit"), pk=pk)
    return render(request, "ledger/target.html", {"campaign": campaign, "target": target,
                                                  "history": target_history(target),
                                                  "may_edit": may(request.user, target, Action.TARGET_EDIT),
                                                  "may_issue_orders": may_in_campaign(request.user, campaign,
                                                                                      Action.ORDER_ISSUE),
                                                  "priority": priority_text(target.priority_reasons)})


@login_required
def target_edit(request, pk):
    """Correct a target's columns by hand: the same checks as an import, the version guarding
    against a change meanwhile (the form comes back as typed, with the conflict named)."""
    campaign = current_campaign(request)
    target = get_object_or_404(ledger_targets(request.user, campaign).select_related(*LABEL_FIELDS), pk=pk)
    if not may(request.user, target, Action.TARGET_EDIT):
        raise PermissionDenied
    labels = Labels(campaign)
    form = TargetForm(request.POST or None, target=target, labels=labels)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect(target)
        try:
            target_update(target=target, actor=request.user, changes=changes,
                          expected_version=form.cleaned_data["version"], reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        except TargetConflict as exc:
            form.add_error(None, str(exc))
            return render(request, "ledger/target_edit.html", _edit_context(campaign, target, form, labels),
                          status=409)
        else:
            messages.success(request, _("Target %(code)s saved.") % {"code": target.code})
            return redirect(target)
    return render(request, "ledger/target_edit.html", _edit_context(campaign, target, form, labels))


def _edit_context(campaign, target, form, labels) -> dict:
    known = {field: sorted({value.name for value in table.values()}) for field, table in labels.by_kind.items()}
    return {"campaign": campaign, "target": target, "form": form, "known": known}


@login_required
def import_upload(request):
    campaign = current_campaign(request)
    if not can_edit(request.user):
        raise Http404("no import")
    form = ImportForm(request.POST or None, request.FILES or None)
    context = {"campaign": campaign, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["data"]
        filename = form.cleaned_data["file"].name
        system = form.cleaned_data["coordinate_system"]
        report = import_prepare(campaign=campaign, user=request.user, data=data, filename=filename,
                                coordinate_system=system)
        context["upload"] = upload_keep(campaign=campaign, user=request.user, filename=filename, data=data,
                                        report=report, coordinate_system=system)
        context["report"] = report
    return _import_page(request, context)


def _import_page(request, context):
    """The report alone for htmx; without JavaScript, the whole page with the report in it."""
    campaign = context["campaign"]
    context["may_map"] = may_in_campaign(request.user, campaign, Action.LABELS_MAP)
    if request.method == "POST" and request.htmx:
        return render(request, "ledger/import.html#report", context)
    context.setdefault("form", ImportForm())
    return render(request, "ledger/import.html", context)


@require_POST
@login_required
def import_apply(request, upload_id):
    try:
        report = upload_apply(upload_id=upload_id, user=request.user, reason=request.POST.get("reason", ""))
    except ImportUpload.DoesNotExist:
        raise Http404("no such upload") from None
    except ImportRejected as exc:
        upload = ImportUpload.objects.get(pk=upload_id, user=request.user)
        return _import_page(request, {"campaign": upload.campaign, "report": exc.report, "upload": upload})
    messages.success(request, _("Import applied: %(new)s new, %(changed)s changed, %(unchanged)s unchanged.")
                     % {"new": len(report.new), "changed": len(report.changed), "unchanged": report.unchanged})
    if request.htmx:
        return HttpResponseClientRedirect(reverse("ledger:list"))
    return redirect("ledger:list")


@require_POST
@login_required
def import_map(request, upload_id):
    """Save the HQ office's mappings of the check's unknown labels, then check the same file again."""
    try:
        upload = upload_pending(upload_id=upload_id, user=request.user)
    except ImportUpload.DoesNotExist:
        raise Http404("no such upload") from None
    post = request.POST
    mappings = [Mapping(column, text, value) for column, text, value in
                zip(post.getlist("column"), post.getlist("text"), post.getlist("value"), strict=False) if value]
    context = {"campaign": upload.campaign, "upload": upload}
    try:
        context["mapped"] = label_aliases_save(campaign=upload.campaign, actor=request.user, mappings=mappings)
    except LabelMapError as exc:
        context["map_error"] = str(exc)
    context["report"] = upload_recheck(upload=upload, user=request.user)
    return _import_page(request, context)


@require_POST
@login_required
def choose_campaign(request):
    campaign_id = parse_id(request.POST.get("campaign"))
    if campaign_id is None:
        raise InputRefused(_("Choose a campaign from the list."))
    request.session["campaign_id"] = campaign_id
    return redirect("home")

