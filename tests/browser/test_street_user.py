"""A street user's round trip: log in, filter the ledger, export it, import a fixed copy."""

import datetime
import re

import pytest
import xlsxwriter
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook

from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.models import Target
from taizhang.ledger.services import OBJECT_TYPE
from tests.conftest import PASSWORD

POPULATION = "居住人口"


def read_rows(path):
    """Every row of the first sheet: a title row, the header row, then the data rows."""
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)


def write_rows(path, rows):
    """An .xlsx holding `rows` as they are (no formulas or links made of text)."""
    workbook = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
    sheet, day = workbook.add_worksheet(), workbook.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, datetime.date):
                sheet.write_datetime(r, c, value, day)
            elif value not in (None, ""):
                sheet.write(r, c, value)
    workbook.close()


def with_population(rows, changes):
    """A copy of `rows` with 居住人口 set per code ({code: value}); returns (rows, row numbers)."""
    header = [str(h) for h in rows[1]]
    code_at = next(i for i, h in enumerate(header) if h in ("Code", "编号"))
    pop_at = next(i for i, h in enumerate(header) if h in ("Resident population", POPULATION))
    out, numbers = [list(rows[0]), list(rows[1])], {}
    for number, row in enumerate(rows[2:], start=3):
        row = list(row)
        if row[code_at] in changes:
            row[pop_at], numbers[row[code_at]] = changes[row[code_at]], number
        out.append(row)
    return out, numbers


def check_file(page, path):
    """Upload `path` on the import page and wait for the htmx answer (the report)."""
    page.set_input_files("#import-form input[name=file]", str(path))
    with page.expect_response(lambda r: r.url.endswith("/ledger/import/") and r.request.method == "POST"):
        page.click("#import-form button[type=submit]")
    expect(page.locator("#report")).to_be_visible()


def population(code):
    return Target.objects.get(code=code).resident_population


@pytest.mark.browser
def test_street_user_filters_exports_and_imports(page, targets, personas, tmp_path):
    # 1. Log in as Alice (古城 sub-command) and land on home.
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))

    # 2. Her street ledger: 古城's three targets, none of 鲁谷's; filter by ownership system.
    page.click("a[href='/ledger/street/GC/']")
    page.wait_for_url("**/ledger/street/GC/")
    rows, count = page.locator("#results table.ledger tbody tr"), page.locator("#results p.muted")
    expect(rows).to_have_count(3)
    for code in ("GC-0001", "GC-0002", "GC-0003"):
        expect(page.locator("#results").get_by_role("link", name=code, exact=True)).to_be_visible()
    expect(page.locator("#results")).not_to_contain_text("LG-0001")
    before = count.inner_text()
    page.select_option("select[name=system]", label="集体经济系统")
    expect(rows).to_have_count(2)
    expect(count).not_to_have_text(before)
    expect(count).to_contain_text("2")
    expect(page.locator("#results")).not_to_contain_text("GC-0003")

    # 3. Export the filtered ledger: a title row, a header row and the two rows.
    with page.expect_download() as info:
        page.click("#export-link")
    exported = tmp_path / info.value.suggested_filename
    info.value.save_as(exported)
    exported_rows = read_rows(exported)
    assert len(exported_rows) == 4
    assert sorted(row[0] for row in exported_rows[2:]) == ["GC-0001", "GC-0002"]

    # 4. One bad cell: the report names its row and column, and nothing is written.
    bad, numbers = with_population(exported_rows, {"GC-0001": 300, "GC-0002": "很多"})
    write_rows(tmp_path / "bad.xlsx", bad)
    page.goto("/ledger/import/")
    check_file(page, tmp_path / "bad.xlsx")
    problems = page.locator("#problems li")
    expect(problems).to_have_count(1)
    expect(problems).to_contain_text(str(numbers["GC-0002"]))
    expect(problems).to_contain_text(re.compile(f"{POPULATION}|Resident population"))
    expect(problems).to_contain_text("很多")
    expect(page.locator("#apply")).to_have_count(0)
    page.screenshot(path="/tmp/import-error.png", full_page=True)
    assert (population("GC-0001"), population("GC-0002")) == (120, 120)

    # 5. Fix the cell, check again and apply: back on the ledger, written and logged.
    fixed, _numbers = with_population(exported_rows, {"GC-0001": 300, "GC-0002": 150})
    write_rows(tmp_path / "fixed.xlsx", fixed)
    check_file(page, tmp_path / "fixed.xlsx")
    expect(page.locator("#problems")).to_have_count(0)
    expect(page.locator("#report table tbody tr")).to_have_count(2)
    expect(page.locator("#report .summary li").nth(1)).to_contain_text("2")
    page.click("#apply")
    page.wait_for_url(re.compile(r"/ledger/$"))
    expect(page.locator("main .message")).to_be_visible()
    assert (population("GC-0001"), population("GC-0002")) == (300, 150)
    logged = ChangeLogEntry.objects.filter(object_type=OBJECT_TYPE, actor=personas["alice"],
                                           action="update")
    assert set(logged.values_list("object_id", flat=True)) == {
        str(targets["GC-0001"].pk), str(targets["GC-0002"].pk)}
