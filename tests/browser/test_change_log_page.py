"""In a real browser, under the production CSP: discipline inspection filters the campaign's
change log and verifies the chain with the button (htmx, its indicator shown meanwhile), on a
desktop and on a phone, where the page does not grow wider than the screen."""

import pytest
from playwright.sync_api import expect

from taizhang.ledger.services import target_update
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/")


@pytest.mark.parametrize("viewport", [None, PHONE])
def test_discipline_inspection_filters_the_log_and_verifies_the_chain(page, personas, targets, viewport):
    target_update(target=targets["GC-0001"], actor=personas["alice"], changes={"flags": ["safety_hazard"]},
                  reason="现场核查")
    if viewport:
        page.set_viewport_size(viewport)
    _log_in(page, "jin")
    page.click("header a[href='/ledger/history/']")
    page.wait_for_url("**/ledger/history/")
    page.fill("input[name=target]", "GC-0001")
    page.press("input[name=target]", "Enter")
    rows = page.locator("#results table.history-log > tbody > tr")
    expect(rows).to_have_count(2)  # created by the system, changed by alice
    assert "重大安全隐患" in rows.first.inner_text() and "safety_hazard" not in page.content()
    page.click("#verify button")
    page.locator("#verdict-ok").wait_for()
    assert "记录链完整" in page.locator("#verdict-ok").inner_text()
    if viewport:
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
