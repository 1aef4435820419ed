"""Importing a ledger from Excel/CSV: dry run, all-or-nothing apply, every bad input refused.

Messages are checked in Chinese, the language users get by default.
"""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from python_calamine import CalamineWorkbook

from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.exporting import current_rows, write_xlsx
from taizhang.ledger.importing import ImportRejected, import_prepare, target_import
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update
from tests.conftest import HEADER, gc_row, ledger_state, make_xlsx


def _prepare(campaign, user, data, filename="台账.xlsx"):
    return import_prepare(campaign=campaign, user=user, data=data, filename=filename)


def _apply(campaign, user, data, filename="台账.xlsx"):
    return target_import(campaign=campaign, user=user, data=data, filename=filename)


def _export(queryset):
    out = io.BytesIO()
    write_xlsx(out, current_rows(queryset), title="台账")
    return out.getvalue()


def test_new_rows_are_normalised_and_applied(targets, personas, campaign):
    data = make_xlsx([gc_row("GC-0101"), gc_row("GC-0102", 居住人口="１２０", 占地面积="3000平方米",
                                               登记日期="2016.6.30")])
    report = _prepare(campaign, personas["alice"], data)
    assert report.ok and [r.code for r in report.new] == ["GC-0101", "GC-0102"]
    _apply(campaign, personas["alice"], data)
    first, second = Target.objects.get(code="GC-0101"), Target.objects.get(code="GC-0102")
    assert first.street.name == "古城街道" and first.system.name == "集体经济系统"
    assert first.target_type.name == "低端产业聚集人群大院"
    assert first.land_area == Decimal("1200.00") and first.resident_population == 300
    assert first.registered_on == datetime.date(2015, 11, 20)
    assert second.resident_population == 120 and second.registered_on == datetime.date(2016, 6, 30)
    assert first.responsible_unit.name == "古城杨庄股份经济合作社"
    assert ChangeLogEntry.objects.filter(object_id=str(first.pk), actor=personas["alice"]).exists()


def test_dry_run_reports_new_changed_unchanged_field_by_field(targets, personas, campaign):
    rows = [gc_row("GC-0001", 名称="GC-0001大院", 居住人口=150, 占地面积=1200, 责任单位="古城杨庄股份经济合作社",
                   类型="低端产业聚集人群大院", 登记日期=datetime.date(2015, 11, 20), 所属系统="集体经济系统"),
            gc_row("GC-0003", 名称="GC-0003大院", 居住人口=120, 占地面积="1200", 责任单位="",
                   所属系统="首钢", 登记日期=42328),
            gc_row("GC-0150")]
    before = ledger_state()
    report = _prepare(campaign, personas["alice"], make_xlsx(rows))
    assert [r.code for r in report.new] == ["GC-0150"]
    assert [(r.code, r.diffs) for r in report.changed] == [("GC-0001", [("居住人口", 120, 150)])]
    assert report.unchanged == 1
    assert ledger_state() == before


def test_reimporting_an_unchanged_export_changes_nothing(targets, personas, campaign):
    target_update(target=targets["GC-0001"], actor=None, changes={"flags": ["safety_hazard", "environment"]})
    data = _export(Target.objects.all())
    before = ledger_state()
    report = _apply(campaign, personas["carol"], data)
    assert (len(report.new), len(report.changed), report.unchanged) == (0, 0, 5)
    assert ledger_state() == before


def test_a_row_changed_since_the_export_is_a_conflict_not_overwritten(targets, personas, campaign):
    data = _export(Target.objects.filter(code="GC-0001"))
    target_update(target=targets["GC-0001"], actor=personas["carol"], changes={"business_count": 9})
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    header, row = workbook[1], list(workbook[2])
    row[header.index("居住人口")] = 999
    edited = make_xlsx([row], header=header)
    before = ledger_state()
    with pytest.raises(ImportRejected) as rejected:
        _apply(campaign, personas["alice"], edited)
    assert [c.code for c in rejected.value.report.conflicts] == ["GC-0001"]
    assert "carol" in rejected.value.report.conflicts[0].note
    assert ledger_state() == before


