"""In a real browser on a phone: the plan form's owner list (a hundred and more units) narrows
as one types in the box before it, and the unit chosen is the one saved."""

import re

import pytest
from playwright.sync_api import expect

from taizhang.campaigns.models import OrgUnit
from taizhang.remediation.models import Plan
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_the_owner_list_narrows_as_one_types_and_keeps_the_choice(page, campaign, units, targets, personas):
    for n in range(100):  # as many rights units as the demo's
        OrgUnit.objects.create(campaign=campaign, kind=OrgUnit.Kind.RIGHTS_UNIT, code="U%03d" % n, parent=units["GZ"],
                               name="北京第%d物流有限公司" % n)
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))
    page.goto("/work/targets/%d/plans/new/" % targets["GC-0001"].pk)
    owner = page.locator("select[name=steps-0-owner]")
    everything = owner.locator("option").count()
    assert everything > 120
    box = page.locator("input.narrow").first
    box.fill("杨庄")
    expect(owner.locator("option")).to_have_count(2)  # the empty choice and 古城杨庄股份经济合作社
    expect(owner.locator("optgroup")).to_have_attribute("label", "地权/产权单位 · 集体经济系统")
    owner.select_option(label="古城杨庄股份经济合作社")
    box.fill("首钢")  # the chosen unit stays whatever is typed next
    expect(owner).to_have_value(str(units["U-GC"].pk))
    box.fill("")
    expect(owner.locator("option")).to_have_count(everything)
    expect(owner).to_have_value(str(units["U-GC"].pk))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#plan-form button[type=submit]").click()
    page.wait_for_url("**/work/targets/%d/" % targets["GC-0001"].pk)
    assert Plan.objects.get().steps.get(order=1).owner == units["U-GC"]
