"""Workbooks built to exhaust memory are refused before calamine reads them (issue 7)."""

import io
import json
import os
import subprocess
import sys
import zipfile

import pytest
from django.utils import translation

from taizhang.core.tabular import TableError, read_table
from taizhang.core.workbook_checks import Limits, WorkbookRefused, _letters, _outside, _position, check_workbook

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "%s</Types>")
SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet%d.xml" '
              'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>")
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>%s</sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">%s</Relationships>')
SHEET_REL = ('<Relationship Id="rId%d" Target="worksheets/sheet%d.xml" '
             'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>')
HEADER = ["编号", "名称", "街道"]
LIMITS = Limits(rows=101_000, columns=200, cells=4_040_000, uncompressed=202_000_000, ratio=200, parts=1_000)


def cell(ref, value):
    if isinstance(value, str):
        return '<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, value)
    return '<c r="%s"><v>%s</v></c>' % (ref, value)


def sheet_xml(cells, dimension=None):
    """Worksheet XML with `cells` {"A1": value}, rows in order."""
    rows = {}
    for ref, value in cells.items():
        number = int("".join(ch for ch in ref if ch.isdigit()))
        rows.setdefault(number, []).append(cell(ref, value))
    body = "".join('<row r="%d">%s</row>' % (n, "".join(cs)) for n, cs in sorted(rows.items()))
    head = '<dimension ref="%s"/>' % dimension if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            "%s<sheetData>%s</sheetData></worksheet>" % (head, body))


def workbook(*sheets, hidden=(), extra=()):
    """An .xlsx written part by part: `sheets` are worksheet XML texts, named 台账, 二, 三 …"""
    names = ["台账", "二", "三", "四"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES % "".join(SHEET_TYPE % (i + 1) for i in range(len(sheets))))
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK % "".join(
            '<sheet name="%s" sheetId="%d" r:id="rId%d"%s/>'
            % (names[i], i + 1, i + 1, ' state="hidden"' if i in hidden else "") for i in range(len(sheets))))
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS % "".join(
            SHEET_REL % (i + 1, i + 1) for i in range(len(sheets))))
        for i, xml in enumerate(sheets):
            book.writestr("xl/worksheets/sheet%d.xml" % (i + 1), xml)
        for name, data in extra:
            book.writestr(name, data)
    return out.getvalue()


def ledger_cells(rows=2):
    cells = {"A1": "编号", "B1": "名称", "C1": "街道"}
    for n in range(2, rows + 2):
        cells.update({"A%d" % n: "SJS-%03d" % n, "B%d" % n: "大院", "C%d" % n: "古城"})
    return cells


def read(data):
    with translation.override("en"):
        return read_table(data, filename="台账.xlsx", match_header=lambda t: {"编号": "code", "名称": "name",
                                                                             "街道": "street"}.get(t),
                          required=["code", "name"])


def refused(data, limits=LIMITS):
    with translation.override("en"), pytest.raises(WorkbookRefused) as caught:
        check_workbook(data, limits)
    return str(caught.value)


FAR_CORNER = workbook(sheet_xml(ledger_cells() | {"XFD1048576": 1}, dimension="A1:XFD1048576"))


def test_cells_at_a1_and_the_last_cell_of_the_sheet_are_refused_naming_the_sheet_and_limit():
    assert len(FAR_CORNER) < 2000
    with pytest.raises(TableError, match="Sheet “台账” declares 1,048,576 rows × 16,384 columns; "
                                          "the limit is 101,000 rows"):
        read(FAR_CORNER)


def test_a_far_cell_outside_a_modest_declared_dimension_is_found():
    data = workbook(sheet_xml(ledger_cells() | {"ZZ20000": 1}, dimension="A1:C3"))

    assert "has cells over 20,000 rows × 702 columns; the limit is 200 columns" in refused(data)


def test_far_apart_cells_without_a_dimension_are_refused():
    data = workbook(sheet_xml(ledger_cells() | {"A150000": 1}))

    assert "has cells over 150,000 rows × 3 columns; the limit is 101,000 rows" in refused(data)


def test_a_block_within_the_row_and_column_caps_but_over_the_cell_cap_is_refused():
    data = workbook(sheet_xml(ledger_cells() | {"GR100000": 1}))

    assert "100,000 rows × 200 columns; the limit is 4,040,000 cells" in refused(data)


