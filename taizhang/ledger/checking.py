"""Checking an imported table's cells: each becomes the value the ledger keeps, or a
problem naming its row, column and value.

Made for 50,000-row files: cells are checked column by column, with fast paths for the
common cell types (docs/benchmarks.md).
"""

import datetime
import re
import unicodedata
from decimal import Decimal
from functools import partial
from itertools import repeat
from operator import is_, itemgetter

from django.utils.translation import gettext as _

from taizhang.campaigns.models import Campaign, LabelAlias, OrgUnit
from taizhang.core.coordinates import WORDS, Box, CoordinateSystem, convert, system_key
from taizhang.core.parsing import PLACEHOLDERS, ValueProblem, clean_text, parse_date, parse_decimal, parse_int
from taizhang.core.tabular import Problem

from .columns import (
    BY_FIELD,
    FALSE_WORDS,
    FLAG_SEPARATORS,
    TRUE_WORDS,
    Column,
    flag_labels,
    flag_lookup,
    normalize_flag,
)
from .models import Target

MAX_DECIMAL = Decimal("9999999999")
MAX_INT = 2_000_000_000
# Both columns take ±180 here, so that a latitude of 116.2 reaches `location_problem`, which
# names swapped columns as such; every writer of a point asks it, and the campaign's box lies
# within ±90 degrees of latitude.
COORDINATE_RANGE = {"longitude": Decimal(180), "latitude": Decimal(180)}
LOCATION_FIELDS = ("longitude", "latitude", "coordinate_system")
QUANTUM = {"decimal": Decimal("0.01"), "coordinate": Decimal("0.000001")}
UNIT_NAME_MAX = OrgUnit._meta.get_field("name").max_length


class _Clear:
    """What a cell holding the clearing marker gives: empty the stored value on purpose."""

    def __repr__(self):
        return "CLEAR"


# A blank cell means "not given" (parsers return None) and leaves the stored value alone;
# emptying a value takes this marker. Brackets or a leading # keep it from being a plain
# word (an English "clear" in 隐患 may mean "no hazard") and survive Excel, which eats a
# leading ' and makes a formula of a leading = or + (and of -).
CLEAR = _Clear()
CLEAR_MARKER = "【清空】"
_CLEAR_RE = re.compile(r"#\s*(?:清空|clear)|[\[(【〔《<]\s*(?:清空|clear)\s*[\])】〕》>]", re.IGNORECASE)
# The first characters a marker can have before NFKC (full-width ［（＃＜ too): text cells
# that start otherwise skip the check.
_CLEAR_STARTS = frozenset("#＃[［(（【〔《<＜")
# Characters one database stores and the other refuses, or that no cell should hold:
# NUL (PostgreSQL refuses it in text), the other C0 and C1 controls and DEL (invisible,
# and not allowed in an .xlsx), lone surrogates and the non-characters U+FFFE/U+FFFF.
# Tab and line breaks are whitespace and become single spaces before this is asked.
_REFUSED_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def is_clear_marker(text: str) -> bool:
    text = text.strip()
    return text[:1] in _CLEAR_STARTS and _CLEAR_RE.fullmatch(unicodedata.normalize("NFKC", text).strip()) is not None


def _refused_character(text: str) -> ValueProblem | None:
    """The problem with a text holding a character the ledger cannot keep, or None."""
    # isprintable() is the fast test (most text passes it); it also fails on harmless
    # format characters such as a zero-width space, hence the second look.
    if text.isprintable():
        return None
    found = _REFUSED_RE.search(text)
    if found is None:
        return None
    return ValueProblem(_("Contains a control character (U+%(code)04X) that cannot be stored; remove it.")
                        % {"code": ord(found[0])})


def without_control_characters(text: str) -> str:
    """Free text typed by the user (an import's reason), with what cannot be stored dropped;
    tabs and line breaks stay."""
    return _REFUSED_RE.sub(lambda m: m[0] if m[0] in "\t\n\r" else "", text)


def shown_value(text: str) -> str:
    """A cell's text as a problem shows it: characters that cannot be shown, as \\u escapes."""
    return _REFUSED_RE.sub(lambda m: "\\u%04x" % ord(m[0]), text)


def label_key(text: str) -> str:
    """What a label is known by, however it was typed: NFKC (full-width letters and digits
    as ASCII), whitespace runs as one space, case folded."""
    return normalize_flag(text)


