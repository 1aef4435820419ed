"""My to-do in the browser: the header's count arrives after the page (HTMX, under the
Content-Security-Policy), equals the list's lines, and each line leads to the place to act."""

import datetime

import pytest
from playwright.sync_api import expect

from taizhang.ledger.models import Target
from taizhang.remediation.verification import verification_record
from taizhang.remediation.workflow import target_step
from tests.browser.test_remediation_path import login


@pytest.mark.browser
def test_the_header_counts_the_lines_and_a_line_leads_to_the_place_to_act(page, targets, personas):
    carol, alice = personas["carol"], personas["alice"]
    verification_record(target=targets["GC-0001"], actor=alice, facts={"resident_population": 130})
    target_step(target=targets["LG-0001"], to=Target.State.ON_HOLD, actor=carol, hold_reason="产权诉讼中",
                hold_review_on=datetime.date(2016, 3, 1))

    login(page, "carol", "/ledger/")
    expect(page.locator("#todo-count mark")).to_have_text("2")
    page.click("#todo-link")
    page.wait_for_url("**/work/todo/")
    expect(page.locator("li.todo-line")).to_have_count(2)
    page.locator("#todo-verifications li.todo-line a").click()
    page.wait_for_url("**/work/targets/%d/#verification-*" % targets["GC-0001"].pk)
    expect(page.locator("article.verification button.confirm")).to_be_visible()

    # Bob, in another street, has nothing waiting: no number in the header.
    page.locator("header form[action$='/accounts/logout/'] button[type=submit]").click()
    page.wait_for_url("**/accounts/login/")
    login(page, "bob", "/")
    # The header's placeholder asks (hx-get); the answer that replaces it does not.
    expect(page.locator("#todo-count:not([hx-get])")).to_be_attached()
    expect(page.locator("#todo-count mark")).to_have_count(0)
    expect(page.locator("#home-todo")).to_contain_text("暂无待办")
