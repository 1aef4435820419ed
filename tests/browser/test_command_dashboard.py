"""The leader in the command room: a warning for the lagging street, a click on its bar, the
street's ledger with the same count, and the day moved back to the end of the first phase; on
a desktop and at a phone's width, under the production Content-Security-Policy."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from taizhang.ledger.demo import DEMO_PASSWORD, demo_database_claim
from taizhang.remediation.demo import demo_in_motion, story_until
from tests.conftest import PASSWORD, PRESET

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}

# The pixel of the middle of a bar, from the chart itself (ECharts draws on a canvas).
BAR_MIDDLE = """([chartId, index]) => {
  const box = document.querySelector('[data-chart="' + chartId + '"]');
  const chart = echarts.getInstanceByDom(box);
  const value = chart.getOption().series[0].data[index].value;
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, [value / 2, index]);
  const rect = box.getBoundingClientRect();
  return {x: rect.left + x, y: rect.top + y, count: chart.getOption().series[0].data[index].count};
}"""


def _login(page, username, password=PASSWORD):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def _follow_the_warning(page, width):
    _login(page, "lee")
    page.click("#command-link")
    page.wait_for_url("**/command/")
    warning = page.locator("#warnings tr.warning").first
    expect(warning).to_contain_text("鲁谷街道")
    expect(warning.locator("td").nth(1)).to_have_text("3")  # the gap, in targets
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    box = page.locator('[data-chart="streets"]')
    box.scroll_into_view_if_needed()
    expect(box).to_have_attribute("data-drawn", "1")
    assert box.bounding_box()["width"] <= width
    categories = page.evaluate(
        "echarts.getInstanceByDom(document.querySelector('[data-chart=\"streets\"]')).getOption().yAxis[0].data")
    bar = page.evaluate(BAR_MIDDLE, ["streets", categories.index("鲁谷街道")])
    assert bar["count"] == 3
    page.mouse.click(bar["x"], bar["y"])
    page.wait_for_url(re.compile(r"/ledger/\?.*done=on"))
    expect(page.locator("#results table.ledger tbody tr")).to_have_count(3)
    expect(page.locator("#kept-filters")).to_be_visible()
    expect(page.locator("#results p.muted").first).to_contain_text("3")
    for row in page.locator("#results table.ledger tbody tr td.state").all():
        expect(row).to_have_text("已销账")
    expect(page.locator("#results table.ledger")).not_to_contain_text("GC-")

    # Back to the dashboard, the day moved back to the end of the first phase.
    page.go_back()
    page.wait_for_url("**/command/")
    page.fill("#scope-form input[name=as_of]", "2015-12-31")
    page.click("#scope-form button[type=submit]")
    page.wait_for_url("**/command/?as_of=2015-12-31*")
    expect(page.locator("#summary article").nth(1).locator("h3")).to_have_text("1")


def test_the_leader_follows_a_warning_to_the_lagging_streets_ledger(page, history, personas):
    _follow_the_warning(page, 1280)


def test_the_same_on_a_phone(page, history, personas):
    page.set_viewport_size(PHONE)
    _follow_the_warning(page, PHONE["width"])


def test_charts_follow_the_window_and_speak_english_when_switched(page, history, personas):
    _login(page, "lee")
    page.goto("/command/")
    box = page.locator('[data-chart="burnup"]')
    expect(box).to_have_attribute("data-drawn", "1")
    width = page.evaluate("echarts.getInstanceByDom(document.querySelector('[data-chart=\"burnup\"]')).getWidth()")
    page.set_viewport_size(PHONE)
    page.wait_for_function("echarts.getInstanceByDom(document.querySelector('[data-chart=\"burnup\"]')).getWidth()"
                           " < %d" % min(width, PHONE["width"]))
    page.locator("form.inline-form button[name=language][value=en]").click()
    page.wait_for_url("**/command/")
    expect(page.locator("h1")).to_have_text("Command: progress against the pledges")
    box.scroll_into_view_if_needed()  # a chart is drawn when it comes into view
    expect(box).to_have_attribute("data-drawn", "1")
    legend = page.evaluate(
        "echarts.getInstanceByDom(document.querySelector('[data-chart=\"burnup\"]')).getOption().series[0].name")
    assert legend == "Done"


# The demo campaign in motion, as `make run` shows it: its story stopped at the default day,
# which falls on today (the campaign's days moved so), then the leader's way through it.

@pytest.fixture
def demo(server, settings):
    settings.DEBUG = True  # demo data is written in the development profile only
    text = PRESET.read_text(encoding="utf-8")
    demo_database_claim()
    made = demo_in_motion(text=text, source=PRESET.name, seed=2015, total=None, until=story_until(text, None))
    settings.DEBUG = False
    return made


def _ledger_total(page) -> int:
    return int(re.search(r"\d+", page.locator("#results p.muted").first.inner_text()).group())


def test_the_leader_in_the_demo_in_motion_on_a_desktop_and_a_phone(page, demo):
    first_phase_end = datetime.date(2015, 12, 31) + datetime.timedelta(days=demo.shift)
    _login(page, "leader", DEMO_PASSWORD)
    page.click("#command-link")
    page.wait_for_url("**/command/")
    warning = page.locator("#warnings tr.warning").first
    street = warning.locator("th.street").inner_text().strip()
    box = page.locator('[data-chart="streets"]')
    box.scroll_into_view_if_needed()
    expect(box).to_have_attribute("data-drawn", "1")
    categories = page.evaluate(
        "echarts.getInstanceByDom(document.querySelector('[data-chart=\"streets\"]')).getOption().yAxis[0].data")
    bar = page.evaluate(BAR_MIDDLE, ["streets", categories.index(street)])
    page.mouse.click(bar["x"], bar["y"])
    page.wait_for_url(re.compile(r"/ledger/\?.*done=on"))
    assert _ledger_total(page) == bar["count"] > 0
    expect(page.locator("#results table.ledger tbody tr td.state").first).to_have_text("已销账")

    page.go_back()
    page.wait_for_url("**/command/")
    for width in (1280, PHONE["width"]):
        page.set_viewport_size({"width": width, "height": 900})
        page.fill("#scope-form input[name=as_of]", first_phase_end.isoformat())
        page.click("#scope-form button[type=submit]")
        page.wait_for_url("**/command/?as_of=%s*" % first_phase_end.isoformat())
        expect(page.locator("#summary article").nth(1).locator("h3")).to_have_text("88")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
