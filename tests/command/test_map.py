"""The map (/command/map/): the points and areas each role may see, the ledger's filters,
points converted to the map's one system, the hull of a street's points, and the tiles a
deployment configures (and the Content-Security-Policy that allows only their host)."""

import json
from decimal import Decimal

import pytest

from taizhang.command.map import convex_hull, map_points
from taizhang.core.coordinates import CoordinateSystem, convert
from taizhang.ledger.models import Target
from taizhang.ledger.selectors import LedgerFilterForm, ledger_targets
from tests.conftest import make_target
from tests.production import load_settings, production_env

PAGE, POINTS, AREAS = "/command/map/", "/command/map/points.json", "/command/map/areas.json"
# (longitude, latitude), WGS-84: 古城 in the west of the district, 鲁谷 in the east.
PLACES = {"GC-0001": (116.180, 39.910), "GC-0002": (116.200, 39.920), "GC-0003": (116.190, 39.895),
          "LG-0001": (116.240, 39.885), "LG-0002": (116.250, 39.870)}


@pytest.fixture
def placed(targets):
    """The five fixture targets, each given a point; a sixth in 古城 without one."""
    for code, (x, y) in PLACES.items():
        Target.objects.filter(pk=targets[code].pk).update(longitude=Decimal(str(x)), latitude=Decimal(str(y)))
    return targets


def _points(client, user, query=""):
    client.force_login(user)
    response = client.get(POINTS + query)
    assert response.status_code == 200, response.content
    return response.json()


def _codes(data) -> set[str]:
    return set(data["c"])


SEES = {
    "carol": set(PLACES), "lee": set(PLACES), "gina": set(PLACES), "jin": set(PLACES),  # campaign-wide
    "alice": {"GC-0001", "GC-0002", "GC-0003"}, "erin": {"GC-0001", "GC-0002", "GC-0003"},  # 古城's street, liaison
    "bob": {"LG-0001", "LG-0002"},  # 鲁谷's street
    "dan": {"GC-0001", "GC-0002"},  # the rights unit: its own targets
}


@pytest.mark.parametrize("persona", sorted(SEES))
def test_each_role_gets_the_points_it_may_see_and_no_other(client, placed, personas, persona):
    assert _codes(_points(client, personas[persona])) == SEES[persona]


@pytest.mark.parametrize("url", [PAGE, POINTS, AREAS])
def test_every_map_url_asks_for_a_login_and_a_role(client, placed, personas, url):
    assert client.get(url).status_code == 302 and "/accounts/login/" in client.get(url)["Location"]
    client.force_login(personas["olive"])  # an account with no role in any campaign
    assert client.get(url).status_code == 404
    client.force_login(personas["alice"])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405


def test_a_street_filter_elsewhere_shows_a_street_user_nothing(client, placed, personas, units):
    assert _points(client, personas["alice"], "?street=%d" % units["LG"].pk)["i"] == []


def test_a_street_user_sees_only_its_street_area(client, placed, personas, units):
    make_target(units, "LG-0003", "LG", "GZ", longitude=Decimal("116.26"), latitude=Decimal("39.89"))
    client.force_login(personas["alice"])
    areas = client.get(AREAS).json()["areas"]
    assert [(a["code"], a["kind"]) for a in areas] == [("GC", "hull")]
    client.force_login(personas["carol"])
    assert [a["code"] for a in client.get(AREAS).json()["areas"]] == ["GC", "LG"]


def test_an_area_is_the_hull_of_the_points_the_user_sees(client, placed, personas):
    """The rights unit sees two of 古城's three points: too few for an area, and the third, which
    it may not see, does not show through an outline."""
    client.force_login(personas["dan"])
    assert client.get(AREAS).json()["areas"] == []
    client.force_login(personas["alice"])
    [area] = client.get(AREAS).json()["areas"]
    assert sorted(map(tuple, area["ring"])) == sorted((y, x) for code, (x, y) in PLACES.items()
                                                      if code.startswith("GC"))


def test_the_preset_outline_is_drawn_where_it_is_given(client, placed, personas, campaign):
    outline = [[116.10, 39.88], [116.22, 39.88], [116.22, 39.95], [116.10, 39.95]]
    campaign.rules["map"]["outlines"] = {"GC": outline}
    campaign.save()
    client.force_login(personas["alice"])
    [area] = client.get(AREAS).json()["areas"]
    assert area["kind"] == "outline" and area["ring"] == [[y, x] for x, y in outline]


