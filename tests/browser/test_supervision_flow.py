"""In a real browser: the HQ office issues an order to 古城街道, the street signs for it and asks
for more time, the office refuses, time passes and the reminders arrive, the order is referred
to 纪检监察, which records 约谈 for the street's responsible person, and her performance record
shows it. The worker's sweep is run as the worker runs it, with the clock moved."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from taizhang.supervision.escalation import orders_sweep
from taizhang.supervision.models import Order
from tests.conftest import PASSWORD
from tests.supervision.conftest import TODAY, today  # noqa: F401 (the clock, a fixture here)

pytestmark = pytest.mark.browser
DEADLINE = TODAY + datetime.timedelta(days=10)


def _as(page, username):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def _sweep(clock, day):
    clock.set(day)
    return orders_sweep(now=timezone.now())


def test_an_order_from_issue_to_accountability(page, personas, units, targets, today):  # noqa: F811
    _as(page, "carol")
    page.goto("/orders/")
    page.click("#order-new")
    page.select_option("select[name=receiver]", label="古城街道")
    page.fill("input[name=subject]", "古城杨庄大院腾退滞后")
    page.fill("textarea[name=text]", "限期完成租户腾退")
    page.fill("input[name=deadline]", DEADLINE.isoformat())
    page.fill("textarea[name=targets]", "GC-0001")
    page.click("#order-form button[type=submit]")
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get()
    expect(page.locator("h1")).to_contain_text("石治乱督〔2016〕1号")

    _as(page, "alice")
    expect(page.locator("#notifications-count")).to_have_text("1")  # the order, in her unit's inbox
    page.goto("/orders/")
    page.click("#order-row-%d a" % order.pk)
    page.click("#step-signed")
    expect(page.locator("#order-colour")).to_contain_text("已签收")
    page.click("text=申请延期")
    page.fill("#extension-form input[name=deadline]", (DEADLINE + datetime.timedelta(days=10)).isoformat())
    page.fill("#extension-form textarea[name=reason]", "租户未搬离")
    page.click("#extension-form button[type=submit]")
    expect(page.locator("#extension-asked")).to_be_visible()

    _as(page, "carol")
    page.goto(order.get_absolute_url())
    page.select_option("#decision-form select[name=grant]", "0")
    page.fill("#decision-form input[name=note]", "理由不充分，按期办结")
    page.click("#decision-form button[type=submit]")
    expect(page.locator("#extensions")).to_contain_text("拒绝: 理由不充分")

    # Time passes: a reminder before the deadline, then three chases after it, and the referral.
    assert _sweep(today, DEADLINE - datetime.timedelta(days=3)) == {"reminded": 1, "referred": 0}
    for days in (1, 3):
        _sweep(today, DEADLINE + datetime.timedelta(days=days))
    assert _sweep(today, DEADLINE + datetime.timedelta(days=7)) == {"reminded": 1, "referred": 1}

    _as(page, "alice")
    page.goto("/notifications/")
    expect(page.locator("main")).to_contain_text("请立即办理（催办）")
    page.goto(order.get_absolute_url())
    expect(page.locator("#order-colour")).to_contain_text("已移交纪检")
    expect(page.locator("#trail")).to_contain_text("催办")

    _as(page, "jin")
    page.goto("/orders/referrals/")
    page.click("#referral-list a")
    page.fill("#accountability-form input[name=person]", "alice")
    page.select_option("#accountability-form select[name=outcome]", "约谈")
    page.fill("#accountability-form textarea[name=reason]", "多次催办仍未落实，推进迟缓")
    page.click("#accountability-form button[type=submit]")
    expect(page.locator("#outcomes")).to_contain_text("约谈")

    _as(page, "alice")
    page.click("#records-link")
    page.click("#record-people a")
    expect(page.locator("#record-outcomes")).to_contain_text("约谈")
    expect(page.locator("#record-orders")).to_contain_text("石治乱督〔2016〕1号")
    expect(page.locator("#record-orders")).to_contain_text("逾期")
