"""In a real browser on a phone: a user in two campaigns switches between them from the header."""

import pytest

from taizhang.accounts.models import Membership
from taizhang.campaigns.models import OrgUnit
from tests.conftest import PASSWORD
from tests.ledger.test_campaign_switch import _campaign

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_office_user_switches_campaign_on_a_phone(page, campaign, personas, targets):
    second = _campaign("kaiqiang-2017", "开墙打洞整治")
    Membership.objects.create(user=personas["carol"], role=Membership.Role.OFFICE,
                              unit=OrgUnit.objects.get(campaign=second, kind=OrgUnit.Kind.OFFICE))
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "carol")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    shown = page.locator("main h1").inner_text()
    other = campaign.name if shown == second.name else second.name
    # The header, switch included, fits the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.select_option(".campaign-switch select", label=other)
    page.click(".campaign-switch button")
    page.wait_for_url("**/")
    assert page.locator("main h1").inner_text() == other
    page.click("nav a[href='/ledger/']")
    assert page.locator("main h1 + p, main hgroup p").first.inner_text().strip() == other
