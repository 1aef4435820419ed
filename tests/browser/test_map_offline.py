"""In a real browser, with no base layer and nothing fetched from anywhere but the site: the
map draws the points a street user may see, at desktop and at phone width, and a click on a
point opens its target. The policy is enforced throughout (the `page` fixture)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from taizhang.ledger.models import Target
from tests.conftest import PASSWORD, make_target

pytestmark = pytest.mark.browser
# Far enough apart (about 1.7 km) that none is clustered at the zoom the map opens at.
PLACES = {"GC-0001": (116.160, 39.900), "GC-0002": (116.180, 39.915), "GC-0003": (116.200, 39.900),
          "LG-0001": (116.240, 39.885), "LG-0002": (116.260, 39.870)}


@pytest.fixture
def placed(targets):
    for code, (x, y) in PLACES.items():
        Target.objects.filter(pk=targets[code].pk).update(longitude=Decimal(str(x)), latitude=Decimal(str(y)))
    return targets


def _log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page).not_to_have_url("/accounts/login/")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_the_street_sees_its_points_offline_and_a_click_opens_one(page, server, placed, personas, viewport):
    elsewhere = []
    page.on("request", lambda request: request.url.startswith(server) or elsewhere.append(request.url))
    page.set_viewport_size(viewport)
    _log_in(page, "alice")
    page.click("#map-link")
    expect(page.locator("#map")).to_have_attribute("data-points", "3")
    points = page.locator(".map-point")
    expect(points).to_have_count(3)  # 古城's three; 鲁谷's two are not the street's to see
    expect(page.locator("#count-registered")).to_have_text("(3)")
    expect(page.locator(".street-area")).to_have_count(1)
    # The points' millionths of a degree drawn where the street's area (from the same points) lies.
    area = page.locator(".street-area").bounding_box()
    for point in points.all():
        at = point.bounding_box()
        x, y = at["x"] + at["width"] / 2, at["y"] + at["height"] / 2
        assert area["x"] - 2 <= x <= area["x"] + area["width"] + 2, (at, area)
        assert area["y"] - 2 <= y <= area["y"] + area["height"] + 2, (at, area)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    box = page.locator("#map").bounding_box()
    assert box["width"] >= viewport["width"] - 40 and box["height"] >= 320
    target = placed["GC-0002"]
    page.locator(".map-point[title='GC-0002']").click()
    page.wait_for_url("**/ledger/targets/%d/" % target.pk)
    expect(page.locator("hgroup p")).to_contain_text("GC-0002")
    assert elsewhere == []


def test_a_filter_redraws_the_points(page, placed, personas):
    Target.objects.filter(code__in=["GC-0001", "LG-0002"]).update(state="closed")
    _log_in(page, "carol")
    page.goto("/command/map/")
    expect(page.locator(".map-point")).to_have_count(5)
    page.select_option("select[name=state]", "closed")
    expect(page.locator(".map-point")).to_have_count(2)
    expect(page.locator(".map-point.state-closed")).to_have_count(2)
    assert "state=closed" in page.url


def test_many_points_close_together_are_clustered(page, placed, personas, units):
    for n in range(30):  # a compound's neighbours, metres apart
        make_target(units, "GC-%04d" % (100 + n), "GC", "JT", longitude=Decimal("116.160") + Decimal(n) / 100000,
                    latitude=Decimal("39.900"))
    _log_in(page, "alice")
    page.goto("/command/map/")
    expect(page.locator("#map")).to_have_attribute("data-points", "33")
    cluster = page.locator(".marker-cluster")
    expect(cluster.first).to_be_visible()
    assert page.locator(".map-point").count() < 33
    cluster.first.click()  # zooms in towards the points it holds
    expect(page.locator("#count-registered")).to_have_text("(33)")
