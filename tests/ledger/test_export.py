"""Export: the page and the command give the same file; no cell ever becomes a formula."""

import datetime
import io
import json
import zipfile
from unittest import mock

from django.core.management import call_command
from django.utils import timezone
from python_calamine import CalamineWorkbook

from taizhang.ledger.demo import demo_load
from taizhang.ledger.exporting import as_of_rows, current_rows
from taizhang.ledger.importing import target_import
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update
from tests.conftest import HEADER, gc_row, make_xlsx
from tests.ledger.test_campaign_switch import _campaign


def _rows(data):
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def test_page_export_and_command_export_hold_the_same_cells(client, targets, personas, tmp_path):
    client.force_login(personas["carol"])
    page = b"".join(client.get("/ledger/street/GC/export.xlsx").streaming_content)
    path = tmp_path / "gc.xlsx"
    call_command("export_ledger", ledger="street:古城", output=path, verbosity=0)
    from_page, from_command = _rows(page), _rows(path.read_bytes())
    assert from_page[1:] == from_command[1:]
    assert [r[0] for r in from_command[2:]] == ["GC-0001", "GC-0002", "GC-0003"]
    assert from_command[1][:4] == ["编号", "名称", "类型", "街道"]


def test_a_name_starting_with_equals_stays_text(client, targets, personas):
    client.force_login(personas["carol"])
    data = b"".join(client.get("/ledger/export.xlsx").streaming_content)
    names = [row[1] for row in _rows(data)[2:]]
    assert '=HYPERLINK("http://x")' in names
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "hyperlink" not in sheet_xml.lower().replace("=hyperlink", "")


def test_export_as_of_a_past_day_shows_the_ledger_as_it_stood(targets, personas, tmp_path):
    today = timezone.localdate()
    later = timezone.now() + datetime.timedelta(days=3)
    with mock.patch("django.utils.timezone.now", return_value=later):
        target_update(target=targets["GC-0001"], actor=personas["carol"], changes={"resident_population": 7})
    then, now = tmp_path / "then.xlsx", tmp_path / "now.xlsx"
    call_command("export_ledger", ledger="street:GC", as_of=today, output=then, verbosity=0)
    with mock.patch("django.utils.timezone.now", return_value=later):  # a later day is not known until it comes
        call_command("export_ledger", ledger="street:GC", as_of=today + datetime.timedelta(days=3), output=now,
                     verbosity=0)
    population = {"then": _rows(then.read_bytes())[2][14], "now": _rows(now.read_bytes())[2][14]}
    assert population == {"then": 120.0, "now": 7.0}
    yesterday = tmp_path / "yesterday.xlsx"
    call_command("export_ledger", as_of=today - datetime.timedelta(days=1), output=yesterday, verbosity=0)
    assert len(_rows(yesterday.read_bytes())) <= 2


def test_export_as_of_respects_the_users_scope(client, targets, personas):
    client.force_login(personas["bob"])
    data = b"".join(client.get("/ledger/export.xlsx", {"as_of": timezone.localdate().isoformat()})
                    .streaming_content)
    assert sorted(r[0] for r in _rows(data)[2:]) == ["LG-0001", "LG-0002"]


def test_the_history_an_import_writes_is_the_ledger_itself(targets, personas, campaign):
    """Imports write their change-log snapshots from the parsed rows, not from saved targets:
    the ledger as of today, rebuilt from the log, must be the ledger as stored, value for value."""
    header = [*HEADER, "经度", "纬度", "出租面积", "重点情形", "是否试点"]
    rows = [[*gc_row("GC-0101", 占地面积="1,234.5㎡"), 116.2254371, 39.9, "约88.125", "重大安全隐患、环境脏乱差", "是"],
            [*gc_row("GC-0001", 居住人口=1), 116.1, 39.87654321, 0.1, "", "否"]]
    target_import(campaign=campaign, user=personas["carol"], data=make_xlsx(rows, header=header), filename="x.xlsx")
    demo_load(campaign=_campaign("kaiqiang-2017", "开墙打洞整治"), total=300)  # the demo's bulk path too
    queryset = Target.objects.all()
    # Both campaigns use the same codes: rows are compared whole, in one order.
    def ordered(rows):
        return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, ensure_ascii=False))
    assert ordered(as_of_rows(queryset, timezone.localdate())) == ordered(current_rows(queryset))
