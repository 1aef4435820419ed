"""Three things called 重点, one word each (docs/glossary.md): 重点情形 (situation flags, a
column), 重点标签 (the office's own free-text note, a column) and 重点理由 (what the preset's
priority rules make of a target: shown on the ledger page, written by the export, ignored by
the import like 状态)."""

import io

from django.core.management import call_command
from python_calamine import CalamineWorkbook

from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.importing import import_prepare, target_import
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update
from tests.conftest import HEADER, gc_row, ledger_state, make_xlsx


def _sheet(data):
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def _export(tmp_path, **options):
    path = tmp_path / "out.xlsx"
    call_command("export_ledger", output=path, verbosity=0, **options)
    return _sheet(path.read_bytes())


def test_the_export_writes_the_reasons_beside_the_offices_own_tags(targets, tmp_path):
    target_update(target=targets["GC-0001"], actor=None,
                  changes={"flags": ["safety_hazard"], "priority_tags": "领导包案"})
    rows = _export(tmp_path, ledger="street:古城")
    header = rows[1]
    assert len(set(header)) == len(header) and "重点" not in header
    tags, reasons, flags = header.index("重点标签"), header.index("重点理由"), header.index("重点情形")
    assert reasons == tags + 1
    gc1 = next(r for r in rows[2:] if r[0] == "GC-0001")
    assert (gc1[flags], gc1[tags], gc1[reasons]) == ("重大安全隐患", "领导包案", "集体经济；古城街道；存在重大安全隐患")
    assert gc1[reasons] == "；".join(Target.objects.get(code="GC-0001").priority_reasons)


def test_the_reasons_of_a_past_day_are_those_of_the_target_as_it_stood(targets, tmp_path):
    from django.utils import timezone

    before = _export(tmp_path, ledger="street:古城", as_of=timezone.localdate())
    target_update(target=targets["GC-0003"], actor=None, changes={"flags": ["environment"]})
    now = _export(tmp_path, ledger="street:古城")
    column = before[1].index("重点理由")
    assert [r[column] for r in before[2:] if r[0] == "GC-0003"] == ["古城街道"]
    assert [r[column] for r in now[2:] if r[0] == "GC-0003"] == ["古城街道；环境脏乱差"]


def test_an_export_reimports_unchanged_and_its_reasons_are_read_and_ignored(targets, personas, campaign, tmp_path):
    path = tmp_path / "all.xlsx"
    call_command("export_ledger", output=path, verbosity=0)
    rows = _sheet(path.read_bytes())
    column = rows[1].index("重点理由")
    for row in rows[2:]:
        row[column] = "随便写的理由"  # what a sheet says here never reaches the ledger
    # (make_xlsx would turn GC-0002's "=HYPERLINK…" name into a formula: left out here.)
    data = make_xlsx([r for r in rows[2:] if not r[1].startswith("=")], header=rows[1])
    before = ledger_state()
    report = import_prepare(campaign=campaign, user=personas["carol"], data=data, filename="台账.xlsx")
    assert (len(report.new), len(report.changed), report.unchanged, report.problems) == (0, 0, 4, [])
    assert "重点理由" not in report.unknown_columns
    target_import(campaign=campaign, user=personas["carol"], data=data, filename="台账.xlsx")
    assert ledger_state()[0] == before[0]


def test_a_sheets_bare_zhongdian_column_is_the_offices_tags(targets, personas, campaign):
    data = make_xlsx([[*gc_row("GC-0101"), "领导包案"]], header=[*HEADER, "重点"])
    target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    target = Target.objects.get(code="GC-0101")
    assert target.priority_tags == "领导包案"
    assert target.priority_reasons == ["集体经济", "古城街道"]  # from the rules, not from the sheet
    assert ChangeLogEntry.objects.latest("id").after["priority_tags"] == "领导包案"


def test_the_ledger_page_heads_the_reasons_as_such(client, targets, personas):
    client.force_login(personas["carol"])
    page = client.get("/ledger/").content.decode()
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert "重点理由" in head and ">重点<" not in head
