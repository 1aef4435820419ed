"""Mapping an unknown label in the import page: the HQ office checks a file written with words
the ledger does not know, chooses what each stands for, and the same file is checked again."""

import re

import pytest
from playwright.sync_api import expect

from taizhang.campaigns.models import LabelAlias
from taizhang.ledger.models import Target
from tests.browser.test_import_without_javascript import page_without_javascript  # noqa: F401 (a fixture)
from tests.conftest import PASSWORD, gc_row, make_xlsx


def _log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def _odd_file(tmp_path):
    """古城区 for 古城街道 (close to a known name), 火星 for an ownership system (close to nothing)."""
    path = tmp_path / "台账.xlsx"
    path.write_bytes(make_xlsx([gc_row("GC-0101", 所属街道="古城区"), gc_row("GC-0102", 所属系统="火星")]))
    return path


def _check(page, path):
    page.goto("/ledger/import/")
    page.set_input_files("#import-form input[name=file]", str(path))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#unknown-labels")).to_be_visible()


@pytest.mark.browser
def test_the_office_maps_an_unknown_label_and_applies_the_file(page, targets, personas, tmp_path):
    _log_in(page, "carol")
    _check(page, _odd_file(tmp_path))
    rows = page.locator("#unknown-labels tbody tr")
    expect(rows).to_have_count(2)
    street, system = rows.nth(0), rows.nth(1)
    expect(street).to_contain_text("古城区")
    # The closest known value is chosen already; the one close to nothing waits for a choice.
    expect(street.locator("select")).to_have_value("GC")
    expect(system.locator("select")).to_have_value("")
    expect(page.locator("#apply")).to_have_count(0)
    system.locator("select").select_option(label="国资系统")
    page.click("#map")
    expect(page.locator("#mapped")).to_contain_text("已对应 2 个标签")
    expect(page.locator("#unknown-labels")).to_have_count(0)
    expect(page.locator("#problems")).to_have_count(0)
    page.fill("input[name=reason]", "补录")
    page.click("#apply")
    page.wait_for_url(re.compile(r"/ledger/$"))
    assert Target.objects.get(code="GC-0101").street.code == "GC"
    assert Target.objects.get(code="GC-0102").system.code == "GZ"
    assert set(LabelAlias.objects.values_list("column", "text", "value")) == {
        ("street", "古城区", "GC"), ("system", "火星", "GZ")}


@pytest.mark.browser
def test_mapping_works_without_javascript(page_without_javascript, targets, personas, tmp_path):  # noqa: F811
    page = page_without_javascript
    _log_in(page, "carol")
    _check(page, _odd_file(tmp_path))
    page.locator("#unknown-labels tbody tr").nth(1).locator("select").select_option(value="GZ")
    page.click("#map")
    expect(page.locator("#mapped")).to_be_visible()
    expect(page.locator("#apply")).to_be_visible()
    assert LabelAlias.objects.count() == 2


@pytest.mark.browser
def test_a_street_user_is_shown_the_suggestions_without_a_choice(page, targets, personas, tmp_path):
    _log_in(page, "alice")
    _check(page, _odd_file(tmp_path))
    expect(page.locator("#unknown-labels")).to_contain_text("最接近：古城街道")
    expect(page.locator("#unknown-labels select")).to_have_count(0)
    expect(page.locator("#map")).to_have_count(0)
