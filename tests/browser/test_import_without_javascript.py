"""The import page with JavaScript turned off: check a file, read the report, apply it."""

import re

import pytest
from playwright.sync_api import expect

from taizhang.ledger.models import Target
from tests.conftest import PASSWORD, gc_row, make_xlsx


@pytest.fixture
def page_without_javascript(browser, server):
    context = browser.new_context(base_url=server, locale="zh-CN", java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_import_works_without_javascript(page_without_javascript, targets, personas, tmp_path):
    page = page_without_javascript
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))

    # A bad cell: the whole page comes back with the problem named and no apply button.
    (tmp_path / "bad.xlsx").write_bytes(make_xlsx([gc_row("GC-0101", 占地面积="-5")]))
    page.goto("/ledger/import/")
    page.set_input_files("#import-form input[name=file]", str(tmp_path / "bad.xlsx"))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#problems li")).to_have_count(1)
    expect(page.locator("#problems li")).to_contain_text("占地面积")
    expect(page.locator("#apply")).to_have_count(0)

    # A good file, with a value to empty: the report lists it apart; applying writes.
    (tmp_path / "good.xlsx").write_bytes(make_xlsx([gc_row("GC-0101"), gc_row(
        "GC-0001", 名称="GC-0001大院", 占地面积="1200", 居住人口=120, 登记日期="2015-11-20", 社区="【清空】")]))
    page.set_input_files("#import-form input[name=file]", str(tmp_path / "good.xlsx"))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#problems")).to_have_count(0)
    expect(page.locator("#clearings")).to_contain_text("杨庄社区")
    page.fill("input[name=reason]", "补录")
    page.click("#apply")
    page.wait_for_url(re.compile(r"/ledger/$"))
    expect(page.locator("main .message")).to_be_visible()
    assert Target.objects.filter(code="GC-0101").exists()
    assert Target.objects.get(code="GC-0001").community == ""
