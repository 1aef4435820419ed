"""The command room's pages: the dashboard (指挥调度) and each chart's numbers as Excel."""

import io

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may_in_campaign, seen_through, units_visible_q
from taizhang.campaigns.models import OrgUnit
from taizhang.core.requests import InputRefused
from taizhang.ledger.selectors import current_campaign, ledger_unit
from taizhang.supervision.selectors import colour_counts, orders_visible

from . import forecast
from .caching import cached, request_key
from .charts import board
from .forms import ScopeForm
from .progress import Scope, done_definition, today
from .xlsx import chart_filename, chart_title, write_chart


def _scope(request) -> tuple[Scope, ScopeForm]:
    """The day and the unit asked for: 400 naming what cannot be read, 404 for a unit out of reach."""
    campaign = current_campaign(request)
    form = ScopeForm(request.GET, campaign=campaign)
    if not form.is_valid():
        raise InputRefused(form.message())
    unit = form.cleaned_data["street"] or form.cleaned_data["system"]
    if unit is not None:
        unit = ledger_unit(request.user, campaign, "street" if unit.kind == OrgUnit.Kind.STREET else "system",
                           unit.code)
    return Scope(request.user, campaign, form.cleaned_data["as_of"], unit), form


def _board(request):
    """The board for the request's scope, kept while the change log stands still (caching)."""
    key = request_key("board", request)  # before anything is read
    scope, form = _scope(request)

    def compute():
        # Where their street ranks among all the streets: for those who see the campaign through a street.
        ranked = [u for u in seen_through(request.user, scope.campaign) or () if u.kind == OrgUnit.Kind.STREET]
        return board(scope, with_rank=bool(ranked))
    return cached(key, compute), form


@require_GET
@login_required
def dashboard(request):
    found, form = _board(request)
    scope = found.scope
    units = OrgUnit.objects.filter(units_visible_q(request.user), campaign=scope.campaign)
    return render(request, "command/dashboard.html", {
        "campaign": scope.campaign, "board": found, "scope": scope, "form": form, "today": today(),
        **_orders(request.user, scope.campaign),
        "streets": units.filter(kind=OrgUnit.Kind.STREET), "systems": units.filter(kind=OrgUnit.Kind.SYSTEM),
        "charts_data": {c.id: c.data() for c in found.charts if c.kind},
        "definition": done_definition(), "weeks": forecast.WEEKS, "query": request.GET.urlencode(),
    })


def _orders(user, campaign) -> dict:
    """The supervision orders the user sees, counted by colour today (one query), and whether
    they may issue one (from a warning, in one step)."""
    rules = campaign.supervision_rules()
    counts = colour_counts(orders_visible(user, campaign), timezone.localdate(), rules["yellow_within_days"])
    return {"order_counts": counts, "may_issue_orders": may_in_campaign(user, campaign, Action.ORDER_ISSUE)}


@require_GET
@login_required
def download(request, chart_id):
    found, _form = _board(request)
    chart = found.chart(chart_id)
    if chart is None:
        raise Http404("no such chart")
    out = io.BytesIO()
    write_chart(out, chart, title=chart_title(found.scope, chart))
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=chart_filename(found.scope, chart))

