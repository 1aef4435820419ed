"""The campaign's change log (变更记录): filtered, paged, exported, and its chain proved."""

import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may_in_campaign
from taizhang.core.changelog import history_verify
from taizhang.core.readable import Names, readable
from taizhang.core.requests import InputRefused
from taizhang.core.snapshots import serializer_for

from .history_log import (
    MAX_EXPORT_ROWS,
    HistoryFilterForm,
    campaign_entries,
    export_filename,
    export_history,
    with_targets,
)
from .selectors import current_campaign

PAGE_SIZE = 50
MISMATCHES_SHOWN = 50


def _history(request, action: Action):
    """The campaign, the filter form and the entries it selects; 403 unless the user may."""
    campaign = current_campaign(request)
    if not may_in_campaign(request.user, campaign, action):
        raise PermissionDenied
    form = HistoryFilterForm(request.GET, user=request.user, campaign=campaign)
    return campaign, form, form.apply(campaign_entries(request.user, campaign))


def _page(request, campaign, form, entries) -> dict:
    """One page of entries as people read them, with the targets they belong to."""
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"campaign": campaign, "form": form, "page": page, "query": query.urlencode(),
            "items": with_targets(readable(list(page.object_list), campaign_id=campaign.pk)),
            "may_verify": may_in_campaign(request.user, campaign, Action.HISTORY_VERIFY)}


@require_GET
@login_required
def history_list(request):
    campaign, form, entries = _history(request, Action.HISTORY_READ)
    context = _page(request, campaign, form, entries)
    template = "ledger/history_log.html#results" if request.htmx else "ledger/history_log.html"
    return render(request, template, context, status=400 if form.errors else 200)


@require_GET
@login_required
def history_export(request):
    campaign, form, entries = _history(request, Action.HISTORY_READ)
    if form.errors:
        raise InputRefused(" ".join(e for errors in form.errors.values() for e in errors))
    if entries.count() > MAX_EXPORT_ROWS:
        raise InputRefused(_("More than %(limit)s entries match: narrow the filters to export them.")
                           % {"limit": MAX_EXPORT_ROWS})
    out = io.BytesIO()
    export_history(out, campaign=campaign, form=form, entries=entries)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=export_filename(campaign))


@require_POST
@login_required
def history_verify_chain(request):
    """Runs the check `verify_history` runs, and shows what it found."""
    campaign = current_campaign(request)
    if not may_in_campaign(request.user, campaign, Action.HISTORY_VERIFY):
        raise PermissionDenied
    verdict = history_verify()
    context = {"verdict": verdict, "mismatches": _mismatches(verdict.mismatches[:MISMATCHES_SHOWN])}
    if request.htmx:
        return render(request, "ledger/history_log.html#verdict", context)
    # Without JavaScript: the page as first opened, with the verdict in place.
    form = HistoryFilterForm({}, user=request.user, campaign=campaign)
    context.update(_page(request, campaign, form, form.apply(campaign_entries(request.user, campaign))))
    return render(request, "ledger/history_log.html", context)


def _mismatches(mismatches) -> list[dict]:
    """Each stored record that differs from its log, in words: its kind, id, field and both values."""
    names = Names()
    names.load()  # the replayed values are labels and numbers: nothing to look up
    rows = []
    for m in mismatches:
        serializer = serializer_for(m.object_type)
        row = {"kind": serializer.kind if serializer else m.object_type, "id": m.object_id}
        if m.field:
            row.update(field=serializer.heading(m.field) if serializer else m.field,
                       stored=serializer.show(m.field, m.stored, names) if serializer else m.stored,
                       logged=serializer.show(m.field, m.logged, names) if serializer else m.logged)
        else:
            row.update(missing=_("logged but no longer stored") if m.logged else _("stored but never logged"))
        rows.append(row)
    return rows
