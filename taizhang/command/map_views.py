"""The map's page and its two JSON answers, each scoped by the one access rule, with an ETag
that holds while the change log stands still (caching)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition, require_GET

from taizhang.core.coordinates import CoordinateSystem, convert
from taizhang.core.requests import InputRefused
from taizhang.ledger.models import Target
from taizhang.ledger.selectors import LedgerFilterForm, current_campaign, ledger_targets

from .caching import request_key
from .map import map_points, map_system, street_areas

# No spaces after separators: a tenth less to send at 50,000 points.
COMPACT = {"separators": (",", ":")}


def _filtered(request):
    """The campaign, the ledger's filter form and the visible targets it leaves."""
    campaign = current_campaign(request)
    form = LedgerFilterForm(request.GET, campaign=campaign)
    return campaign, form, form.apply(ledger_targets(request.user, campaign))


@require_GET
@login_required
def map_page(request):
    campaign, form, _targets = _filtered(request)
    box = campaign.map_box()
    corners = [convert(x, y, CoordinateSystem.WGS84, map_system()) for x, y in ((box.west, box.south),
                                                                               (box.east, box.north))]
    config = {
        "points": reverse("command:map_points"), "areas": reverse("command:map_areas"),
        "target": reverse("ledger:target", args=[0]), "bounds": [[y, x] for x, y in corners],
        "tiles": settings.TAIZHANG_MAP_TILES, "attribution": settings.TAIZHANG_MAP_ATTRIBUTION,
        "subdomains": settings.TAIZHANG_MAP_SUBDOMAINS, "maxZoom": settings.TAIZHANG_MAP_MAX_ZOOM,
    }
    context = {"campaign": campaign, "form": form, "config": config, "states": Target.State.choices,
               "system": CoordinateSystem(map_system()).label}
    return render(request, "command/map.html", context, status=400 if form.errors else 200)


def _etag(kind: str):
    """The request's key for `kind` (caching.request_key) as its ETag: the same while the change
    log stands still, so a browser asking again is told "not modified" before anything is read.
    The answer itself is not kept on the server: at 50,000 points it is megabytes a user and filter."""
    def etag(request, *args, **kwargs):
        return request_key(kind, request, map_system()).rpartition(":")[2]
    return etag


def _json(data: dict) -> JsonResponse:
    response = JsonResponse(data, json_dumps_params=COMPACT)
    patch_cache_control(response, private=True, no_cache=True)  # kept by the browser, asked again each time
    return response


@require_GET
@login_required
@condition(etag_func=_etag("map-points"))
def map_points_json(request):
    _campaign, form, targets = _filtered(request)
    if form.errors:
        raise InputRefused(" ".join(e for errors in form.errors.values() for e in errors))
    return _json(map_points(targets))


@require_GET
@login_required
@condition(etag_func=_etag("map-areas"))
def map_areas_json(request):
    campaign = current_campaign(request)
    return _json({"areas": street_areas(request.user, campaign, ledger_targets(request.user, campaign))})
