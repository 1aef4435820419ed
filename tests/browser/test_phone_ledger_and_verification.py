"""In a real browser on a phone (390 px): a search result opens on the first tap, the ledger's
state is read without scrolling sideways, and a verification's differences name the ledger's
columns and fit the screen."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from taizhang.remediation.plans import policy_create
from taizhang.remediation.verification import verification_record
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _log_in(page, username):
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def test_the_first_tap_on_a_search_result_opens_it(page, personas, targets):
    _log_in(page, "alice")
    page.goto("/ledger/")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(3)
    # A phone's input method inserts the words without key events, as this does.
    with page.expect_response(re.compile(r"/ledger/\?q=")):
        page.locator("input[name=q]").press_sequentially("大院")
    expect(rows).to_have_count(2)
    lists = []
    page.on("request", lambda request: "/ledger/?" in request.url and lists.append(request.url))
    # The tap leaves the search box: the search it already ran must not run again and take the page.
    page.locator("#results").get_by_role("link", name="GC-0001", exact=True).click()
    page.wait_for_url("**/ledger/targets/%d/" % targets["GC-0001"].pk)
    assert lists == []


def test_the_first_tap_on_a_policy_found_opens_it(page, campaign, personas):
    for title in ("中华人民共和国合同法", "北京市禁止违法建设若干规定"):
        policy_create(campaign=campaign, actor=None, title=title)
    _log_in(page, "alice")
    page.goto("/work/policies/")
    found = page.locator("#results article.policy")
    expect(found).to_have_count(2)
    with page.expect_response(re.compile(r"/work/policies/\?q=")):
        page.locator("input[name=q]").press_sequentially("合同")
    expect(found).to_have_count(1)
    lists = []
    page.on("request", lambda request: "/work/policies/?" in request.url and lists.append(request.url))
    found.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/work/policies/\d+/$"))
    assert lists == []


def test_the_ledgers_state_is_read_without_scrolling_sideways(page, personas, targets):
    _log_in(page, "alice")
    page.goto("/ledger/")
    column = page.locator("#results thead th").all_inner_texts().index("状态")
    state = page.locator("#results tbody tr").first.locator("td").nth(column)
    expect(state).to_have_text("待核查")
    box = state.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]


def test_a_verifications_differences_name_the_columns_and_fit_a_phone(page, personas, targets):
    target = targets["GC-0001"]
    verification_record(target=target, actor=personas["alice"], facts={
        "resident_population": 7, "rented_floor_area": Decimal("1234.50"), "longitude": Decimal("116.123456"),
        "land_rights_holder": "北京市石景山区古城街道杨庄村股份经济合作社联合社第一分社",
        "hazards": "电线私拉乱接，存在重大火灾隐患，需立即整改，并清理消防通道内堆放的杂物"})
    _log_in(page, "alice")
    page.goto("/work/targets/%d/" % target.pk)
    table = page.locator("article.verification table")
    headings = table.locator("tbody td:first-child").all_inner_texts()
    assert headings == ["出租房屋面积（㎡）", "居住人口", "安全隐患", "经度", "地权单位"]
    assert not [h for h in headings if re.search(r"[a-z_]{4,}", h)]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = table.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