def test_cells_placed_by_position_are_counted_as_calamine_places_them():
    # No r attributes: calamine puts each cell after the previous one in its row.
    row = "".join("<c><v>1</v></c>" for _ in range(300))
    xml = sheet_xml(ledger_cells(), dimension="A1:C3").replace("</sheetData>", '<row r="4">%s</row></sheetData>' % row)

    assert "300 columns; the limit is 200 columns" in refused(workbook(xml))


def test_a_hidden_sheet_is_checked_too():
    data = workbook(sheet_xml(ledger_cells(), dimension="A1:C3"),
                    sheet_xml({"A1": 1, "XFD1048576": 1}), hidden=(1,))

    assert "Sheet “二”" in refused(data)


def test_a_worksheet_part_the_workbook_does_not_name_is_checked_too():
    data = workbook(sheet_xml(ledger_cells(), dimension="A1:C3"),
                    extra=[("xl/worksheets/sheet9.xml", sheet_xml({"A1": 1, "A900000": 1}))])

    assert "Sheet “xl/worksheets/sheet9.xml”" in refused(data)


def test_a_part_with_a_huge_compression_ratio_is_refused():
    data = workbook(sheet_xml(ledger_cells(), dimension="A1:C3"), extra=[("xl/media/blank.bin", bytes(50_000_000))])

    assert "Part “xl/media/blank.bin” of the file expands" in refused(data)


def test_parts_expanding_past_the_uncompressed_cap_are_refused():
    limits = Limits(rows=101_000, columns=200, cells=4_040_000, uncompressed=5_000_000, ratio=10**6, parts=1_000)
    data = workbook(sheet_xml(ledger_cells(), dimension="A1:C3"), extra=[("xl/big.bin", os.urandom(6_000_000))])

    assert "expands to more than" in refused(data, limits)


def test_a_declared_size_that_lies_is_caught_by_the_bytes_really_inflated():
    limits = Limits(rows=101_000, columns=200, cells=4_040_000, uncompressed=3_000_000, ratio=10**6, parts=1_000)
    data = bytearray(workbook(sheet_xml(ledger_cells(), dimension="A1:C3"), extra=[("xl/big.bin", bytes(4_000_000))]))
    # Rewrite the part's uncompressed size in its central directory entry to 10 bytes.
    entry = data.find(b"PK\x01\x02")
    while data[entry + 46:entry + 56] != b"xl/big.bin":
        entry = data.find(b"PK\x01\x02", entry + 4)
    data[entry + 24:entry + 28] = (10).to_bytes(4, "little")

    # Streamed in counted chunks, the part is refused one way or the other, never inflated whole.
    assert refused(bytes(data), limits) in ("The file is not a readable Excel (.xlsx) or CSV file.",
                                            "The file expands to more than 2.9\xa0MB when unzipped; that is the limit.")


def test_too_many_parts_are_refused():
    limits = Limits(rows=101_000, columns=200, cells=4_040_000, uncompressed=202_000_000, ratio=200, parts=20)
    data = workbook(sheet_xml(ledger_cells(), dimension="A1:C3"),
                    extra=[("xl/n%d.xml" % i, "<a/>") for i in range(30)])

    assert "holds 35 parts; the limit is 20" in refused(data, limits)


@pytest.mark.parametrize(("rows", "columns"), [(9, 3), (57, 26), (20_999, 25), (109, 52), (1_099_999, 2_730)])
def test_the_fast_scan_finds_exactly_the_cells_outside_the_block(rows, columns):
    # The one pass over a sheet with a dimension (workbook_checks._outside) must match every cell
    # outside the block, and no cell inside it: else the exact pass is skipped, or always run.
    pattern = _outside(rows, columns)
    letters = {_letters(c) for c in (1, 2, columns - 1, columns, columns + 1, 27, 53, 703, 18_278) if c > 0}
    numbers = {0, 1, 9, 10, 11, 99, 100, rows - 1, rows, rows + 1, rows * 10, 10 ** len(str(rows))}
    for letter in letters:
        for number in numbers:
            for zeros in ("", "00"):
                ref = "%s%s%d" % (letter, zeros, number)
                inside = 1 <= number <= rows and _position(letter + "1")[1] <= columns
                assert bool(pattern.search(b'<c r="%s" t="n">' % ref.encode())) is not inside, ref
    for odd in ("", "A", "a1", "$A$1", "A1B", " A1"):
        assert pattern.search(b'<c r="%s">' % odd.encode()), odd
    for placed_by_position in (b"<c>", b'<c t="s" r="A1">', b"<c r='A1'>"):
        assert pattern.search(placed_by_position)
    for other in (b"<cols>", b"<col min=", b"<cfRule", b"<customSheetViews>", b"<cellWatches>"):
        assert not pattern.search(other)


