"""Reading uploaded Excel and CSV tables and finding their header."""

import datetime
import io
import os
import zipfile

import pytest
import xlsxwriter
from django.conf import settings

from taizhang.core.parsing import normalize_header
from taizhang.core.tabular import TableError, read_table

# Lets the module run without the project's settings (pytest -p no:django);
# under pytest-django the settings are already configured and this does nothing.
if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
    settings.configure(USE_I18N=False)

# A few headers only: the real alias table lives in taizhang.ledger.columns.
_ALIASES = {
    normalize_header(header): field
    for header, field in {
        "编号": "code",
        "名称": "name",
        "街道": "street",
        "占地面积": "land_area",
        "出租面积": "rented_floor_area",
        "居住人口": "resident_population",
        "商户数": "business_count",
        "登记日期": "registered_on",
    }.items()
}
REQUIRED = ("code", "name")
LABELS = {"code": "编号", "name": "名称"}
HEADER = ["编号", "名称", "街道", "占地面积（㎡）"]
UNREADABLE = "The file is not a readable Excel (.xlsx) or CSV file."


def match_header(text):
    return _ALIASES.get(normalize_header(text))


pytestmark = pytest.mark.usefixtures("english")


def read(data, filename="台账.xlsx", **kwargs):
    options = {"match_header": match_header, "required": REQUIRED, "labels": LABELS}
    return read_table(data, filename=filename, **(options | kwargs))