@pytest.mark.parametrize("query", ["", "?state=registered", "?state=closed", "?q=GC-0001", "?pilot=on",
                                   "?priority=on", "?target_type={compound}", "?street={GC}&system={JT}"])
def test_the_filters_are_the_ledger_pages_and_give_its_count(client, placed, personas, units, campaign, query):
    Target.objects.filter(code="GC-0002").update(state="closed", is_pilot=True)
    make_target(units, "GC-0004", "GC", "JT")  # no point: counted apart
    query = query.format(GC=units["GC"].pk, JT=units["JT"].pk,
                         compound=campaign.target_types.get(code="compound").pk)
    data = _points(client, personas["carol"], query)
    listed = client.get("/ledger/" + query).context["page"].paginator.count
    assert len(data["i"]) + data["n"] == listed


def test_a_filter_that_cannot_be_applied_says_why(client, placed, personas):
    client.force_login(personas["carol"])
    response = client.get(POINTS + "?street=999999", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert client.get(PAGE + "?street=999999").status_code == 400


def test_points_are_compact_and_read_in_one_query_however_many(client, placed, personas, units,
                                                               django_assert_num_queries):
    carol = personas["carol"]
    client.force_login(carol)
    with django_assert_num_queries(9) as few:  # session, user, the log's head, memberships, campaigns …
        client.get(POINTS)
    assert sum('"ledger_target"' in q["sql"] for q in few.captured_queries) == 1
    for n in range(40):
        make_target(units, "GC-%04d" % (100 + n), "GC", "JT", longitude=Decimal("116.18"), latitude=Decimal("39.9"))
    with django_assert_num_queries(len(few.captured_queries)):
        data = client.get(POINTS).json()
    assert len(data["i"]) == 45 and set(data) == {"system", "states", "scale", "i", "c", "x", "y", "k", "n"}
    assert len(json.dumps(data, separators=(",", ":"))) < 45 * 60


def test_points_are_not_modified_while_the_log_stands_still(
        client, placed, personas, units, django_assert_max_num_queries):
    client.force_login(personas["carol"])
    first = client.get(POINTS)
    etag = first.headers["ETag"]
    with django_assert_max_num_queries(3):  # session, user, the log's head: no target is read
        again = client.get(POINTS, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert "no-cache" in first.headers["Cache-Control"] and "private" in first.headers["Cache-Control"]
    assert client.get(POINTS).content == first.content
    make_target(units, "GC-0200", "GC", "JT", longitude=Decimal("116.18"), latitude=Decimal("39.9"))
    changed = client.get(POINTS, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(changed.json()["i"]) == len(first.json()["i"]) + 1
    # Another user asking the same is answered for their own scope, not from the first's.
    client.force_login(personas["alice"])
    assert client.get(POINTS, HTTP_IF_NONE_MATCH=changed.headers["ETag"]).status_code == 200


def test_each_point_is_converted_to_the_maps_system(client, placed, personas, settings):
    gc = Target.objects.get(code="GC-0001")
    Target.objects.filter(pk=gc.pk).update(coordinate_system=CoordinateSystem.BD09)
    wgs = convert(116.18, 39.91, CoordinateSystem.BD09, CoordinateSystem.WGS84)
    data = _points(client, personas["carol"])
    at = data["i"].index(gc.pk)
    assert data["system"] == "wgs84" and _degrees(data, at) == pytest.approx(wgs, abs=1e-6)
    settings.TAIZHANG_MAP_SYSTEM = "gcj02"  # 高德 tiles: every point in GCJ-02
    data = _points(client, personas["carol"])
    gcj = convert(116.18, 39.91, CoordinateSystem.BD09, CoordinateSystem.GCJ02)
    lg = data["i"].index(Target.objects.get(code="LG-0001").pk)
    assert _degrees(data, at) == pytest.approx(gcj, abs=1e-6)
    assert _degrees(data, lg) == pytest.approx(
        convert(116.24, 39.885, CoordinateSystem.WGS84, CoordinateSystem.GCJ02), abs=1e-6)


def _degrees(data: dict, at: int) -> tuple[float, float]:
    return data["x"][at] / data["scale"], data["y"][at] / data["scale"]


def test_a_point_in_the_maps_system_is_sent_exactly_as_stored(client, placed, personas, units):
    """Whole millionths of a degree: the six places the ledger keeps, none lost on the way."""
    made = make_target(units, "GC-0300", "GC", "JT", longitude=Decimal("116.199999"), latitude=Decimal("39.900001"))
    data = _points(client, personas["carol"])
    at = data["i"].index(made.pk)
    assert (data["x"][at], data["y"][at], data["scale"]) == (116199999, 39900001, 1_000_000)


def test_a_click_opens_the_target_the_point_names(client, placed, personas):
    data = _points(client, personas["carol"])
    client.force_login(personas["carol"])
    page = client.get(PAGE)
    config = page.context["config"]
    for pk, code in zip(data["i"], data["c"], strict=True):
        url = config["target"].replace("/0/", "/%d/" % pk)
        assert code in client.get(url).content.decode()


def test_the_header_links_the_map(client, personas):
    client.force_login(personas["alice"])
    assert 'href="/command/map/"' in client.get("/ledger/").content.decode()


def test_map_points_of_a_queryset(placed, personas, campaign):
    form = LedgerFilterForm({"state": "registered"}, campaign=campaign)
    data = map_points(form.apply(ledger_targets(personas["bob"], campaign)))
    assert data["c"] == ["LG-0001", "LG-0002"] and data["states"][data["k"][0]] == "registered"


@pytest.mark.parametrize(("points", "hull"), [
    ([], []),
    ([(0, 0), (1, 1)], []),  # a line has no area
    ([(0, 0), (1, 1), (2, 2)], []),
    ([(0, 0), (2, 0), (2, 2), (0, 2), (1, 1), (1, 0), (0, 0)], [(0, 0), (2, 0), (2, 2), (0, 2)]),
    ([(3, 1), (0, 0), (1, 4), (2, 2), (4, 4), (1, 1)], [(0, 0), (3, 1), (4, 4), (1, 4)]),
])
def test_the_convex_hull(points, hull):
    assert convex_hull(points) == hull



# --- the base layer --------------------------------------------------------------------------

def test_without_tiles_the_map_draws_none_and_the_policy_allows_no_other_host(client, placed, personas):
    client.force_login(personas["carol"])
    config = client.get(PAGE).context["config"]
    assert config["tiles"] == []
    img = load_settings(production_env())["TAIZHANG_CSP"]["img-src"]
    assert [str(s) for s in img] == ["'self'", "data:"]


TIANDITU = ("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=vec&TILEMATRIXSET=w"
            "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY https://t{s}.tianditu.gov.cn/cva_w/wmts?LAYER=cva"
            "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY")


def test_configured_tiles_reach_the_page_and_only_their_host_the_policy(client, placed, personas, settings):
    loaded = load_settings(production_env(TAIZHANG_MAP_TILES=TIANDITU, TAIZHANG_MAP_SUBDOMAINS="01234567",
                                          TAIZHANG_MAP_ATTRIBUTION="天地图"))
    assert [str(s) for s in loaded["TAIZHANG_CSP"]["img-src"]] == ["'self'", "data:", "https://*.tianditu.gov.cn"]
    for name in ("TAIZHANG_MAP_TILES", "TAIZHANG_MAP_SUBDOMAINS", "TAIZHANG_MAP_ATTRIBUTION"):
        setattr(settings, name, loaded[name])
    client.force_login(personas["carol"])
    config = client.get(PAGE).context["config"]
    assert len(config["tiles"]) == 2 and config["subdomains"] == "01234567" and config["attribution"] == "天地图"


@pytest.mark.parametrize(("tiles", "sources"), [
    ("http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png", ["http://10.1.2.3:8080"]),
    ("/tiles/{z}/{x}/{y}.png", []),  # served by the site's own proxy: 'self' already
    ("https://{s}.tiles.example.cn/{z}/{x}/{y}.png", ["https://*.tiles.example.cn"]),
])
def test_the_policy_names_each_tile_host(tiles, sources):
    assert [str(s) for s in load_settings(production_env(TAIZHANG_MAP_TILES=tiles))["TAIZHANG_CSP"]["img-src"]][
        2:] == sources


@pytest.mark.parametrize("env", [{"TAIZHANG_MAP_TILES": "ftp://tiles/{z}/{x}/{y}"},
                                 {"TAIZHANG_MAP_TILES": "https://tiles.{s}.example.cn/{z}/{x}/{y}.png"},
                                 {"TAIZHANG_MAP_SYSTEM": "bd09"}])
def test_a_tile_setting_that_cannot_work_is_refused_at_start(env):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        load_settings(production_env(**env))
