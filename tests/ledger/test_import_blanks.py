"""An import never erases what it was not given: a blank cell or a missing column keeps the
stored value; emptying one takes the marker 【清空】 and is listed apart in the dry run."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.importing import ImportRejected, import_prepare, target_import
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update
from tests.conftest import make_xlsx

REQUIRED = ["编号", "名称", "类型", "所属街道", "所属系统"]
FULL = {
    "community": "杨庄社区", "land_rights_unit": "杨庄村委会", "address": "北京市石景山区杨庄路1号",
    "land_area": Decimal("1200.00"), "longitude": Decimal("116.225437"), "resident_population": 120,
    "registered_on": datetime.date(2015, 11, 20), "flags": ["petition_risk", "safety_hazard"], "is_pilot": True,
}


@pytest.fixture
def full(targets):
    """GC-0001 with a value in every kind of column (its responsible unit is 古城杨庄股份经济合作社)."""
    return target_update(target=targets["GC-0001"], actor=None, changes=FULL)


def _row(column, value):
    """GC-0001 as the ledger holds it, with one more column holding `value`."""
    header = [*REQUIRED, column]
    return make_xlsx([["GC-0001", "GC-0001大院", "大院", "古城", "集体", value]], header=header)


def _stored(code="GC-0001"):
    return Target.objects.filter(code=code).values().get()


# One column of each kind: (header, field, a blank cell, its value after the marker).
KINDS = [
    ("社区", "community", "", ""),  # text
    ("地权单位", "land_rights_unit", None, ""),  # text, the cell absent altogether
    ("地址", "address", "  ", ""),  # text, spaces only
    ("占地面积（㎡）", "land_area", "", None),  # decimal
    ("经度", "longitude", "", None),  # coordinate
    ("居住人口", "resident_population", "", None),  # whole number
    ("登记日期", "registered_on", "", None),  # date
    ("责任单位", "responsible_unit_id", "", None),  # unit
    ("重点情形", "flags", "", ["petition_risk"]),  # flags: the petition flag follows the petitions
    ("试点", "is_pilot", "", False),  # yes/no
]


@pytest.mark.parametrize(("column", "name", "blank", "_emptied"), KINDS)
def test_a_blank_cell_keeps_the_stored_value(full, personas, campaign, column, name, blank, _emptied):
    before, entries = _stored(), ChangeLogEntry.objects.count()
    data = _row(column, blank)
    report = import_prepare(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    assert report.ok and (report.unchanged, report.changed, report.cleared) == (1, [], [])
    target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    assert _stored() == before and ChangeLogEntry.objects.count() == entries


@pytest.mark.parametrize(("column", "name", "_blank", "emptied"), KINDS)
def test_the_marker_empties_a_value_and_the_dry_run_lists_it_apart(full, personas, campaign, column, name,
                                                                    _blank, emptied):
    before = _stored()
    data = _row(column, "【清空】")
    report = import_prepare(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    assert report.ok and [r.code for r in report.changed] == ["GC-0001"]
    [cleared] = report.cleared
    assert (cleared.row, cleared.code, [diff[0] for diff in cleared.diffs]) == (3, "GC-0001", [column])
    target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    after = _stored()
    assert after[name] == emptied
    assert {k: v for k, v in after.items() if k not in (name, "version", "updated_at", "priority_reasons",
                                                         "priority_rank")} == \
        {k: v for k, v in before.items() if k not in (name, "version", "updated_at", "priority_reasons",
                                                      "priority_rank")}
    assert after["version"] == before["version"] + 1


@pytest.mark.parametrize("marker", ["【清空】", "[clear]", "#清空", "＃清空", "（清空）", " [ CLEAR ] ", "〔清空〕",
                                    "<clear>"])
def test_the_marker_in_either_language_and_its_usual_spellings(full, personas, campaign, marker):
    report = import_prepare(campaign=campaign, user=personas["alice"], data=_row("社区", marker),
                            filename="台账.xlsx")
    assert [[d[0] for d in r.diffs] for r in report.cleared] == [["社区"]]


@pytest.mark.parametrize("text", ["清空", "clear", "已清空", "[清空] 杨庄"])
def test_words_that_are_not_the_marker_are_values(full, personas, campaign, text):
    report = import_prepare(campaign=campaign, user=personas["alice"], data=_row("社区", text), filename="台账.xlsx")
    assert report.cleared == [] and report.changed[0].diffs == [("社区", "杨庄社区", text)]


def test_none_for_situation_flags_is_an_emptying_listed_apart(full, personas, campaign):
    report = import_prepare(campaign=campaign, user=personas["alice"], data=_row("重点情形", "无"),
                            filename="台账.xlsx")
    assert [[d[0] for d in r.diffs] for r in report.cleared] == [["重点情形"]]


@pytest.mark.parametrize(("column", "header"), [("名称", "名称"), ("类型", "类型"), ("所属街道", "街道"),
                                               ("所属系统", "所属系统")])
def test_a_required_column_cannot_be_emptied(full, personas, campaign, column, header):
    row = dict(zip(REQUIRED, ["GC-0001", "GC-0001大院", "大院", "古城", "集体"], strict=True))
    row[column] = "【清空】"
    data = make_xlsx([list(row.values())], header=REQUIRED)
    before = _stored()
    with pytest.raises(ImportRejected) as rejected:
        target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    [problem] = rejected.value.report.problems
    assert (problem.row, problem.column, problem.value) == (3, header, "【清空】")
    assert "不能清空" in str(problem)
    assert _stored() == before


def test_a_missing_column_changes_nothing(full, personas, campaign):
    """Only the required columns and 居住人口: every other field keeps its value."""
    before = _stored()
    data = _row("居住人口", 150)
    report = target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    assert [r.diffs for r in report.changed] == [[("居住人口", 120, 150)]]
    after = _stored()
    assert after["resident_population"] == 150
    assert {k: v for k, v in after.items() if k not in ("resident_population", "version", "updated_at")} == \
        {k: v for k, v in before.items() if k not in ("resident_population", "version", "updated_at")}


def test_a_new_row_takes_defaults_for_blanks_and_for_the_marker(targets, personas, campaign):
    header = [*REQUIRED, "社区", "居住人口", "重点情形", "试点", "责任单位"]
    data = make_xlsx([["GC-0101", "新大院", "大院", "古城", "集体", "【清空】", "", "", "【清空】", ""]], header=header)
    report = target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    assert report.cleared == [] and len(report.new) == 1
    target = Target.objects.get(code="GC-0101")
    assert (target.community, target.resident_population, target.flags, target.is_pilot, target.responsible_unit) \
        == ("", None, [], False, None)


def test_a_street_sheet_with_empty_columns_keeps_the_target_in_its_units_ledger(full, personas, campaign, units):
    """The issue's case: 社区, 地权单位, 责任单位 and 地址 left empty by a street's sheet."""
    header = [*REQUIRED, "社区", "地权单位", "责任单位", "地址", "居住人口"]
    data = make_xlsx([["GC-0001", "GC-0001大院", "大院", "古城", "集体", "", "", "", "", 130]], header=header)
    target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    target = Target.objects.get(code="GC-0001")
    assert (target.community, target.land_rights_unit, target.address, target.resident_population) == (
        "杨庄社区", "杨庄村委会", "北京市石景山区杨庄路1号", 130)
    assert target.responsible_unit == units["U-GC"]


def test_the_command_lists_what_the_file_empties(full, campaign, tmp_path, capsys):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(_row("地址", "【清空】"))
    call_command("import_ledger", str(path), dry_run=True, verbosity=0)
    out = capsys.readouterr().out
    assert "CLEARS row 3 GC-0001: 地址 '北京市石景山区杨庄路1号' -> (empty)" in out
    assert _stored()["address"] == "北京市石景山区杨庄路1号"


def test_the_page_shows_what_the_file_empties_in_its_own_section(client, full, personas):
    client.force_login(personas["alice"])
    page = client.get("/ledger/import/").content.decode()
    assert "【清空】" in page and 'id="clearing-help"' in page
    response = client.post("/ledger/import/", {"file": SimpleUploadedFile("台账.xlsx", _row("地址", "[clear]"))},
                           headers={"HX-Request": "true"})
    html = response.content.decode()
    section = html[html.index('id="clearings"'):]
    section = section[:section.index("</article>")]
    assert "GC-0001" in section and "地址" in section and "北京市石景山区杨庄路1号" in section
    assert _stored()["address"] == "北京市石景山区杨庄路1号"