class Labels:
    """Resolves what officials type to campaign records and situation flags: names, short
    names and codes, the preset's aliases and the aliases the HQ office saved (LabelAlias),
    and every label a page or an export shows (a flag also by its priority rule's label)."""

    FIELDS = ("target_type", "street", "system", "responsible_unit")

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        units = list(OrgUnit.objects.filter(campaign=campaign))
        target_types = list(campaign.target_types.all())
        kinds = {OrgUnit.Kind.STREET: "street", OrgUnit.Kind.SYSTEM: "system",
                 OrgUnit.Kind.RIGHTS_UNIT: "responsible_unit"}
        # field -> code -> record: what an alias points at, and the choices a mapping offers.
        self.by_code = {field: {} for field in self.FIELDS}
        self.by_code["target_type"] = {t.code: t for t in target_types}
        for unit in units:
            if unit.kind in kinds:
                self.by_code[kinds[unit.kind]][unit.code] = unit
        # field -> label_key(word) -> record. Names first, then short names, then codes: a
        # short name or a code never hides another record's name.
        self.by_kind = {}
        for field, records in self.by_code.items():
            table = self.by_kind[field] = {}
            for attribute in ("name", "short_name", "code"):
                for record in records.values():
                    if word := getattr(record, attribute, ""):
                        table.setdefault(label_key(word), record)
        self.aliases = {label_key(text): name for text, name in campaign.aliases.items()}
        self.flags = flag_lookup()
        # The ledger's 重点 column and a target's page show a flag by the label of the priority
        # rule it meets (存在重大安全隐患 for 重大安全隐患): read it back as that flag.
        for rule in campaign.rules.get("priority_rules", []):
            values = rule.get("values") or []
            if rule.get("match") == "flag" and len(values) == 1 and values[0] in Target.Flag.values:
                self.flags.setdefault(label_key(rule["label"]), values[0])
        for key, name in self.aliases.items():  # the preset's words for a flag (社会不稳定因素)
            if (code := self.flags.get(label_key(name))) is not None:
                self.flags.setdefault(key, code)
        for column, text, value in LabelAlias.objects.filter(campaign=campaign).values_list(
                "column", "text", "value"):
            self.alias_add(column, text, value)
        # By id, to give every stored target read back the same few shared objects
        # (importing._existing_targets).
        self.units_by_id = {unit.pk: unit for unit in units}
        self.types_by_id = {t.pk: t for t in target_types}

    def alias_add(self, field_name: str, text: str, value: str, *, replace: bool = False) -> None:
        """Read `text` in column `field_name` as the record (or flag) coded `value`, unless
        the word already means something (`replace`: even so); an alias of a value no longer
        there is ignored."""
        if field_name == "flags":
            table, found = self.flags, value if value in Target.Flag.values else None
        else:
            table, found = self.by_kind.get(field_name), self.by_code.get(field_name, {}).get(value)
        if found is not None:
            if replace:
                table[label_key(text)] = found
            else:
                table.setdefault(label_key(text), found)

    def resolve(self, field_name: str, text: str):
        table = self.by_kind[field_name]
        key = label_key(text)
        found = table.get(key)
        if found is None and (alias := self.aliases.get(key)) is not None:
            found = table.get(label_key(alias))
        return found

    def flag_words(self, text: str) -> list[tuple[str, str | None]]:
        """A 重点情形 cell's words, each with its flag code (None: not a known flag)."""
        words = []
        for part in FLAG_SEPARATORS.split(normalize_flag(text)):
            part = part.strip()
            # English labels have spaces, so a space separates flags only where the whole part
            # is no label and some word of it is one ("fire risk" stays one unknown word).
            pieces = part.split()
            if part in self.flags or not any(piece in self.flags for piece in pieces):
                pieces = [part] if part else []
            words += [(word, self.flags.get(word)) for word in pieces]
        return words


def cell_value(column: Column, raw, *, labels: Labels):
    """The one path from what a user typed (a cell, a form's field) to the value the ledger
    keeps: parsed, then checked by `value_check`. None when blank (not given), CLEAR for the
    clearing marker; raises ValueProblem with a message for the user."""
    if raw.__class__ is str and is_clear_marker(raw):
        return CLEAR
    value = _parse(column, raw, labels)
    return None if value is None else value_check(column, value)


