"""Text one database stores and the other refuses is caught in the dry run, on both: a NUL
(PostgreSQL refuses it), other control characters, and text longer than its column
(SQLite does not enforce a varchar's length; PostgreSQL does)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.importing import ImportRejected, import_prepare, target_import
from taizhang.ledger.models import ImportUpload, Target
from tests.conftest import HEADER, gc_row, ledger_state, make_xlsx


def _refused(campaign, user, data, filename="台账.xlsx"):
    """The dry run's problems; applying is refused and changes nothing."""
    before = ledger_state()
    report = import_prepare(campaign=campaign, user=user, data=data, filename=filename)
    with pytest.raises(ImportRejected):
        target_import(campaign=campaign, user=user, data=data, filename=filename)
    assert ledger_state() == before
    return report.problems


@pytest.mark.parametrize(("column", "header", "value", "code"), [
    ("名称", "名称", "杨庄\x00东大院", "U+0000"),
    ("社区", "社区", "杨庄\x00", "U+0000"),
    ("编号", "编号", "GC-\x000101", "U+0000"),
    ("责任单位", "责任单位", "新\x00单位", "U+0000"),  # a new unit's name
    ("名称", "名称", "杨庄\x01东大院", "U+0001"),
    ("社区", "社区", "杨庄\x7f", "U+007F"),
    ("社区", "社区", "杨庄\x85社区\x9f", "U+009F"),  # \x85 is a line break, \x9f a C1 control
])
def test_control_characters_are_named_by_row_and_column(targets, personas, campaign, column, header, value, code):
    problems = _refused(campaign, personas["alice"], make_xlsx([gc_row("GC-0101", **{column: value})]))
    [problem] = problems
    assert (problem.row, problem.column) == (3, header)
    assert code in problem.message and "\x00" not in problem.value


def test_a_nul_for_a_stored_target(targets, personas, campaign):
    header = ["编号", "名称", "类型", "街道", "所属系统", "安全隐患"]
    data = make_xlsx([["GC-0001", "GC-0001大院", "大院", "古城", "集体", "电线\x00私拉"]], header=header)
    [problem] = _refused(campaign, personas["alice"], data)
    assert (problem.row, problem.column, problem.value) == (3, "安全隐患", "电线\\u0000私拉")


def test_a_control_character_in_a_csv(targets, personas, campaign):
    """(A NUL makes a CSV a binary file, refused whole by the reader.)"""
    text = "编号,名称,类型,街道,所属系统,安全隐患\nGC-0001,GC-0001大院,大院,古城,集体,电线\x1b私拉\n"
    [problem] = _refused(campaign, personas["alice"], text.encode("gbk"), "台账.csv")
    assert (problem.row, problem.column, problem.value) == (2, "安全隐患", "电线\\u001b私拉")


def test_format_characters_and_private_use_characters_are_kept(targets, personas, campaign):
    """A zero-width space (pasted from the web) and a private-use character (a rare name's
    glyph in some fonts) are not control characters: they are stored as typed."""
    name = "杨庄\u200b东\ue000大院"
    target_import(campaign=campaign, user=personas["alice"], data=make_xlsx([gc_row("GC-0101", 名称=name)]),
                  filename="台账.xlsx")
    assert Target.objects.get(code="GC-0101").name == name


@pytest.mark.parametrize(("column", "header", "length", "limit"), [
    ("名称", "名称", 201, 200),
    ("编号", "编号", 33, 32),
    ("社区", "社区", 101, 100),
    ("责任单位", "责任单位", 201, 200),  # a new unit's name: OrgUnit.name
])
def test_text_longer_than_its_column_is_named_on_both_databases(targets, personas, campaign, column, header,
                                                                length, limit):
    problems = _refused(campaign, personas["alice"], make_xlsx([gc_row("GC-0101", **{column: "长" * length})]))
    [problem] = problems
    assert (problem.row, problem.column) == (3, header) and str(limit) in problem.message


def test_text_as_long_as_its_column_is_stored(targets, personas, campaign):
    data = make_xlsx([gc_row("GC-0101", 名称="长" * 200, 责任单位="单" * 200, 社区="社" * 100)])
    target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    target = Target.objects.get(code="GC-0101")
    assert (len(target.name), len(target.responsible_unit.name), len(target.community)) == (200, 200, 100)


def test_every_text_column_is_checked(targets, personas, campaign):
    """A NUL in each text column of the ledger, in one file: one problem per cell."""
    header = [*HEADER, "地权单位", "产权单位", "地址", "安全隐患", "重点"]
    row = [*gc_row("GC-0101", 名称="名\x00", 社区="社\x00", 责任单位="责\x00"), "地\x00", "产\x00", "址\x00", "隐\x00",
           "重\x00"]
    problems = _refused(campaign, personas["alice"], make_xlsx([row], header=header))
    assert [p.column for p in problems] == ["名称", "社区", "责任单位", "地权单位", "产权单位", "地址", "安全隐患",
                                            "重点标签"]


def test_a_reason_with_a_nul_is_recorded_without_it(client, targets, personas):
    """(The page's reason field is free text: what cannot be stored is dropped, not refused.)"""
    client.force_login(personas["alice"])
    client.post("/ledger/import/", {"file": SimpleUploadedFile("台账.xlsx", make_xlsx([gc_row()]))},
                headers={"HX-Request": "true"})
    upload = ImportUpload.objects.get()
    client.post("/ledger/import/%s/apply/" % upload.pk, {"reason": "补录\x00第二批\n核对"},
                headers={"HX-Request": "true"})
    target = Target.objects.get(code="GC-0101")
    assert ChangeLogEntry.objects.get(object_id=str(target.pk)).reason == "补录第二批\n核对"
