"""In a real browser on a phone: the HQ office's pages this issue added (the history digest, the
locked accounts) fit the screen, and the digest's long line wraps whole."""

import pytest

from taizhang.core.changelog import Digest
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_the_office_reads_its_pages_on_a_phone(page, personas, targets):
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "carol")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/")
    for path in ("/accounts/history-digest/", "/accounts/locked/"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    page.goto("/accounts/history-digest/")
    line = page.locator(".digest-line")
    assert line.bounding_box()["width"] <= PHONE["width"]
    Digest.parse(line.inner_text())  # what the office prints is the whole digest, readable back
