"""One validation path for a target's fields: the edit form (and the service behind it) and
a one-row import give the same verdict on the same value, and keep the same value.

Hypothesis feeds both random values per column: numbers as officials type them (units,
"约", commas, full-width digits, too many places, out of range, negative), dates in
several forms (and impossible ones), labels (known, aliased, unknown), and text with control
characters and around each column's length. Cells go into a real .xlsx, as text and, for
numbers and dates, as Excel numbers and dates (the import's fast paths).

Blank cells and the clearing marker are left out: they mean "not given" in a sheet and
"empty it" in a form, by design (README, import). Flags and the pilot mark are checkboxes
in the form, so no typed value reaches them there.
"""

import datetime
import unicodedata
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from taizhang.core.parsing import PLACEHOLDERS, clean_text
from taizhang.ledger.checking import Labels, is_clear_marker
from taizhang.ledger.columns import BY_FIELD
from taizhang.ledger.forms import EDITABLE_COLUMNS, TargetForm, target_initial
from taizhang.ledger.importing import import_prepare
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update

TYPED = [c.field for c in EDITABLE_COLUMNS if c.kind not in ("flags", "bool") and c.field != "code"]

_digits = st.integers(min_value=-10**13, max_value=10**13).map(str)
_places = st.decimals(min_value=-10**11, max_value=10**11, places=4,
                      allow_nan=False, allow_infinity=False).map(str)
_number_text = st.one_of(
    _digits, _places,
    st.sampled_from(["约300", "300人左右", "1,200㎡", "1,2,3", "12,00", "３００", "3e5", "−5", "+7",
                     "120.5平方米", "0.005", "180.0000004", "-90.0000005", "9999999999.99", "1e10",
                     "nan", "inf", "1/2", "12..5", ".5", "5.", "２０００００００００"]),
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(-500, 10**6), st.sampled_from(["㎡", "人", "户", "元", "亩"])),
)
# Numbers at the columns' bounds, as Excel numbers.
_edges = st.sampled_from([180.0, 180.000001, 180.0000004, -180.0000006, 90.0000001, -90.0, -0.0, 0.004, 0.005,
                          9999999999.0, 9999999999.004, 9999999999.006, 2e9, 2000000000.5, 2000000001.0, -1.0,
                          -0.001, 1e-7, 57.0, 57.5])
_date_text = st.one_of(
    st.dates(min_value=datetime.date(1900, 3, 1)).map(lambda d: d.isoformat()),
    st.dates().map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
    st.dates().map(lambda d: f"{d.year}/{d.month}/{d.day}"),
    st.sampled_from(["2016-02-30", "2016-13-01", "2016年2月30日", "20160230", "42370", "昨天", "2016-06"]),
)
_text = st.one_of(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
    st.text(st.sampled_from("杨庄大院 a\x00\x07\x7f\x85\u200b\t"), min_size=1, max_size=12),
    st.integers(20, 320).map(lambda n: "院" * n),
)


def _label_text(field: str, campaign):
    labels = Labels(campaign)
    known = sorted(name for name in labels.by_kind[field] if name)
    return st.one_of(st.sampled_from(known), st.sampled_from(["", "无", "古城街道", "集体企业", "某某公司"]),
                     st.text(st.characters(codec="utf-8"), min_size=1, max_size=8))


def _raw_for(field: str, campaign):
    kind = BY_FIELD[field].kind
    if kind in ("decimal", "coordinate", "int"):
        return st.one_of(_number_text, _text, _edges,
                         st.floats(allow_nan=False, allow_infinity=False, width=64),
                         st.integers(-10**10, 10**10))
    if kind == "date":
        return st.one_of(_date_text, _text, st.dates(min_value=datetime.date(1900, 3, 1)))
    if kind == "label":
        return _label_text(field, campaign)
    return _text


def _typed(raw) -> str:
    """What a person types into the form for a cell."""
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    return raw if isinstance(raw, str) else repr(raw)


REQUIRED = [c.field for c in EDITABLE_COLUMNS if c.required]