def _parse(column: Column, raw, labels: Labels):
    """The cell read as its column's type, unchecked; None when blank."""
    if column.kind == "label":
        text = clean_text(raw)
        if not text:
            return None
        found = labels.resolve(column.field, text)
        if found is None and column.field != "responsible_unit":
            raise ValueProblem(_("Unknown %(column)s “%(value)s”.") % {"column": column.header, "value": text})
        return found or text  # a new responsible unit's name: created on apply
    if column.kind == "decimal":
        return parse_decimal(raw)
    if column.kind == "coordinate":
        return parse_decimal(raw, units=())
    if column.kind == "int":
        return parse_int(raw)
    if column.kind == "date":
        return parse_date(raw)
    if column.kind == "flags":
        return _parse_flags(raw, labels)
    if column.kind == "crs":
        text = clean_text(raw)
        if not text:
            return None
        return WORDS.get(system_key(unicodedata.normalize("NFKC", text)), text)  # unknown: value_check says so
    if column.kind == "bool":
        text = clean_text(raw).lower()
        if not text:
            return None
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValueProblem(_("“%(value)s” is not yes or no (是/否).") % {"value": text})
    return clean_text(raw) or None


# The one set of checks on a target's field values. The import runs them a column at a
# time (`check_rows`), the edit form through `cell_value`, and every service that writes a
# target through `services.target_clean`: a value one accepts, the others accept too
# (tests/ledger/test_one_validation_path.py).
def value_check(column: Column, value):
    """`value` (of the column's type, not blank) as the ledger keeps it; raises ValueProblem."""
    kind = column.kind
    if kind == "text":
        # One line, as a cell is read (clean_text): a tab or line break typed anywhere is a space.
        return text_check(clean_text(value), _max_length(column.field))
    if kind == "label":
        # A new responsible unit, created on apply: its name must fit its table.
        return text_check(value, UNIT_NAME_MAX) if isinstance(value, str) else value
    if kind in ("decimal", "coordinate"):
        if value.__class__ is not Decimal or not value.is_finite():
            value = parse_decimal(value, units=())  # a float or int from a service; refuses NaN
        low, high = bounds(column)
        if value < 0 and low == 0:
            raise ValueProblem(_("“%(value)s” is negative; it cannot be.") % {"value": value})
        if not low <= value <= high:
            raise ValueProblem(_("“%(value)s” is out of range.") % {"value": value})
        return value.quantize(QUANTUM[kind])
    if kind == "int":
        if value.__class__ is not int:
            value = parse_int(value, units=())  # 57.0 or "57" from a service; refuses True
        if value < 0:
            raise ValueProblem(_("“%(value)s” is negative; it cannot be.") % {"value": value})
        if value > MAX_INT:
            raise ValueProblem(_("“%(value)s” is out of range.") % {"value": value})
        return value
    if kind == "flags":
        if not isinstance(value, list | tuple | set):
            raise ValueProblem(_("Unknown situation flags: %(flags)s") % {"flags": value})
        unknown = [code for code in value if code not in Target.Flag.values]
        if unknown:
            raise ValueProblem(_("Unknown situation flags: %(flags)s") % {"flags": ", ".join(map(str, unknown))})
        return sorted(set(value))
    if kind == "crs":
        if value not in CoordinateSystem.values:
            raise ValueProblem(_("Unknown coordinate system “%(value)s”; known: WGS-84 (GPS, 天地图), "
                                 "GCJ-02 (高德, 腾讯), BD-09 (百度).") % {"value": value})
        return CoordinateSystem(value).value
    if kind == "date" and value.__class__ is not datetime.date:
        return parse_date(value)
    if kind == "bool" and value.__class__ is not bool:
        raise ValueProblem(_("“%(value)s” is not yes or no (是/否).") % {"value": value})
    return value