def test_one_bad_row_rejects_the_whole_file(targets, personas, campaign):
    data = make_xlsx([gc_row("GC-0101"), gc_row("GC-0102", 居住人口="很多")])
    before = ledger_state()
    with pytest.raises(ImportRejected) as rejected:
        _apply(campaign, personas["alice"], data)
    problem = rejected.value.report.problems[0]
    assert (problem.row, problem.value) == (4, "很多")
    assert problem.column == "居住人口"
    assert ledger_state() == before


def _one_problem(campaign, user, data, filename="台账.xlsx"):
    before = ledger_state()
    report = _prepare(campaign, user, data, filename)
    with pytest.raises(ImportRejected):
        _apply(campaign, user, data, filename)
    assert ledger_state() == before
    assert report.problems, "expected a problem"
    return report.problems


@pytest.mark.parametrize(("overrides", "row", "needle"), [
    ({"所属街道": "天安门"}, 3, "天安门"),
    ({"所属系统": "外星系统"}, 3, "外星系统"),
    ({"类型": "火箭发射场"}, 3, "火箭发射场"),
    ({"占地面积": "-20"}, 3, "-20"),
    ({"居住人口": "若干"}, 3, "若干"),
    ({"登记日期": "明年春天"}, 3, "明年春天"),
    ({"登记日期": "2016年13月1日"}, 3, "2016年13月1日"),
    ({"名称": ""}, 3, ""),
])
def test_bad_cells_are_named_by_row_and_column(targets, personas, campaign, overrides, row, needle):
    problems = _one_problem(campaign, personas["alice"], make_xlsx([gc_row(**overrides)]))
    assert (problems[0].row, needle in str(problems[0])) == (row, True)


def test_the_same_code_twice_in_one_file(targets, personas, campaign):
    problems = _one_problem(campaign, personas["alice"], make_xlsx([gc_row("GC-0101"), gc_row("GC-0101")]))
    assert problems[0].row == 4 and "3" in problems[0].message


@pytest.mark.parametrize(("data", "filename", "needle"), [
    (b"", "x.xlsx", "文件为空"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "photo.xlsx", "无法读取"),
    (make_xlsx([gc_row()])[:900], "cut.xlsx", "无法读取"),
    (make_xlsx([gc_row()], header=["甲", "乙", "丙", "丁"]), "x.xlsx", "未找到表头"),
])
def test_unreadable_files_get_a_clear_message(targets, personas, campaign, data, filename, needle):
    problems = _one_problem(campaign, personas["alice"], data, filename)
    assert needle in problems[0].message


def test_missing_required_column(targets, personas, campaign):
    header = [h for h in HEADER if h != "所属系统"]
    row = [v for h, v in zip(HEADER, gc_row(), strict=True) if h != "所属系统"]
    problems = _one_problem(campaign, personas["alice"], make_xlsx([row], header=header))
    assert "缺少必需的列：所属系统" in problems[0].message


