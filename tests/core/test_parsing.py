"""Parsing the numbers, dates and text officials type into spreadsheets."""

import datetime
import os
from decimal import Decimal

import pytest
from django.conf import settings

from taizhang.core.parsing import (
    AREA_UNITS,
    COUNT_UNITS,
    ValueProblem,
    clean_text,
    normalize_header,
    parse_date,
    parse_decimal,
    parse_int,
)

# Lets the module run without the project's settings (pytest -p no:django);
# under pytest-django the settings are already configured and this does nothing.
if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
    settings.configure(USE_I18N=False)


pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1200", Decimal("1200")),
        ("  300.5 ", Decimal("300.5")),
        ("1,200", Decimal("1200")),
        ("1，200", Decimal("1200")),
        ("1,200,000.25", Decimal("1200000.25")),
    ],
)
def test_plain_and_grouped_numbers(typed, expected):
    assert parse_decimal(typed) == expected


def test_area_with_thousands_separator_and_unit():
    # NFKC turns "㎡" into "m2": stripping it badly would give 12002.
    assert parse_decimal("1,200㎡") == Decimal("1200")


def test_units_are_matched_after_full_width_normalisation():
    assert parse_decimal("1,200㎡", units=("㎡",)) == Decimal("1200")
    assert parse_decimal("１２００ｍ２", units=("m²",)) == Decimal("1200")


@pytest.mark.parametrize(
    "typed", ["1200平方米", "1200 平米", "1200m²", "1200m2", "1200平", "1200 ㎡", "１２００ｍ２"]
)
def test_area_units_are_stripped(typed):
    assert parse_decimal(typed) == Decimal("1200")


def test_full_width_digits_and_punctuation():
    assert parse_decimal("１２００") == Decimal("1200")
    assert parse_decimal("１，２００．５") == Decimal("1200.5")


@pytest.mark.parametrize("typed", [None, "", "   ", "\u3000", "-", "—", "/", "－", "／"])
def test_blank_and_placeholders_are_none(typed):
    assert parse_decimal(typed) is None
    assert parse_int(typed) is None


@pytest.mark.parametrize(
    "typed", ["约300人", "300人左右", "大约300", "300余人", "300多人", "300人", "300户"]
)
def test_approximate_counts(typed):
    assert parse_int(typed) == 300


def test_approximate_area():
    assert parse_decimal("约1200平方米") == Decimal("1200")
    assert parse_decimal("1200㎡左右") == Decimal("1200")


def test_numbers_from_calamine():
    assert parse_int(57.0) == 57
    assert parse_int(57) == 57
    assert parse_decimal(300.5) == Decimal("300.5")
    assert parse_decimal(Decimal("12.30")) == Decimal("12.30")


def test_fractional_count_is_refused():
    with pytest.raises(ValueProblem, match="57.5"):
        parse_int(57.5)
    with pytest.raises(ValueProblem, match="57.5"):
        parse_int("57.5人")


def test_negative_numbers_are_parsed_for_the_caller_to_judge():
    assert parse_decimal("-5") == Decimal("-5")
    assert parse_int("－5") == -5
    assert parse_decimal("\u22125.5") == Decimal("-5.5")


@pytest.mark.parametrize(
    "typed", ["暂无", "十二", "12abc", "1.2.3", "12,00", "人", "约", "1 200", "12-3"]
)
def test_text_that_is_not_a_number_names_the_value(typed):
    with pytest.raises(ValueProblem) as raised:
        parse_decimal(typed, units=COUNT_UNITS)
    assert str(raised.value) == f"“{typed}” is not a number."


@pytest.mark.parametrize(("typed", "expected"), [
    ("1.2E+10", Decimal("1.2E+10")), ("3e5", Decimal("3E+5")), ("2.5e-3", Decimal("0.0025")),
])
def test_scientific_notation_as_excel_writes_wide_numbers_to_csv(typed, expected):
    """An Excel number cell gives the import a float whatever its size; the same number in a CSV
    (or typed into the correction form) comes as "1.2E+10" and must read the same."""
    assert parse_decimal(typed) == expected
    assert parse_int("3e5") == 300000


@pytest.mark.parametrize("typed", ["1e", "e5", "1e+", "1e99999"])
def test_a_broken_exponent_is_not_a_number(typed):
    with pytest.raises(ValueProblem):
        parse_decimal(typed)


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), datetime.date(2016, 6, 30)])
def test_non_numeric_cell_types_are_refused(value):
    with pytest.raises(ValueProblem):
        parse_decimal(value)


def test_units_only_stripped_for_their_kind():
    with pytest.raises(ValueProblem):
        parse_int("300㎡")
    with pytest.raises(ValueProblem):
        parse_decimal("300人", units=AREA_UNITS)


@pytest.mark.parametrize(
    "typed",
    [
        "2016年6月30日",
        "2016年06月30号",
        "2016 年 6 月 30 日",
        "2016.6.30",
        "2016/6/30",
        "2016-06-30",
        "20160630",
        "２０１６年６月３０日",
        "２０１６．６．３０",
        "2016-06-30 00:00:00",
    ],
)
def test_typed_dates(typed):
    assert parse_date(typed) == datetime.date(2016, 6, 30)


def test_date_cells_from_calamine():
    assert parse_date(datetime.date(2016, 6, 30)) == datetime.date(2016, 6, 30)
    assert parse_date(datetime.datetime(2016, 6, 30, 10, 30)) == datetime.date(2016, 6, 30)


def test_excel_serial_numbers():
    assert parse_date(42551) == datetime.date(2016, 6, 30)
    assert parse_date(42551.0) == datetime.date(2016, 6, 30)
    assert parse_date(42551.75) == datetime.date(2016, 6, 30)
    assert parse_date(61) == datetime.date(1900, 3, 1)


@pytest.mark.parametrize("serial", [60, 0, -1, 2958466, float("nan")])
def test_serial_numbers_outside_excel_dates_are_refused(serial):
    with pytest.raises(ValueProblem):
        parse_date(serial)


@pytest.mark.parametrize("typed", [None, "", "  ", "-", "／"])
def test_blank_dates_are_none(typed):
    assert parse_date(typed) is None


@pytest.mark.parametrize(
    "typed", ["2016年13月1日", "明年", "2016-02-30", "2016-6/30", "201663", "42551", "2016年6月"]
)
def test_invalid_dates_name_the_value(typed):
    with pytest.raises(ValueProblem) as raised:
        parse_date(typed)
    assert typed in str(raised.value)


def test_time_cell_is_not_a_date():
    with pytest.raises(ValueProblem):
        parse_date(datetime.time(12, 0))


def test_clean_text():
    assert clean_text(None) == ""
    assert clean_text(57.0) == "57"
    assert clean_text(57.5) == "57.5"
    assert clean_text(12) == "12"
    assert clean_text("  石景山\u3000\u3000大院 \n 东区 ") == "石景山 大院 东区"


def test_clean_text_keeps_full_width_names():
    assert clean_text("ＡＢＣ大院（东区）") == "ＡＢＣ大院（东区）"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("占地面积（㎡）", "占地面积"),
        ("占地面积(平方米)", "占地面积"),
        ("占地 面积\n（单位：㎡）", "占地面积"),
        ("居住人口(人)", "居住人口"),
        ("商户数（个）", "商户数"),
        ("商户数【家】", "商户数"),
        ("Land area (m²)", "landarea"),
        ("ＣＯＤＥ", "code"),
        ("社区(村)", "社区(村)"),
    ],
)
def test_normalize_header(header, expected):
    assert normalize_header(header) == expected