def location_problem(box: Box, longitude, latitude, system) -> tuple[tuple[str, ...], str] | None:
    """Why a target's point cannot be where it is said to be, or None: it must lie in the
    campaign's box (Campaign.map_box) once converted to WGS-84. Longitude and latitude given the
    wrong way round (a point that lies in the box when swapped) are named as such. Returns the
    fields to blame and a message. Either coordinate may be None (not known): the other is
    checked alone."""
    if longitude is None and latitude is None:
        return None
    system = system or CoordinateSystem.WGS84
    middle = ((box.west + box.east) / 2, (box.south + box.north) / 2)
    x = float(longitude) if longitude is not None else middle[0]
    y = float(latitude) if latitude is not None else middle[1]
    if abs(y) <= 90 and convert(x, y, system, CoordinateSystem.WGS84) in box:
        return None
    if longitude is not None and latitude is not None and abs(x) <= 90 and convert(
            y, x, system, CoordinateSystem.WGS84) in box:
        return LOCATION_FIELDS[:2], _(
            "Longitude and latitude are swapped: %(longitude)s, %(latitude)s lies outside the district, "
            "the other way round inside it. Put the longitude (%(latitude)s) in the longitude column.") % {
            "longitude": degrees(longitude), "latitude": degrees(latitude)}
    wgs = convert(x, y, system, CoordinateSystem.WGS84) if abs(y) <= 90 else (x, y)
    # Outside the box is outside one of its two ranges: blame the coordinate (or both) that is.
    fields = tuple(name for name, given, inside in (("longitude", longitude, box.has_longitude(wgs[0])),
                                                    ("latitude", latitude, box.has_latitude(wgs[1])))
                   if given is not None and not inside)
    return fields, _(
        "%(point)s lies outside the district: its points lie within longitude %(west)s–%(east)s and "
        "latitude %(south)s–%(north)s (WGS-84).") % {
        "point": ", ".join(degrees(v) for v in (longitude, latitude) if v is not None),
        "west": box.west, "east": box.east, "south": box.south, "north": box.north}


def degrees(value) -> str:
    """A coordinate as the ledger keeps it (six places), whether a Decimal or the float SQLite gives."""
    return str(Decimal(str(value)).quantize(QUANTUM["coordinate"]))


def text_check(text: str, max_length: int | None) -> str:
    """Text as kept: within its column's length, with no character a database refuses."""
    if max_length and len(text) > max_length:
        raise ValueProblem(_("Longer than %(max)s characters.") % {"max": max_length})
    if not text.isprintable() and (problem := _refused_character(text)):
        raise problem
    return text


def bounds(column: Column) -> tuple[Decimal, Decimal]:
    """The lowest and highest value a number column keeps."""
    if column.kind == "coordinate":
        limit = COORDINATE_RANGE[column.field]
        return -limit, limit
    return Decimal(0), MAX_DECIMAL


def _max_length(field: str) -> int | None:
    return Target._meta.get_field(field).max_length


def _parse_flags(raw, labels: Labels) -> list[str]:
    """"重大安全隐患、环境脏乱差" (labels in either language, or codes) as a sorted list of codes;
    None when blank (or a placeholder: nothing to report), [] for "无" (none)."""
    text = normalize_flag(clean_text(raw))
    if not text or text in PLACEHOLDERS:
        return None
    if text == "无":
        return []
    codes = set()
    for word, code in labels.flag_words(text):
        if code is None:
            raise ValueProblem(_("Unknown situation flag “%(value)s”; known: %(known)s.") % {
                "value": word, "known": flag_labels(Target.Flag.values)})
        codes.add(code)
    return sorted(codes)