def test_wrong_sheet_named_on_the_command_line(targets, campaign, tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(make_xlsx([gc_row()]))
    with pytest.raises(CommandError):
        call_command("import_ledger", str(path), sheet="Sheet9", verbosity=0)
    assert not Target.objects.filter(code="GC-0101").exists()


def test_table_found_on_a_later_sheet_under_a_cover_page(targets, personas, campaign):
    report = _prepare(campaign, personas["alice"], make_xlsx([gc_row()], extra_sheets=["封面"]))
    assert report.ok and report.sheet == "台账"


def test_file_over_the_size_cap(targets, personas, campaign, settings):
    settings.TAIZHANG_IMPORT_MAX_BYTES = 1000
    problems = _one_problem(campaign, personas["alice"], make_xlsx([gc_row()]))
    assert "1000\xa0字节" in problems[0].message


def test_file_over_the_row_cap(targets, personas, campaign, settings):
    settings.TAIZHANG_IMPORT_MAX_ROWS = 2
    rows = [gc_row("GC-01%02d" % i) for i in range(3)]
    problems = _one_problem(campaign, personas["alice"], make_xlsx(rows))
    assert "超过 2 行" in problems[0].message


def test_total_rows_and_unknown_columns(targets, personas, campaign):
    header = [*HEADER, "备注"]
    rows = [[*gc_row("GC-0101"), "随便写"], ["合计", None, None, None, None, None, None, 1200, 300, None]]
    report = _prepare(campaign, personas["alice"], make_xlsx(rows, header=header))
    assert report.ok and report.rows_read == 1
    assert report.unknown_columns == ["备注"]


def test_gbk_csv_with_header_variants(targets, personas, campaign):
    text = "编号,名称,类型,街乡,权属系统,人口数\nGC-0201,模式口西大院,大院,古城街道,首钢,\"1,200\"\n"
    _apply(campaign, personas["alice"], text.encode("gbk"), "台账.csv")
    target = Target.objects.get(code="GC-0201")
    assert (target.system.code, target.resident_population) == ("SG", 1200)


def test_street_user_cannot_import_into_another_street(targets, personas, campaign):
    problems = _one_problem(campaign, personas["alice"], make_xlsx([gc_row("LG-0901", 所属街道="鲁谷")]))
    assert "鲁谷街道" in problems[0].message


def test_street_user_cannot_change_another_streets_target(targets, personas, campaign):
    problems = _one_problem(campaign, personas["alice"], make_xlsx([gc_row("LG-0001")]))
    assert "LG-0001" in problems[0].message


def test_read_only_roles_cannot_import(targets, personas, campaign):
    for name in ("dan", "lee", "erin", "olive"):
        problems = _one_problem(campaign, personas[name], make_xlsx([gc_row("GC-0001", 居住人口=1)]))
        assert problems and problems[0].row == 3


def test_import_command_dry_run_and_apply(targets, campaign, tmp_path, capsys):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(make_xlsx([gc_row("GC-0301")]))
    call_command("import_ledger", str(path), dry_run=True, verbosity=0)
    assert not Target.objects.filter(code="GC-0301").exists()
    call_command("import_ledger", str(path), verbosity=0)
    assert Target.objects.filter(code="GC-0301").exists()
    assert "new 1" in capsys.readouterr().out


def test_an_import_leaves_the_petition_flag_to_the_petitions(targets, personas, campaign):
    from taizhang.ledger.services import target_update

    target_update(target=targets["GC-0001"], actor=None, changes={"flags": ["petition_risk"]})
    data = _export(Target.objects.filter(code="GC-0001"))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    header, row = rows[1], list(rows[2])
    row[header.index("重点情形")] = "重大安全隐患"
    _apply(campaign, personas["carol"], make_xlsx([row], header=header))
    assert Target.objects.get(code="GC-0001").flags == ["petition_risk", "safety_hazard"]


def test_every_bad_cell_is_reported_in_row_order_with_its_own_value(targets, personas, campaign):
    """Cells are checked column by column; the problems still come out row by row, each
    naming its own cell (under the ledger's name for the column), also where the same bad
    value repeats (labels are parsed once)."""
    data = make_xlsx([gc_row("GC-0101", 所属街道="火星", 占地面积="很大"), gc_row("GC-0102"),
                      gc_row("GC-0103", 所属街道="火星", 居住人口=-3),
                      gc_row("GC-0104", 占地面积=-1.5, 登记日期="明年"), gc_row("GC-0101")])
    before = ledger_state()
    report = _prepare(campaign, personas["alice"], data)
    assert [(p.row, p.column, p.value) for p in report.problems] == [
        (3, "街道", "火星"), (3, "占地面积（㎡）", "很大"),
        (5, "街道", "火星"), (5, "居住人口", "-3"),
        (6, "占地面积（㎡）", "-1.5"), (6, "登记日期", "明年"),
        (7, "编号", "GC-0101"),
    ]
    assert "GC-0102" in [r.code for r in report.new] and len(report.new) == 1
    with pytest.raises(ImportRejected):
        _apply(campaign, personas["alice"], data)
    assert ledger_state() == before


def test_the_command_without_a_user_changes_existing_targets(targets, campaign, tmp_path):
    """The system user (no --user) may change every target: its right to is asked of the database too."""
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(make_xlsx([gc_row("GC-0001", 居住人口=77), gc_row("LG-0001", 所属街道="鲁谷", 居住人口=78)]))
    call_command("import_ledger", str(path), verbosity=0)
    assert dict(Target.objects.filter(code__in=["GC-0001", "LG-0001"]).values_list("code", "resident_population")) \
        == {"GC-0001": 77, "LG-0001": 78}
    entry = ChangeLogEntry.objects.filter(object_id=str(targets["LG-0001"].pk)).last()
    assert entry.actor is None and entry.after["resident_population"] == 78