def _xlsx(target: Target, field: str, raw) -> bytes:
    """A one-row sheet: the target's required columns as they are, and `field` set to `raw`."""
    import io

    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet()
    header = [*REQUIRED, *([field] if field not in REQUIRED else [])]
    initial = target_initial(target)
    sheet.write_row(0, 0, header)
    for column, name in enumerate(header):
        value = raw if name == field else initial[name]
        if isinstance(value, datetime.date):
            sheet.write_datetime(1, column, datetime.datetime.combine(value, datetime.time()),
                                 workbook.add_format({"num_format": "yyyy-mm-dd"}))
        elif isinstance(value, str):
            sheet.write_string(1, column, value)
        else:
            sheet.write_number(1, column, value)
    workbook.close()
    return out.getvalue()


def _import_verdict(campaign, user, target, field, raw):
    """(accepted?, the value the import would store; None when it keeps the stored one)."""
    report = import_prepare(campaign=campaign, user=user, data=_xlsx(target, field, raw), filename="x.xlsx")
    if report.problems:
        assert all(p.row == 2 for p in report.problems), report.problems
        return False, None
    if not report._writes:
        return True, None
    return True, report._writes[0].changes[field]


class _RolledBack(Exception):
    pass


def _form_verdict(target, user, labels, field, raw):
    """(accepted?, the value the form's save stores), the save rolled back."""
    data = target_initial(target) | {field: _typed(raw)}
    data = {name: value for name, value in data.items() if value is not None and value is not False}
    data.pop("flags", None)
    if target.is_pilot:
        data["is_pilot"] = "on"
    data["flags"] = list(target.flags)
    form = TargetForm(data, target=target, labels=labels)
    if not form.is_valid():
        assert set(form.errors) == {field}, form.errors
        return False, None
    from django.core.exceptions import ValidationError
    try:
        with transaction.atomic():
            target_update(target=target, actor=user, changes=form.changes(), expected_version=target.version)
            stored = getattr(Target.objects.get(pk=target.pk), field)
            raise _RolledBack
    except ValidationError:
        return False, None
    except _RolledBack:
        pass
    target.refresh_from_db()
    return True, stored


def _not_blank(raw) -> bool:
    if not isinstance(raw, str):
        return True
    text = clean_text(raw)
    return bool(text) and unicodedata.normalize("NFKC", text) not in PLACEHOLDERS and not is_clear_marker(raw)


def _same_value(form_value, import_value) -> bool:
    if hasattr(form_value, "name") and isinstance(import_value, str):  # a unit the import would create
        return form_value.name == import_value
    return form_value == import_value


@pytest.mark.parametrize("field", TYPED)
def test_form_and_import_agree(field, targets, personas, campaign):
    target = Target.objects.select_related("target_type", "street", "system", "responsible_unit").get(
        code="GC-0001")
    office = personas["carol"]
    labels = Labels(campaign)

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(raw=_raw_for(field, campaign))
    def agree(raw):
        assume(_not_blank(raw))
        imported, import_value = _import_verdict(campaign, office, target, field, raw)
        formed, form_value = _form_verdict(target, office, labels, field, raw)
        assert imported == formed, (raw, imported, formed)
        if imported and import_value is not None:
            assert _same_value(form_value, import_value), (raw, form_value, import_value)

    agree()


@pytest.mark.parametrize(("field", "raw"), [
    ("name", "杨庄\x00东大院"),  # PostgreSQL refuses a NUL: the service used to pass it to the database
    ("community", "院" * 101),
    ("longitude", Decimal("500")),  # within the column's digits, outside the earth
    ("land_area", Decimal("-1")),
    ("resident_population", 3_000_000_000),
])
def test_a_service_refuses_what_the_import_refuses(field, raw, targets, personas, campaign):
    """Every write of a target goes through the import's checks, not only the import."""
    from django.core.exceptions import ValidationError

    target = targets["GC-0001"]
    imported, _value = _import_verdict(campaign, personas["carol"], target, field,
                                       raw if isinstance(raw, str) else float(raw))
    assert not imported
    with pytest.raises(ValidationError) as refused:
        target_update(target=target, actor=None, changes={field: raw})
    assert field in refused.value.message_dict
    assert Target.objects.get(pk=target.pk).version == target.version
