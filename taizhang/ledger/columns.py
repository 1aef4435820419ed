"""The ledger's columns: one table serves export headers, import matching and snapshots."""

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from taizhang.core.parsing import normalize_header
from taizhang.core.snapshots import LABEL, SQUARE_METRES, Field, amount, choice_list, declare

from .models import Target


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    # Other headers officials write for the same column, normalised on use.
    variants: tuple[str, ...] = ()
    kind: str = "text"  # text, label, decimal, int, date, bool, coordinate, crs, flags, readonly
    required: bool = False
    width: int = 12


COLUMNS = (
    Column("code", _("Code"), ("编号", "对象编号", "点位编号", "台账编号", "代码"), required=True, width=10),
    Column("name", _("Name"), ("名称", "对象名称", "点位名称", "大院名称", "整治对象"), required=True, width=28),
    Column("target_type", _("Type"), ("类型", "对象类型", "整治类型", "类别"), "label", True, 14),
    Column("street", _("Street"), ("街道", "所属街道", "街乡", "属地街道", "街道办事处", "所属分指"),
           "label", True, 10),
    Column("community", _("Community"), ("社区", "所属社区", "村/社区", "社区(村)"), width=12),
    Column("system", _("Ownership system"), ("所属系统", "系统", "权属系统", "归属系统"), "label", True, 14),
    Column("land_rights_unit", _("Land-rights unit"), ("地权单位", "土地权属单位", "土地权属"), width=22),
    Column("property_rights_unit", _("Property-rights unit"), ("产权单位", "房屋产权单位"), width=22),
    Column("responsible_unit", _("Responsible unit"), ("责任单位", "主责单位", "责任主体"), "label", width=22),
    Column("address", _("Address"), ("地址", "详细地址", "具体位置", "位置"), width=30),
    Column("longitude", _("Longitude"), ("经度",), "coordinate", width=11),
    Column("latitude", _("Latitude"), ("纬度",), "coordinate", width=11),
    # WGS-84, GCJ-02 or BD-09 (core.coordinates.WORDS reads 百度, 高德, GPS …): what the two above are given in.
    Column("coordinate_system", _("Coordinate system"), ("坐标系", "坐标系统", "坐标类型", "坐标体系"), "crs",
           width=10),
    Column("land_area", _("Land area (m²)"), ("占地面积", "土地面积", "用地面积"), "decimal", width=12),
    Column("rented_floor_area", _("Rented floor area (m²)"),
           ("出租房屋面积", "出租面积", "出租建筑面积", "出租房屋建筑面积"), "decimal", width=14),
    Column("resident_population", _("Resident population"),
           ("居住人口", "人口数", "居住人数", "居住人口数量", "居住人口数", "人口"), "int", width=10),
    Column("business_count", _("Businesses"), ("商户数", "商户数量", "经营户数", "业户数"), "int", width=8),
    Column("hazards", _("Hazards"), ("安全隐患", "隐患", "存在问题", "隐患情况"), width=24),
    Column("flags", _("Situation flags"), ("重点情形", "存在问题类型", "情形"), "flags", width=20),
    Column("priority_tags", _("Priority tags"), ("重点", "重点标签", "重点类别"), width=14),
    Column("is_pilot", _("Pilot"), ("试点", "是否试点"), "bool", width=6),
    Column("registered_on", _("Registered on"), ("登记日期", "建账日期", "摸排日期"), "date", width=12),
    Column("state", _("State"), ("状态", "整治状态"), "readonly", width=10),
    Column("version", _("Version"), ("版本", "版本号"), "int", width=6),
)
# Not a stored column: the reasons the preset's priority rules give (ledger.priorities), which the
# ledger page shows and the export writes beside the office's own 重点标签. An import reads the
# header and ignores the cells, as it does 状态: they follow from the rules, never from a sheet.
PRIORITY_REASONS = Column("priority_reasons", _("Priority reasons"), ("重点理由",), "readonly", width=20)
EXPORT_COLUMNS = tuple(c for column in COLUMNS
                       for c in ((column, PRIORITY_REASONS) if column.field == "priority_tags" else (column,)))
BY_FIELD = {c.field: c for c in EXPORT_COLUMNS}

# What the export writes (是/否, yes/no), the history (true/false) and the ledger pages' mark
# of a pilot (试点, pilot), in every language: tests/ledger/test_import_labels.py holds them to it.
TRUE_WORDS = {"是", "√", "✓", "y", "yes", "true", "1", "试点", "pilot"}
FALSE_WORDS = {"否", "×", "n", "no", "false", "0"}
# Between situation flags in one cell, after NFKC (which maps "，；／" onto ",;/").
FLAG_SEPARATORS = re.compile(r"[、,;/]+")


def empty_value(field: str):
    """What an emptied field holds: NULL where the column allows it, else its default."""
    model_field = Target._meta.get_field(field)
    return None if model_field.null else model_field.get_default()


def header_lookup() -> dict[str, str]:
    """Normalised header text -> field, in both languages and every known variant."""
    lookup = {}
    for column in EXPORT_COLUMNS:
        headers = []
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                headers.append(str(column.header))
        for text in (*headers, *column.variants, column.field):
            lookup.setdefault(normalize_header(text), column.field)
    return lookup


def flag_lookup() -> dict[str, str]:
    """Normalised situation-flag label or code -> code, in both languages."""
    lookup = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for code, label in Target.Flag.choices:
                lookup.setdefault(normalize_flag(str(label)), code)
    for code in Target.Flag.values:
        lookup.setdefault(normalize_flag(code), code)
    return lookup


def normalize_flag(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).lower()


def flag_labels(codes) -> str:
    """Situation flags as a cell shows them: labels in the active language, joined with 、."""
    labels = dict(Target.Flag.choices)
    return "、".join(str(labels.get(code, code)) for code in codes or ())


# Written by workflow steps beside the columns (the hold's source state, reason and review day).
HOLD_FIELDS = ("held_from", "hold_reason", "hold_review_on")
LABEL_FIELDS = ("target_type", "street", "system", "responsible_unit")
# Labels by name and flags sorted; every other field as its model field says (core.snapshots).
TARGET = declare(
    "ledger.target", Target, (*(c.field for c in COLUMNS), *HOLD_FIELDS), target="pk",
    special={**dict.fromkeys(LABEL_FIELDS, LABEL), "flags": Field(sorted, show=choice_list(Target.Flag.choices))},
    headings={c.field: c.header for c in COLUMNS},
    shows=dict.fromkeys(("land_area", "rented_floor_area"), amount(SQUARE_METRES)))