def xlsx(build):
    """The bytes of a workbook that `build(workbook)` fills in."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    build(workbook)
    workbook.close()
    return buffer.getvalue()


def sheet_of(rows, name="台账", first_row=0, first_col=0):
    """A one-sheet workbook with `rows` written from (first_row, first_col)."""

    def build(workbook):
        worksheet = workbook.add_worksheet(name)
        for offset, row in enumerate(rows):
            worksheet.write_row(first_row + offset, first_col, row)

    return xlsx(build)


def two_row_header(workbook):
    worksheet = workbook.add_worksheet("台账")
    worksheet.merge_range(0, 0, 0, 6, "石景山区整治对象台账")
    worksheet.write_row(1, 0, ["编号", "名称"])
    worksheet.merge_range(1, 2, 1, 3, "面积")
    worksheet.merge_range(1, 4, 1, 6, "人员情况")
    worksheet.write_row(2, 2, ["占地面积", "出租面积", "居住人口", "商户数", "其他"])
    worksheet.write_row(3, 0, ["SJS-001", "模式口大院", 1200, 300.5, 57, 3, "无"])


def test_plain_header_in_first_row():
    table = read(sheet_of([HEADER, ["SJS-001", "模式口大院", "金顶街", 1200]]))

    assert table.sheet_name == "台账"
    assert table.header_row == 1
    assert table.columns == {0: "code", 1: "name", 2: "street", 3: "land_area"}
    assert table.unknown_columns == []
    assert table.rows == [(2, ["SJS-001", "模式口大院", "金顶街", 1200.0])]


def test_merged_title_row_above_header():
    def build(workbook):
        worksheet = workbook.add_worksheet("台账")
        worksheet.merge_range(0, 0, 0, 3, "石景山区整治对象台账")
        worksheet.write_row(1, 0, HEADER)
        worksheet.write_row(2, 0, ["SJS-001", "模式口大院", "金顶街", 1200])

    table = read(xlsx(build))

    assert table.header_row == 2
    assert table.columns == {0: "code", 1: "name", 2: "street", 3: "land_area"}
    assert [number for number, _cells in table.rows] == [3]


def test_two_row_merged_header():
    table = read(xlsx(two_row_header))

    assert table.header_row == 3
    assert table.columns == {
        0: "code",
        1: "name",
        2: "land_area",
        3: "rented_floor_area",
        4: "resident_population",
        5: "business_count",
    }
    assert table.unknown_columns == ["其他"]
    assert table.rows == [(4, ["SJS-001", "模式口大院", 1200.0, 300.5, 57.0, 3.0, "无"])]


def test_two_row_header_label_made_of_upper_and_lower_cells():
    def build(workbook):
        worksheet = workbook.add_worksheet("台账")
        worksheet.write_row(0, 0, ["编号", "名称", "街道"])
        worksheet.merge_range(0, 3, 0, 4, "商户")
        worksheet.write_row(1, 3, ["数", "类型"])
        worksheet.write_row(2, 0, ["SJS-001", "模式口大院", "金顶街", 3, "餐饮"])

    table = read(xlsx(build))

    assert table.header_row == 2
    assert table.columns == {0: "code", 1: "name", 2: "street", 3: "business_count"}
    assert table.unknown_columns == ["类型"]


def test_unknown_columns_reported_in_order():
    table = read(sheet_of([["编号", "联系电话", "名称", "街道", "", "备注"], ["SJS-001"]]))

    assert table.columns == {0: "code", 2: "name", 3: "street"}
    assert table.unknown_columns == ["联系电话", "备注"]


def test_duplicate_header_keeps_the_first_column():
    table = read(sheet_of([["编号", "名称", "街道", "名称"], ["SJS-001", "甲", "金顶街", "乙"]]))

    assert table.columns == {0: "code", 1: "name", 2: "street"}
    assert table.unknown_columns == ["名称"]


def test_missing_required_column_named_by_label():
    data = sheet_of([["名称", "街道", "占地面积", "商户数"], ["模式口大院", "金顶街", 1, 2]])

    with pytest.raises(TableError) as raised:
        read(data)

    assert str(raised.value) == "Required column missing: 编号."


def test_total_rows_skipped():
    rows = [
        HEADER,
        ["SJS-001", "模式口大院", "金顶街", 1200],
        ["合计", None, None, 1200],
        [None, "合 计", None, 1200],
        [None, None, "小计：", 1200],
        ["总计", "", "", 1200],
        ["合计（万元）", None, None, 1],
        ["SJS-002", "某合计厂", "古城", 5],
    ]

    table = read(sheet_of(rows))

    assert [number for number, _cells in table.rows] == [2, 8]


def test_blank_formatted_rows_skipped():
    def build(workbook):
        worksheet = workbook.add_worksheet("台账")
        bordered = workbook.add_format({"border": 1, "bg_color": "#FFFF00"})
        worksheet.write_row(0, 0, HEADER)
        worksheet.write_row(1, 0, ["SJS-001", "模式口大院", "金顶街", 1200])
        worksheet.write_row(2, 0, [None, None, None, None], bordered)
        worksheet.write_row(3, 0, ["  ", "\u3000", " ", None], bordered)
        worksheet.write_row(4, 0, ["SJS-002", "古城大院", "古城", 800])
        worksheet.set_row(5000, 20, bordered)

    table = read(xlsx(build))

    assert [number for number, _cells in table.rows] == [2, 5]


def test_reading_stops_after_a_long_run_of_blank_rows():
    def build(workbook):
        worksheet = workbook.add_worksheet("台账")
        worksheet.write_row(0, 0, HEADER)
        worksheet.write_row(1, 0, ["SJS-001", "模式口大院", "金顶街", 1200])
        worksheet.write_row(20, 0, ["SJS-002", "古城大院", "古城", 800])
        worksheet.write_row(80, 0, ["stray", "note", "below", "the table"])

    table = read(xlsx(build))

    assert [number for number, _cells in table.rows] == [2, 21]


def test_table_not_in_column_a_keeps_sheet_column_positions():
    data = sheet_of([HEADER, ["SJS-001", "模式口大院", "金顶街", 1200]], first_row=2, first_col=1)

    table = read(data)

    assert table.header_row == 3
    assert table.columns == {1: "code", 2: "name", 3: "street", 4: "land_area"}
    assert table.rows == [(4, [None, "SJS-001", "模式口大院", "金顶街", 1200.0])]


def test_cells_keep_calamine_types_and_blanks_become_none():
    day = datetime.date(2016, 6, 30)

    def build(workbook):
        worksheet = workbook.add_worksheet("台账")
        worksheet.write_row(0, 0, [*HEADER, "登记日期"])
        worksheet.write_row(1, 0, ["SJS-001", "模式口大院", " ", 1200.5])
        worksheet.write_datetime(1, 4, day, workbook.add_format({"num_format": "yyyy-mm-dd"}))

    table = read(xlsx(build))

    assert table.rows == [(2, ["SJS-001", "模式口大院", None, 1200.5, day])]


def test_cover_page_first_then_table_on_second_sheet():
    def build(workbook):
        cover = workbook.add_worksheet("封面")
        cover.write(0, 0, "石景山区整治对象台账")
        cover.write(2, 0, "填报单位：金顶街街道")
        workbook.add_worksheet("台账").write_row(2, 0, HEADER)

    table = read(xlsx(build))

    assert table.sheet_name == "台账"
    assert table.header_row == 3
    assert table.rows == []


def test_hidden_sheet_is_not_scanned():
    def build(workbook):
        hidden = workbook.add_worksheet("旧表")
        hidden.write_row(0, 0, HEADER)
        hidden.hide()
        workbook.add_worksheet("台账").write_row(0, 0, HEADER)
        workbook.worksheets()[1].activate()

    assert read(xlsx(build)).sheet_name == "台账"


def test_named_sheet_is_read():
    def build(workbook):
        workbook.add_worksheet("一月").write_row(0, 0, HEADER)
        second = workbook.add_worksheet("二月")
        second.write_row(0, 0, HEADER)
        second.write_row(1, 0, ["SJS-009", "二月大院", "古城", 1])

    table = read(xlsx(build), sheet="二月")

    assert table.sheet_name == "二月"
    assert table.rows == [(2, ["SJS-009", "二月大院", "古城", 1.0])]


def test_missing_named_sheet_lists_the_sheets():
    def build(workbook):
        workbook.add_worksheet("封面")
        workbook.add_worksheet("台账").write_row(0, 0, HEADER)

    with pytest.raises(TableError) as raised:
        read(xlsx(build), sheet="汇总")

    assert str(raised.value) == "The file has no sheet “汇总”; its sheets are 封面、台账."


def test_no_header_found_names_sheets_and_expected_columns():
    def build(workbook):
        workbook.add_worksheet("封面").write(0, 0, "石景山区整治对象台账")
        workbook.add_worksheet("说明").write_row(0, 0, ["编号", "名称", "备注"])

    with pytest.raises(TableError) as raised:
        read(xlsx(build))

    assert str(raised.value) == (
        "No header row found: expected columns such as 编号、名称 "
        "in the first 20 rows of sheets 封面、说明."
    )


def test_header_below_row_20_is_not_found():
    with pytest.raises(TableError, match="No header row found"):
        read(sheet_of([HEADER], first_row=20))


def test_header_on_row_20_is_found():
    assert read(sheet_of([HEADER], first_row=19)).header_row == 20


def test_png_renamed_xlsx_is_unreadable():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)

    with pytest.raises(TableError) as raised:
        read(png, filename="台账.xlsx")

    assert str(raised.value) == UNREADABLE


def test_text_renamed_xlsx_is_unreadable():
    with pytest.raises(TableError, match="not a readable"):
        read("编号,名称,街道\n".encode(), filename="台账.xlsx")


def test_truncated_xlsx_is_unreadable():
    data = sheet_of([HEADER, ["SJS-001", "模式口大院", "金顶街", 1200]])

    with pytest.raises(TableError) as raised:
        read(data[: len(data) // 2])

    assert str(raised.value) == UNREADABLE


def test_zip_that_is_not_a_workbook_is_unreadable():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")

    with pytest.raises(TableError, match="not a readable"):
        read(buffer.getvalue())


def test_old_excel_files_are_refused_with_how_to_save_them_as_xlsx():
    # calamine's .xls reader cannot be bounded before it builds its block (see workbook_checks).
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)

    with pytest.raises(TableError, match=r"\(\.xls\) are not accepted.*save it as an Excel workbook \(\.xlsx\)"):
        read(ole, filename="台账.xls")


def test_real_xlsx_is_read_whatever_its_name():
    table = read(sheet_of([HEADER]), filename="upload.csv")

    assert table.columns == {0: "code", 1: "name", 2: "street", 3: "land_area"}


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"", "台账.xlsx"),
        (b"", "台账.csv"),
        (b" ,, \r\n,,\r\n", "台账.csv"),
        (sheet_of([[" ", None, "\u3000"]]), "台账.xlsx"),
        (xlsx(lambda workbook: workbook.add_worksheet()), "台账.xlsx"),
    ],
)
def test_empty_file(data, filename):
    with pytest.raises(TableError) as raised:
        read(data, filename=filename)

    assert str(raised.value) == "The file is empty."


def test_gbk_csv():
    text = (
        "石景山区整治对象台账,,,\r\n"
        "编号,名称,街道,占地面积(平方米)\r\n"
        'SJS-001,模式口大院,金顶街,"1,200"\r\n'
    )

    table = read(text.encode("gbk"), filename="台账.CSV")

    assert table.sheet_name == "台账.CSV"
    assert table.header_row == 2
    assert table.rows == [(3, ["SJS-001", "模式口大院", "金顶街", "1,200"])]


def test_utf8_csv_with_bom_and_ragged_rows():
    text = "编号,名称,街道,占地面积\nSJS-001,模式口大院\n\n合计,,,1200\n"

    table = read(text.encode("utf-8-sig"), filename="台账.csv")

    assert table.columns == {0: "code", 1: "name", 2: "street", 3: "land_area"}
    assert table.rows == [(2, ["SJS-001", "模式口大院", None, None])]


def test_binary_file_named_csv_is_unreadable():
    with pytest.raises(TableError, match="not a readable"):
        read(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", filename="台账.csv")


def test_max_rows_exceeded():
    rows = [HEADER] + [[f"SJS-{n:03}", "大院", "古城", n] for n in range(4)]

    assert len(read(sheet_of(rows), max_rows=4).rows) == 4
    with pytest.raises(TableError) as raised:
        read(sheet_of(rows), max_rows=3)

    assert str(raised.value) == "The file has more than 3 rows."
