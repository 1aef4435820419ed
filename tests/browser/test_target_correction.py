"""In a real browser on a phone (390 px): the street's staff correct a target in the form, typed
as officials write (约1,500㎡), and a value the import would refuse is named in the form."""

import re

import pytest
from playwright.sync_api import expect

from taizhang.ledger.models import Target
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_a_correction_on_a_phone(page, personas, targets):
    target = targets["GC-0001"]
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))
    page.goto("/ledger/targets/%d/" % target.pk)
    page.click("#edit-link")
    page.wait_for_url("**/ledger/targets/%d/edit/" % target.pk)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.fill("input[name=land_area]", "-5")
    page.click("#target-form button[type=submit]")
    expect(page.locator("#error-land_area")).to_be_visible()
    assert Target.objects.get(pk=target.pk).version == target.version
    page.fill("input[name=land_area]", "约1,500㎡")
    page.fill("input[name=reason]", "现场核对")
    page.click("#target-form button[type=submit]")
    page.wait_for_url("**/ledger/targets/%d/" % target.pk)
    assert str(Target.objects.get(pk=target.pk).land_area) == "1500.00"
