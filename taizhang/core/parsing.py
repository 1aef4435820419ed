"""Parse the numbers, dates and text that officials type into spreadsheets."""

import datetime
import math
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

from django.utils.translation import gettext as _

AREA_UNITS = ("㎡", "平方米", "平米", "m²", "m2", "平")
COUNT_UNITS = ("人", "口", "户", "家", "个", "余人", "多人")
# Only used to recognise "(元)" and the like after a column header.
_OTHER_HEADER_UNITS = ("元", "万元", "亩", "米", "m")

# What people type into a cell to mean "nothing to report", after NFKC
# (which already maps the full-width "－" and "／" onto these).
PLACEHOLDERS = frozenset({"-", "--", "–", "—", "——", "/"})
APPROX_PREFIXES = ("大约", "大概", "约", "近")
APPROX_SUFFIXES = ("左右", "余", "多")

# With an exponent too: Excel and WPS write a wide number so in a CSV ("1.2E+10").
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
# Commas are only taken as thousands separators when they group by three;
# "12,00" is more likely a typo than twelve hundred.
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?", re.ASCII),
    re.compile(
        r"(?P<y>\d{4})(?P<sep>[./-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
        # CSV exports and str(datetime) add a time of day; it is dropped.
        r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?",
        re.ASCII,
    ),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})", re.ASCII),
)
# Excel's 1900 date system: day 60 is the phantom 1900-02-29, so serials above
# it count from 1899-12-30; 2958465 is 9999-12-31.
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_EXCEL_SERIALS = range(61, 2958466)


class ValueProblem(ValueError):
    """A cell value that cannot be read; str(exc) is a message for the user."""


def parse_decimal(value, *, units=AREA_UNITS) -> Decimal | None:
    """A cell as a Decimal, None when blank; raise ValueProblem when not a number."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _not_a_number(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _not_a_number(value)
        # str() keeps the float's shortest form: 300.5, not 300.49999...
        return Decimal(str(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _not_a_number(value)
        return value
    if isinstance(value, str):
        text = _number_text(value, units)
        return None if text is None else Decimal(text)
    raise _not_a_number(value)


def parse_int(value, *, units=COUNT_UNITS) -> int | None:
    """A cell as an int (57.0 is 57), None when blank; raise ValueProblem otherwise."""
    # Most cells: calamine gives whole numbers as floats.
    if value.__class__ is float and value.is_integer():
        return int(value)
    if value.__class__ is int:
        return value
    number = parse_decimal(value, units=units)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueProblem(_("“%(value)s” is not a whole number.") % {"value": _shown(value)})
    return int(number)


def parse_date(value) -> datetime.date | None:
    """A cell as a date, None when blank; raise ValueProblem when not a real date."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _serial_date(value)
    if isinstance(value, str):
        return _text_date(value)
    raise _not_a_date(value)


def clean_text(value) -> str:
    """A cell as one line of text: whole floats lose ".0", whitespace runs become one space."""
    if value is None:
        return ""
    # A code typed into a number cell comes back from calamine as 57.0.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def normalize_header(text: str) -> str:
    """A column header reduced for matching: NFKC, no whitespace, lower case, no "(㎡)"."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(text.split()).lower()
    return _header_unit_re().sub("", text)


def _number_text(value: str, units) -> str | None:
    """The plain ASCII number inside a typed string, or None when it is blank."""
    # NFKC turns full-width digits and punctuation into ASCII, and also "㎡"
    # into "m2": units are normalised the same way before being stripped.
    text = unicodedata.normalize("NFKC", value).strip()
    if not text or text in PLACEHOLDERS:
        return None
    text = text.replace("\u2212", "-")  # the minus sign Word and WPS insert
    text = _strip_approximation(text, _normalized_units(tuple(units)))
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    if not _NUMBER.fullmatch(text):
        raise _not_a_number(value)
    return text


def _strip_approximation(text: str, units: tuple[str, ...]) -> str:
    """Drop "约", "左右", "余" and one trailing unit: "约300人" -> "300"."""
    for prefix in APPROX_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :].lstrip()
            break
    # "300人左右" ends with the approximation, "300余平方米" with the unit.
    text = _strip_suffix(text, APPROX_SUFFIXES)
    text = _strip_suffix(text, units)
    return _strip_suffix(text, APPROX_SUFFIXES)


def _strip_suffix(text: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if text.endswith(suffix):
            return text[: -len(suffix)].rstrip()
    return text


@lru_cache
def _normalized_units(units: tuple[str, ...]) -> tuple[str, ...]:
    """Units after NFKC, longest first so "余人" wins over "人"."""
    normalized = {unicodedata.normalize("NFKC", unit) for unit in units}
    return tuple(sorted(normalized, key=len, reverse=True))


@lru_cache
def _header_unit_re() -> re.Pattern:
    """A trailing bracketed unit in a normalised header: "(m2)", "(单位:人)", "【户】"."""
    units = _normalized_units(AREA_UNITS + COUNT_UNITS + _OTHER_HEADER_UNITS)
    alternatives = "|".join(re.escape(unit.lower()) for unit in units)
    return re.compile(rf"[(\[【](?:单位:?)?(?:{alternatives})[)\]】]$")


def _serial_date(serial) -> datetime.date:
    if not math.isfinite(serial) or math.floor(serial) not in _EXCEL_SERIALS:
        raise _not_a_date(serial)
    # A fraction is the time of day.
    return _EXCEL_EPOCH + datetime.timedelta(days=math.floor(serial))


def _text_date(value: str) -> datetime.date | None:
    text = unicodedata.normalize("NFKC", value).strip()
    if not text or text in PLACEHOLDERS:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return datetime.date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                break
    raise _not_a_date(value)


def _shown(value) -> str:
    return value.strip() if isinstance(value, str) else clean_text(value)


def _not_a_number(value) -> ValueProblem:
    return ValueProblem(_("“%(value)s” is not a number.") % {"value": _shown(value)})


def _not_a_date(value) -> ValueProblem:
    return ValueProblem(_("“%(value)s” is not a valid date.") % {"value": _shown(value)})