def check_rows(table, labels: Labels, progress=None) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """Each good row's values, {field: value}, and the problems of the others in row order.

    Column by column: map() runs a column's parser over all its cells without a Python
    loop per cell (at 50,000 rows × 22 columns that halved the time). A cell that cannot
    be read gives BAD in place of its value, and only a column that had one is searched.
    """
    numbers = [number for number, _cells in table.rows]
    rows = [cells for _number, cells in table.rows]
    parsers = [(index, BY_FIELD[name]) for index, name in table.columns.items() if BY_FIELD[name].kind != "readonly"]
    found = []  # (row position, column position, Problem), sorted into row order at the end
    names, columns = [], []
    for position, (index, column) in enumerate(parsers):
        failures = []
        values = list(map(_cell_parser(column, labels, failures), map(itemgetter(index), rows)))
        header = str(column.header)
        if failures:  # in the order of the rows that gave BAD
            failed = iter(failures)
            for row, value in enumerate(values):
                if value is BAD:
                    raw, exc = next(failed)
                    found.append((row, position, Problem(numbers[row], header, shown_value(clean_text(raw)),
                                                         str(exc))))
        if column.required and _holds(values, None):
            found += [(row, position, Problem(numbers[row], header, "", _("This column must not be empty.")))
                      for row, value in enumerate(values) if value is None]
        if (column.required or column.field == "version") and _holds(values, CLEAR):
            found += [(row, position, Problem(numbers[row], header, CLEAR_MARKER, _(
                "This column cannot be emptied.")))
                for row, value in enumerate(values) if value is CLEAR]
        names.append(column.field)
        columns.append(values)
        if progress:
            progress(len(numbers) * (position + 1) // len(parsers), len(numbers))
    if "code" in names:
        found += _duplicate_codes(columns[names.index("code")], numbers, len(parsers))
    problems = [problem for _row, _position, problem in sorted(found, key=lambda item: item[:2])]
    bad_rows = {row for row, _position, _problem in found}
    by_row = enumerate(zip(*columns, strict=True))
    return [(numbers[row], dict(zip(names, values, strict=True))) for row, values in by_row
            if row not in bad_rows], problems


def _holds(values: list, marker) -> bool:
    """Whether `marker` (None, CLEAR) is among a column's values, by identity: `in` would call
    the __eq__ of each label (a model instance) in a label column, a Python call per cell."""
    return any(map(is_, values, repeat(marker)))


def _duplicate_codes(codes: list, numbers: list[int], position: int) -> list[tuple[int, int, Problem]]:
    header = str(BY_FIELD["code"].header)
    first_row: dict[str, int] = {}
    found = []
    for row, code in enumerate(codes):
        if not code or code is BAD or code is CLEAR:
            continue
        if code in first_row:
            found.append((row, position, Problem(numbers[row], header, code, _(
                "Code “%(code)s” also appears in row %(row)s.") % {"code": code, "row": first_row[code]})))
        else:
            first_row[code] = numbers[row]
    return found


# What a parser returns for a cell it cannot read; the problem goes to its `failures`.
BAD = object()


def _cell_parser(column: Column, labels: Labels, failures: list):
    """`cell_value` for one column, made for the 50,000-row case: raw -> value or BAD.

    Labels, flags and yes/no take few distinct values, so each is parsed once; text
    (most cells) skips the dispatch. The shortcuts below give what `cell_value` gives for
    the cells calamine hands over most (a float within bounds, a date), and send every
    other cell to it.

    Each is a partial of positional arguments, the cell last: one given keywords builds a
    dict of them at every call, a million calls a file.
    """
    if column.kind == "text":
        return partial(_parse_text, _max_length(column.field), failures)
    parse = partial(_guarded, partial(cell_value, column, labels=labels), failures)
    if column.kind in ("label", "flags", "bool", "crs"):
        return partial(_memoized, parse, {})
    if column.kind in ("decimal", "coordinate"):
        low, high = bounds(column)
        return partial(_parse_float, float(low), float(high), QUANTUM[column.kind], parse)
    if column.kind == "int":
        return partial(_parse_whole, parse)
    if column.kind == "date":
        return partial(_parse_date, parse)
    return parse


def _parse_whole(parse, raw, /):
    """What cell_value gives for a whole number within range (calamine gives a float), faster."""
    if raw.__class__ is float and raw.is_integer() and 0 <= raw <= MAX_INT:
        return int(raw)
    return parse(raw)


def _parse_date(parse, raw, /):
    """A date cell as it is, faster; anything else (text, a serial, a time) goes to `parse`."""
    return raw if raw.__class__ is datetime.date else parse(raw)


def _parse_float(low: float, high: float, quantum: Decimal, parse, raw, /):
    """What cell_value gives for a number within bounds, faster; anything else goes to `parse`."""
    if raw.__class__ is float and low <= raw <= high:
        # str() keeps the float's shortest form, as parse_decimal does: 300.5, not 300.49999...
        return Decimal(str(raw)).quantize(quantum)
    return parse(raw)


def _guarded(parse, failures: list, raw, /):
    try:
        return parse(raw)
    except ValueProblem as exc:
        failures.append((raw, exc))
        return BAD


def _parse_text(max_length: int | None, failures: list, raw, /):
    """What cell_value gives for a text cell, faster: no dispatch, no parser for blanks."""
    text = " ".join(raw.split()) if raw.__class__ is str else clean_text(raw)
    if text[:1] in _CLEAR_STARTS and is_clear_marker(text):
        return CLEAR
    if text.isprintable() and (max_length is None or len(text) <= max_length):
        return text or None  # what text_check passes, without the call
    try:
        return text_check(text, max_length) or None
    except ValueProblem as exc:
        failures.append((raw, exc))
        return BAD


def _memoized(parse, memo: dict, raw, /):
    """parse(raw), remembered by the raw value and its type (1, 1.0 and True are equal keys).

    A remembered value is shared by the rows that gave the same cell: flags (a list) are
    copied by importing._plan_row before anything changes them. BAD is not remembered: each bad
    cell must reach `failures`.
    """
    key = (raw.__class__, raw)
    try:
        return memo[key]
    except KeyError:
        value = parse(raw)
        if value is not BAD:
            memo[key] = value
        return value
