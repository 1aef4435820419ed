"""Export: the page and the command give the same file; no cell ever becomes a formula."""

import datetime
import io
import json
import urllib.parse
import zipfile
from unittest import mock

import pytest
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
    column = _rows(then.read_bytes())[1].index("居住人口")
    population = {"then": _rows(then.read_bytes())[2][column], "now": _rows(now.read_bytes())[2][column]}
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


# What an export holds is said by its title and its file name (not 总台账 for a part of it).

def _download(client, url, params=None):
    response = client.get(url, params or {})
    assert response.status_code == 200
    filename = urllib.parse.unquote(response["Content-Disposition"].split("filename*=utf-8''")[1])
    return _rows(b"".join(response.streaming_content))[0][0], filename


def test_a_filtered_export_names_its_filters_and_day(client, units, targets, personas):
    client.force_login(personas["carol"])
    title, filename = _download(client, "/ledger/export.xlsx", {
        "street": units["GC"].pk, "system": units["JT"].pk, "q": "大院", "pilot": "on", "sort": "-area"})
    day = timezone.localdate()
    assert "总台账" in title  # the office sees the whole ledger, narrowed by the filters it names
    for words in ("街道：古城街道", "所属系统：集体经济系统", "搜索“大院”", "仅看试点", day.isoformat()):
        assert words in title, words
    assert filename == "总台账-搜索“大院”-街道：古城街道-所属系统：集体经济系统-仅看试点-%s.xlsx" % (
        day.strftime("%Y%m%d"))


@pytest.mark.parametrize(("url", "name"), [
    ("/ledger/street/GC/export.xlsx", "古城街道"), ("/ledger/system/JT/export.xlsx", "集体经济系统"),
    ("/ledger/unit/U-GC/export.xlsx", "古城杨庄股份经济合作社")])
def test_a_street_system_or_unit_export_names_its_ledger(client, targets, personas, url, name):
    client.force_login(personas["carol"])
    title, filename = _download(client, url, {"as_of": timezone.localdate().isoformat()})
    day = timezone.localdate()
    assert "总台账" not in title and name in title and day.isoformat() in title
    assert filename == "%s台账-截至%s.xlsx" % (name, day.strftime("%Y%m%d"))


def test_a_street_users_whole_ledger_is_named_after_the_street_it_holds(client, targets, personas):
    client.force_login(personas["alice"])
    title, filename = _download(client, "/ledger/export.xlsx", {"state": "registered"})
    assert "总台账" not in title and "古城街道" in title and "状态：待核查" in title
    assert filename.startswith("古城街道台账-状态：待核查-")


def test_a_search_cannot_put_a_path_in_the_file_name(client, targets, personas):
    client.force_login(personas["carol"])
    _title, filename = _download(client, "/ledger/export.xlsx", {"q": "../a/b:c"})
    assert "/" not in filename and ":" not in filename and filename.startswith("总台账-搜索“.._a_b_c”-")


def test_the_command_names_the_file_as_the_page_does(targets, personas, tmp_path):
    call_command("export_ledger", ledger="street:古城", output=tmp_path, user="carol", verbosity=0)
    day = timezone.localdate()
    written = tmp_path / ("古城街道台账-%s.xlsx" % day.strftime("%Y%m%d"))
    title = _rows(written.read_bytes())[0][0]
    assert "古城街道" in title and "总台账" not in title
    call_command("export_ledger", output=tmp_path, user="alice", verbosity=0)
    assert "古城街道" in _rows((tmp_path / ("古城街道台账-%s.xlsx" % day.strftime("%Y%m%d"))).read_bytes())[0][0]