def test_a_well_formed_workbook_passes_and_is_read():
    table = read(workbook(sheet_xml(ledger_cells(5), dimension="A1:C6")))

    assert [cells[0] for _n, cells in table.rows] == ["SJS-002", "SJS-003", "SJS-004", "SJS-005", "SJS-006"]


def test_a_crash_in_the_reader_is_a_refusal_not_a_dead_server(settings):
    # A block inside the caps that still needs more memory than the child may have.
    settings.TAIZHANG_IMPORT_READER_CHILD = True
    settings.TAIZHANG_IMPORT_READER_MEMORY = 60 * 10**6
    data = workbook(sheet_xml(ledger_cells() | {"GR20000": 1}))

    with pytest.raises(TableError, match="could not be read within the memory allowed"):
        read(data)


PEAK = """
import json, os, resource, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "taizhang.settings"
import django
django.setup()
from taizhang.core.tabular import TableError, read_table
data = sys.stdin.buffer.read()
try:
    read_table(data, filename="x.xlsx", match_header=lambda t: None, required=["code"])
except TableError as exc:
    message = str(exc)
# VmHWM, not ru_maxrss: after exec, ru_maxrss still holds the forking parent's RSS.
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
print(json.dumps({"message": message, "mb": int(hwm.split()[1]) * 1024 / 1e6,
                  "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1000}))
"""


def bombs():
    """The files whose refusal's peak memory is measured (here and in bench/uploads.py)."""
    return {
        "far-corner": FAR_CORNER,
        "far-cell-no-dimension": workbook(sheet_xml(ledger_cells() | {"GR100000": 1})),
        "zip-bomb-part": workbook(sheet_xml(ledger_cells(), dimension="A1:C3"),
                                  extra=[("xl/media/blank.bin", bytes(150_000_000))]),
    }


@pytest.mark.parametrize("name", list(bombs()))
def test_a_refused_file_peaks_under_200_mb(name):
    data = bombs()[name]
    done = subprocess.run([sys.executable, "-c", PEAK], input=data, capture_output=True, check=True, timeout=120)
    result = json.loads(done.stdout)

    assert result["message"] and result["mb"] < 200 and result["children_mb"] < 200, result


def test_the_workbook_can_be_read_in_a_child_process_too(settings):
    settings.TAIZHANG_IMPORT_READER_CHILD = True

    table = read(workbook(sheet_xml(ledger_cells(2), dimension="A1:C3")))

    assert [cells[0] for _n, cells in table.rows] == ["SJS-002", "SJS-003"]
    with pytest.raises(TableError, match="declares 1,048,576 rows"):
        read(FAR_CORNER)


def test_the_import_page_answers_a_bomb_with_the_refusal(client, targets, personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from taizhang.ledger.models import Target

    before = Target.objects.count()
    client.force_login(personas["alice"])
    response = client.post("/ledger/import/", {"file": SimpleUploadedFile("台账.xlsx", FAR_CORNER)},
                           headers={"HX-Request": "true", "Accept-Language": "en"})

    assert response.status_code == 200 and "1,048,576" in response.content.decode()
    assert Target.objects.count() == before


def test_import_ledger_refuses_a_bomb_and_changes_nothing(targets, campaign, tmp_path):
    from django.core.management import CommandError, call_command

    from taizhang.ledger.models import Target

    before = Target.objects.count()
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(FAR_CORNER)
    with pytest.raises(CommandError):
        call_command("import_ledger", str(path), verbosity=0)
    assert Target.objects.count() == before


def test_the_import_form_refuses_by_declared_size_without_reading(settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from taizhang.ledger.forms import ImportForm

    class Unreadable(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("read before the size check")

    settings.TAIZHANG_IMPORT_MAX_BYTES = 1000
    upload = Unreadable("big.xlsx", b"x")
    upload.size = 5000
    form = ImportForm({}, {"file": upload})

    assert not form.is_valid() and form.errors.as_data()["file"][0].code == "too_large"
