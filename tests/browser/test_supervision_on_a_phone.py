"""In a real browser on a phone (390 px): the orders' pages, an order with its forms and trail,
纪检监察's queue, the performance records and the group robots fit the screen."""

import datetime
import re

import pytest

from taizhang.supervision.orders import extension_ask, order_answer, order_refer, order_step
from tests.conftest import PASSWORD
from tests.supervision.conftest import TODAY, issue, today  # noqa: F401 (the clock, a fixture here)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _fits(page, path):
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path


def test_the_supervision_pages_fit_a_phone(page, personas, units, targets, today):  # noqa: F811
    order = issue(personas["carol"], units, targets=[targets["GC-0001"], targets["GC-0003"]],
                  subject="古城街道杨庄大院等三处违法建设拆除与租户腾退进度严重滞后，请限期办结并书面反馈")
    order_step(actor=personas["alice"], order=order, to=order.State.SIGNED)
    order_answer(actor=personas["alice"], order=order, text="已约谈产权单位负责人，正在组织腾退" * 3)
    extension_ask(actor=personas["alice"], order=order, deadline=TODAY + datetime.timedelta(days=20),
                  reason="租户未搬离")
    other = issue(personas["carol"], units, receiver="LG", targets=[targets["LG-0001"]])
    order_refer(actor=personas["carol"], order=other, reason="多次督办未落实")
    page.set_viewport_size(PHONE)
    for username, paths in (
            ("carol", ["/orders/", order.get_absolute_url(), "/orders/new/", "/records/",
                       "/records/people/%d/" % personas["alice"].pk, "/accounts/robots/"]),
            ("alice", ["/orders/", order.get_absolute_url(), "/records/"]),
            ("jin", ["/orders/referrals/", other.get_absolute_url()])):
        page.context.clear_cookies()
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r"^https?://[^/]+/$"))
        for path in paths:
            _fits(page, path)
