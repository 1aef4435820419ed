"""The map (地图): the targets a user may see as points in the map's one coordinate system,
and the streets' areas.

Points go to the page as compact JSON, a column per field (`map_points`), read in one query
through the ledger's scoping and filters: at 50,000 targets the page must stay quick. A point's
degrees are sent as whole millionths (what the ledger keeps, six places), made so by the
database: a float's text costs the JSON encoder five times an integer's. Each
stored point is converted from its own system (WGS-84, GCJ-02, BD-09) to the system the
map's tiles are drawn in (settings.TAIZHANG_MAP_SYSTEM; WGS-84 without tiles).
"""

from collections import defaultdict

from django.conf import settings
from django.db.models import F, IntegerField, Q
from django.db.models.functions import Cast, Round

from taizhang.accounts.scoping import units_visible_q
from taizhang.campaigns.models import OrgUnit
from taizhang.core.bulk import raw_rows
from taizhang.core.coordinates import CoordinateSystem, convert
from taizhang.ledger.models import Target

STATES = list(Target.State.values)
_STATE_INDEX = {state: index for index, state in enumerate(STATES)}
PLACES = 6  # decimal places of a degree kept and sent: about 0.1 m
SCALE = 10 ** PLACES


def map_system() -> str:
    """The coordinate system the map draws in: its tiles' (WGS-84 without tiles)."""
    return settings.TAIZHANG_MAP_SYSTEM


def map_points(targets) -> dict:
    """The targets' points as the page draws them, from one query:

    {"system": the map's system, "states": [state codes], "i": [ids], "c": [codes],
     "x": [longitudes], "y": [latitudes] (in millionths of a degree, "scale": 1,000,000 of them
     to a degree), "k": [index into states], "n": targets without a point}.
    """
    system = map_system()
    rows = raw_rows(targets.order_by().values_list("pk", "code", _millionths("longitude"), _millionths("latitude"),
                                                   "coordinate_system", "state"))
    ids, codes, xs, ys, kinds = [], [], [], [], []
    missing = 0
    for pk, code, x, y, source, state in rows:
        if x is None or y is None:
            missing += 1
            continue
        if source != system:  # few points: stored in another system, converted here
            x, y = convert(x / SCALE, y / SCALE, source, system)
            x, y = round(x * SCALE), round(y * SCALE)
        ids.append(pk)
        codes.append(code)
        xs.append(x)
        ys.append(y)
        kinds.append(_STATE_INDEX[state])
    return {"system": system, "states": STATES, "scale": SCALE, "i": ids, "c": codes, "x": xs, "y": ys,
            "k": kinds, "n": missing}


def _millionths(field: str):
    """A degree column as a whole number of millionths, rounded by the database."""
    return Cast(Round(F(field) * SCALE), IntegerField())


def street_areas(user, campaign, targets) -> list[dict]:
    """Each street's area in the map's system: the preset's outline where it gives one, else
    the convex hull of the street's points among `targets` (the user's, unfiltered), so that
    no outline reveals where targets the user may not see lie. Streets whose ledger the user
    may open, or where a target of theirs lies; one with fewer than three points has no area.

    [{"code", "name", "kind": "outline" | "hull", "ring": [[latitude, longitude], ...]}]
    """
    system = map_system()
    points: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = raw_rows(targets.order_by().filter(longitude__isnull=False, latitude__isnull=False)
                    .values_list("street_id", _millionths("longitude"), _millionths("latitude"), "coordinate_system"))
    for street_id, x, y, source in rows:  # in whole millionths: the hull's arithmetic is exact
        if source != system:
            x, y = convert(x / SCALE, y / SCALE, source, system)
            x, y = round(x * SCALE), round(y * SCALE)
        points[street_id].append((x, y))
    streets = (OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.STREET)
               .filter(units_visible_q(user) | Q(pk__in=list(points))).order_by("sort"))
    outlines = campaign.street_outlines()
    areas = []
    for street in streets:
        if street.code in outlines:
            ring = [convert(lon, lat, CoordinateSystem.WGS84, system) for lon, lat in outlines[street.code]]
            kind = "outline"
        else:
            ring = [(x / SCALE, y / SCALE) for x, y in convex_hull(points.get(street.pk, []))]
            kind = "hull"
        if len(ring) >= 3:
            areas.append({"code": street.code, "name": street.name, "kind": kind,
                          "ring": [[round(y, PLACES), round(x, PLACES)] for x, y in ring]})
    return areas


def convex_hull(points) -> list[tuple[float, float]]:
    """The smallest convex polygon holding every (x, y) point, counter-clockwise from the
    lowest-leftmost, without repeated or collinear corners (Andrew's monotone chain)."""
    unique = sorted(set(points))
    if len(unique) < 3:
        return []

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def chain(sequence):
        hull = []
        for point in sequence:
            while len(hull) >= 2 and cross(hull[-2], hull[-1], point) <= 0:
                hull.pop()
            hull.append(point)
        return hull

    lower, upper = chain(unique), chain(reversed(unique))
    hull = lower[:-1] + upper[:-1]
    return hull if len(hull) >= 3 else []
