"""Importing a ledger from Excel or CSV: check every row, then apply all of it or none.

`import_prepare` only reads and reports (the dry run); `target_import` runs the same
checks inside one transaction, with the rows it will change locked, and writes.
"""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Max, Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from taizhang.accounts.scoping import editable_q, editable_street_ids
from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.bulk import collector_paused, raw_rows
from taizhang.core.changelog import Change
from taizhang.core.models import ChangeLogEntry
from taizhang.core.parsing import (
    PLACEHOLDERS,
    ValueProblem,
    clean_text,
    normalize_header,
    parse_date,
    parse_decimal,
    parse_int,
)

from .columns import (
    BY_FIELD,
    COLUMNS,
    FALSE_WORDS,
    FLAG_SEPARATORS,
    TRUE_WORDS,
    Column,
    flag_labels,
    flag_lookup,
    header_lookup,
    normalize_flag,
)
from .models import ImportUpload, Target
from .services import (
    LABEL_FIELDS,
    OBJECT_TYPE,
    TargetUpdate,
    snapshot_fields,
    targets_bulk_save,
    values_snapshot,
)
from .tabular import TableError, read_table

PETITION_RISK = Target.Flag.PETITION_RISK
MAX_DECIMAL = Decimal("9999999999")
MAX_INT = 2_000_000_000
COORDINATE_RANGE = {"longitude": Decimal(180), "latitude": Decimal(90)}
QUANTUM = {"decimal": Decimal("0.01"), "coordinate": Decimal("0.000001")}
LOOKUP_CHUNK = 2000
APPLY_CHUNK = 2000
# How long an uploaded file waits between its dry run and being applied.
UPLOAD_KEPT = timedelta(days=1)


@dataclass
class Problem:
    """One thing wrong with the file, a row or a cell."""

    row: int | None
    column: str
    value: str
    message: str

    def __str__(self):
        if self.row is None:
            return self.message
        return _("Row %(row)s, column “%(column)s”: %(message)s") % {
            "row": self.row, "column": self.column, "message": self.message}


@dataclass
class RowResult:
    """What importing one row would do."""

    row: int
    code: str
    action: str  # new, changed, unchanged, conflict
    diffs: list[tuple[str, object, object]] = field(default_factory=list)
    note: str = ""


@dataclass
class ImportReport:
    """The dry run's answer, and after applying, what was written."""

    filename: str
    sheet: str = ""
    rows_read: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    new: list[RowResult] = field(default_factory=list)
    changed: list[RowResult] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[RowResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    # code -> version of every target this file would change, as the dry run saw it.
    seen_versions: dict[str, int] = field(default_factory=dict)
    applied: bool = False
    # One TargetUpdate per row to write, its `current` None for a new target; not shown to users.
    _writes: list = field(default_factory=list, repr=False)
    # Responsible units to create on apply: name -> ownership system.
    _new_units: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.conflicts


class ImportRejected(Exception):
    """Applying was refused; `report` lists every problem and conflict."""

    def __init__(self, report: ImportReport):
        super().__init__(_("The import has problems; nothing was changed."))
        self.report = report


class _Labels:
    """Resolves what officials type (through the preset's aliases) to campaign records."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        units = list(OrgUnit.objects.filter(campaign=campaign))
        self.by_kind = {"street": {}, "system": {}, "responsible_unit": {}}
        kinds = {OrgUnit.Kind.STREET: "street", OrgUnit.Kind.SYSTEM: "system",
                 OrgUnit.Kind.RIGHTS_UNIT: "responsible_unit"}
        for unit in units:
            if unit.kind in kinds:
                table = self.by_kind[kinds[unit.kind]]
                table[unit.name] = unit
                if unit.short_name:
                    table.setdefault(unit.short_name, unit)
        types = {}
        target_types = list(campaign.target_types.all())
        for target_type in target_types:
            types[target_type.name] = types[target_type.code] = target_type
        self.by_kind["target_type"] = types
        # By id, to give every loaded target the same few shared objects (see _existing_targets).
        self.units_by_id = {unit.pk: unit for unit in units}
        self.types_by_id = {t.pk: t for t in target_types}
        self.flags = flag_lookup()

    def resolve(self, field_name: str, text: str):
        table = self.by_kind[field_name]
        return table.get(text) or table.get(self.campaign.resolve_label(text))


def _parse_cell(column: Column, raw, *, labels: _Labels):
    """The cell's value for the model; raises ValueProblem with a message for the user."""
    if column.kind == "label":
        text = clean_text(raw)
        if not text:
            return None
        found = labels.resolve(column.field, text)
        if found is None and column.field != "responsible_unit":
            raise ValueProblem(_("Unknown %(column)s “%(value)s”.") % {"column": column.header, "value": text})
        return found or text  # a new responsible unit is created on apply
    if column.kind in ("decimal", "coordinate"):
        value = parse_decimal(raw) if column.kind == "decimal" else parse_decimal(raw, units=())
        if value is None:
            return None
        if column.kind == "decimal" and value < 0:
            raise ValueProblem(_("“%(value)s” is negative; it cannot be.") % {"value": raw})
        limit = COORDINATE_RANGE.get(column.field, MAX_DECIMAL)
        if abs(value) > limit:
            raise ValueProblem(_("“%(value)s” is out of range.") % {"value": raw})
        return value.quantize(QUANTUM[column.kind])
    if column.kind == "int":
        value = parse_int(raw)
        if value is not None and value < 0:
            raise ValueProblem(_("“%(value)s” is negative; it cannot be.") % {"value": raw})
        if value is not None and value > MAX_INT:
            raise ValueProblem(_("“%(value)s” is out of range.") % {"value": raw})
        return value
    if column.kind == "date":
        return parse_date(raw)
    if column.kind == "flags":
        return _parse_flags(raw, labels.flags)
    if column.kind == "bool":
        text = clean_text(raw).lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValueProblem(_("“%(value)s” is not yes or no (是/否).") % {"value": text})
    text = clean_text(raw)
    max_length = Target._meta.get_field(column.field).max_length
    if max_length and len(text) > max_length:
        raise ValueProblem(_("Longer than %(max)s characters.") % {"max": max_length})
    return text


def _parse_flags(raw, lookup: dict[str, str]) -> list[str]:
    """"重大安全隐患、环境脏乱差" (labels in either language, or codes) as a sorted list of codes."""
    text = normalize_flag(clean_text(raw))
    if text in PLACEHOLDERS or text == "无":
        return []
    codes = set()
    for part in FLAG_SEPARATORS.split(text):
        part = part.strip()
        # English labels have spaces, so a space separates flags only where the whole part is no label.
        for word in [part] if part in lookup else part.split():
            if word not in lookup:
                raise ValueProblem(_("Unknown situation flag “%(value)s”; known: %(known)s.") % {
                    "value": word, "known": flag_labels(Target.Flag.values)})
            codes.add(lookup[word])
    return sorted(codes)


def _same(old, new) -> bool:
    return old == new or (old in _BLANK and new in _BLANK)


_BLANK = (None, "", [])


def _existing_targets(campaign, user, codes, labels: "_Labels", *, lock: bool) -> tuple[dict[str, dict], set[int]]:
    """The file's targets already in the ledger as {field: value} (TargetUpdate.current),
    their labels the campaign's shared objects; and the ids of those `user` may change.

    Rows, not model instances: at 50,000 rows, Target objects (with select_related, four
    related objects each) were most of an import's memory and a good part of its time.
    """
    names = ["pk", "priority_reasons", *(c.field for c in COLUMNS)]
    fields = [name + "_id" if name in LABEL_FIELDS else name for name in names]
    units = labels.units_by_id
    may_edit = ExpressionWrapper(Q(editable_q(user)), output_field=BooleanField())
    existing, editable = {}, set()
    codes = list(codes)
    for start in range(0, len(codes), LOOKUP_CHUNK):
        qs = Target.objects.filter(campaign=campaign, code__in=codes[start:start + LOOKUP_CHUNK])
        if lock:
            qs = qs.select_for_update()
        # As the driver gives them (the ORM's conversions were most of the time): decimals
        # may be floats, which snapshots quantize alike, and JSON is text.
        for row in raw_rows(qs.annotate(may_edit=may_edit).values_list("may_edit", *fields)):
            record = dict(zip(names, row[1:], strict=True))
            if row[0]:
                editable.add(record["pk"])
            record["target_type"] = labels.types_by_id[record["target_type"]]
            record["street"], record["system"] = units[record["street"]], units[record["system"]]
            record["responsible_unit"] = units.get(record["responsible_unit"])
            record["flags"], record["priority_reasons"] = _json(record["flags"]), _json(record["priority_reasons"])
            existing[record["code"]] = record
    return existing, editable


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _explain_conflicts(report: ImportReport, conflicted: list[tuple[RowResult, dict, int]]) -> None:
    """Say who changed each conflicting target last, and when: one query for all of them."""
    ids = [str(target["pk"]) for _row, target, _v in conflicted]
    latest = (ChangeLogEntry.objects.filter(object_type=OBJECT_TYPE, object_id__in=ids)
              .values("object_id").annotate(last=Max("id")).values("last"))
    last_by_id = {e.object_id: e for e in ChangeLogEntry.objects.filter(id__in=latest).only(
        "object_id", "actor_name", "at")}
    for row, target, version in conflicted:
        last = last_by_id.get(str(target["pk"]))
        row.note = _("Changed since your file was exported (your version %(theirs)s, now %(ours)s), "
                     "last by %(user)s at %(time)s; export again and redo this row.") % {
            "theirs": version, "ours": target["version"],
            "user": (last.actor_name if last and last.actor_name else "-"),
            "time": timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M") if last else "-"}
        report.conflicts.append(row)


@collector_paused()
def import_prepare(*, campaign: Campaign, user, data: bytes, filename: str, sheet: str | None = None,
                   progress: Callable[[int, int], None] | None = None, lock: bool = False,
                   seen_versions: dict[str, int] | None = None) -> ImportReport:
    """Check a file against the ledger and report what applying it would do; writes nothing.

    `seen_versions` (from an earlier dry run) makes a target changed since then a conflict,
    as a version column in the file does.
    """
    report = ImportReport(filename=filename)
    if len(data) > settings.TAIZHANG_IMPORT_MAX_BYTES:
        report.problems.append(Problem(None, "", "", _("The file is %(size)s; the limit is %(limit)s.") % {
            "size": filesizeformat(len(data)), "limit": filesizeformat(settings.TAIZHANG_IMPORT_MAX_BYTES)}))
        return report
    required = [c.field for c in COLUMNS if c.required]
    lookup = header_lookup()
    try:
        table = read_table(
            data, filename=filename, match_header=lambda text: lookup.get(normalize_header(text)),
            required=required,
            labels={c.field: str(c.header) for c in COLUMNS}, sheet=sheet,
            max_rows=settings.TAIZHANG_IMPORT_MAX_ROWS)
    except TableError as exc:
        report.problems.append(Problem(None, "", "", str(exc)))
        return report
    report.sheet, report.rows_read = table.sheet_name, len(table.rows)
    report.unknown_columns = table.unknown_columns
    labels = _Labels(campaign)
    parsed = _parse_rows(table, labels, report, progress)
    del table  # the raw cells are parsed: free them before the ledger's targets are loaded
    _plan_writes(campaign, user, parsed, labels, report, lock=lock, seen_versions=seen_versions or {})
    return report


def _parse_rows(table, labels, report, progress) -> list[tuple[int, dict]]:
    """Each row's values, {field: value}; rows with a problem are reported and left out.

    Column by column: map() runs a column's parser over all its cells without a Python
    loop per cell (at 50,000 rows × 22 columns that halved the time). A cell that cannot
    be read gives BAD in place of its value, and only a column that had one is searched.
    """
    numbers = [number for number, _cells in table.rows]
    parsers = [(index, BY_FIELD[name]) for index, name in table.columns.items() if BY_FIELD[name].kind != "readonly"]
    found = []  # (row position, column position, Problem), sorted into row order at the end
    names, columns = [], []
    for position, (index, column) in enumerate(parsers):
        failures = []
        values = list(map(_cell_parser(column, labels, failures), [cells[index] for _n, cells in table.rows]))
        header = str(column.header)
        if failures:  # in the order of the rows that gave BAD
            failed = iter(failures)
            for row, value in enumerate(values):
                if value is BAD:
                    raw, exc = next(failed)
                    found.append((row, position, Problem(numbers[row], header, clean_text(raw), str(exc))))
        if column.required and (None in values or "" in values):
            found += [(row, position, Problem(numbers[row], header, "", _("This column must not be empty.")))
                      for row, value in enumerate(values) if value is None or value == ""]
        names.append(column.field)
        columns.append(values)
        if progress:
            progress(len(numbers) * (position + 1) // len(parsers), len(numbers))
    if "code" in names:
        found += _duplicate_codes(columns[names.index("code")], numbers, len(parsers))
    for _row, _position, problem in sorted(found, key=lambda item: item[:2]):
        report.problems.append(problem)
    bad_rows = {row for row, _position, _problem in found}
    rows = enumerate(zip(*columns, strict=True))
    return [(numbers[row], dict(zip(names, values, strict=True))) for row, values in rows if row not in bad_rows]


def _duplicate_codes(codes: list, numbers: list[int], position: int) -> list[tuple[int, int, Problem]]:
    header = str(BY_FIELD["code"].header)
    first_row: dict[str, int] = {}
    found = []
    for row, code in enumerate(codes):
        if not code or code is BAD:
            continue
        if code in first_row:
            found.append((row, position, Problem(numbers[row], header, code, _(
                "Code “%(code)s” also appears in row %(row)s.") % {"code": code, "row": first_row[code]})))
        else:
            first_row[code] = numbers[row]
    return found


# What a parser returns for a cell it cannot read; the problem goes to its `failures`.
BAD = object()


def _cell_parser(column: Column, labels: _Labels, failures: list):
    """`_parse_cell` for one column, made for the 50,000-row case: raw -> value or BAD.

    Labels, flags and yes/no take few distinct values, so each is parsed once; text
    (most cells) skips the dispatch.
    """
    if column.kind == "text":
        max_length = Target._meta.get_field(column.field).max_length
        return partial(_parse_text, max_length=max_length, failures=failures)
    parse = partial(_guarded, parse=partial(_parse_cell, column, labels=labels), failures=failures)
    if column.kind in ("label", "flags", "bool"):
        return partial(_memoized, parse=parse, memo={})
    if column.kind in ("decimal", "coordinate"):
        limit = float(COORDINATE_RANGE.get(column.field, MAX_DECIMAL))
        return partial(_parse_float, low=-limit if column.kind == "coordinate" else 0.0, high=limit,
                       quantum=QUANTUM[column.kind], parse=parse)
    if column.kind == "int":
        return partial(_parse_whole, parse=parse)
    if column.kind == "date":
        return partial(_parse_date, parse=parse)
    return parse


def _parse_whole(raw, *, parse):
    """What _parse_cell gives for a whole number within range (calamine gives a float), faster."""
    if raw.__class__ is float and raw.is_integer() and 0 <= raw <= MAX_INT:
        return int(raw)
    return parse(raw)


def _parse_date(raw, *, parse):
    """A date cell as it is, faster; anything else (text, a serial, a time) goes to `parse`."""
    return raw if raw.__class__ is datetime.date else parse(raw)


def _parse_float(raw, *, low: float, high: float, quantum: Decimal, parse):
    """What _parse_cell gives for a number within range, faster; anything else goes to `parse`."""
    if raw.__class__ is float and low <= raw <= high:
        # str() keeps the float's shortest form, as parse_decimal does: 300.5, not 300.49999...
        return Decimal(str(raw)).quantize(quantum)
    return parse(raw)


def _guarded(raw, *, parse, failures: list):
    try:
        return parse(raw)
    except ValueProblem as exc:
        failures.append((raw, exc))
        return BAD


def _parse_text(raw, *, max_length: int | None, failures: list):
    text = " ".join(raw.split()) if raw.__class__ is str else clean_text(raw)
    if max_length and len(text) > max_length:
        failures.append((raw, ValueProblem(_("Longer than %(max)s characters.") % {"max": max_length})))
        return BAD
    return text


def _memoized(raw, *, parse, memo: dict):
    """parse(raw), remembered by the raw value and its type (1, 1.0 and True are equal keys).

    A remembered value is shared by the rows that gave the same cell: flags (a list) are
    copied by _plan_row before anything changes them. BAD is not remembered: each bad
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


def _plan_writes(campaign, user, parsed, labels, report, *, lock: bool, seen_versions: dict) -> None:
    existing, editable_pks = _existing_targets(campaign, user, (v["code"] for _r, v in parsed), labels, lock=lock)
    streets = editable_street_ids(user, campaign)
    new_units, conflicted = {}, []
    for position, (row_number, values) in enumerate(parsed):
        # Let go of each parsed row as it is planned: a changed row keeps only its changes
        # (peak memory at 50,000 rows).
        parsed[position] = None
        target = existing.get(values["code"])
        street = values.get("street")
        if target is not None and target["pk"] not in editable_pks:
            report.problems.append(Problem(row_number, str(BY_FIELD["code"].header), values["code"], _(
                "Target “%(code)s” is not one you may change.") % {"code": values["code"]}))
            continue
        if street is not None and streets is not None and street.pk not in streets:
            report.problems.append(Problem(row_number, str(BY_FIELD["street"].header), street.name, _(
                "You may not put targets in street “%(street)s”.") % {"street": street.name}))
            continue
        unit = values.get("responsible_unit")
        if isinstance(unit, str):
            new_units.setdefault(unit, values.get("system") or (target["system"] if target else None))
        conflict = _plan_row(row_number, values, target, report, seen_versions)
        if conflict:
            conflicted.append(conflict)
    _explain_conflicts(report, conflicted)
    report.new_units = sorted(new_units)
    report._new_units = new_units


def _plan_row(row_number: int, values: dict, target: dict | None, report: ImportReport,
              seen_versions: dict) -> tuple[RowResult, dict, int] | None:
    """Record what this row would do; a conflict is returned for explaining, not recorded."""
    version = values.pop("version", None)
    if version is None and target is not None:
        version = seen_versions.get(target["code"])
    if "flags" in values:
        # The petition flag follows the target's open petitions, not the spreadsheet.
        kept = {PETITION_RISK} & set(target["flags"] if target else ())
        values["flags"] = sorted((set(values["flags"] or ()) - {PETITION_RISK}) | kept)
    if target is None:
        report.new.append(RowResult(row_number, values["code"], "new"))
        report._writes.append(TargetUpdate(current=None, changes=values))
        return None
    # Most values equal the stored ones as they are; only the others are compared as the
    # snapshot keeps them (a Decimal and the float SQLite gave back, None and "").
    differing = {name: value for name, value in values.items()
                 if value is not target[name] and value != target[name]}
    if not differing:
        report.unchanged += 1
        return None
    before = values_snapshot(target)
    changed, diffs = {}, []
    for name, new in snapshot_fields(differing).items():
        old = before[name]
        if not _same(old, new):
            changed[name] = values[name]
            if name == "flags":
                old, new = flag_labels(old), flag_labels(new)
            diffs.append((_headers()[name], old, new))
    if not diffs:
        report.unchanged += 1
    elif version is not None and version != target["version"]:
        return RowResult(row_number, target["code"], "conflict", diffs), target, version
    else:
        report.changed.append(RowResult(row_number, target["code"], "changed", diffs))
        report.seen_versions[target["code"]] = target["version"]
        report._writes.append(TargetUpdate(current=target, changes=changed, before=before))
    return None


def _headers() -> dict[str, str]:
    """Each column's header in the active language (str() of a lazy text costs a lookup)."""
    language = get_language()
    if language not in _HEADERS:
        _HEADERS[language] = {column.field: str(column.header) for column in COLUMNS}
    return _HEADERS[language]


_HEADERS: dict[str, dict[str, str]] = {}


@collector_paused()
@transaction.atomic
def target_import(*, campaign: Campaign, user, data: bytes, filename: str, sheet: str | None = None,
                  reason: str = "", progress=None, seen_versions: dict[str, int] | None = None) -> ImportReport:
    """Apply a file: every row or none. Raises ImportRejected with the report on any problem.

    `progress(done, total)` counts the rows as they are checked, then from zero again as
    they are written.
    """
    report = import_prepare(campaign=campaign, user=user, data=data, filename=filename, sheet=sheet,
                            progress=progress, lock=True, seen_versions=seen_versions)
    if not report.ok:
        raise ImportRejected(report)
    units, changes = _create_units(campaign, report)
    reason = reason or _("import of %(file)s") % {"file": filename}
    # Written a chunk at a time inside the one transaction: the rows, snapshots and log
    # entries of a chunk are freed before the next (peak memory at 50,000 rows).
    writes = report._writes
    for start in range(0, len(writes), APPLY_CHUNK):
        chunk = writes[start:start + APPLY_CHUNK]
        for write in chunk:
            unit = write.changes.get("responsible_unit")
            if isinstance(unit, str):
                write.changes["responsible_unit"] = units[unit]
        targets_bulk_save(campaign=campaign, creates=[w.changes for w in chunk if w.current is None],
                          updates=[w for w in chunk if w.current is not None], actor=user,
                          extra_changes=changes, reason=reason)
        changes = []
        if progress:
            progress(start + len(chunk), len(writes))
    report.applied = True
    return report


def upload_keep(*, campaign: Campaign, user, filename: str, data: bytes, report: ImportReport) -> ImportUpload:
    """Keep a file from its dry run until it is applied, with the versions the dry run saw
    (applying refuses rows someone changed in between).

    Files are kept for UPLOAD_KEPT: older ones, applied or not, are dropped on the way.
    """
    ImportUpload.objects.filter(uploaded_at__lt=timezone.now() - UPLOAD_KEPT).delete()
    return ImportUpload.objects.create(campaign=campaign, user=user, filename=filename, data=data,
                                       seen_versions=report.seen_versions)


@transaction.atomic
def upload_apply(*, upload_id, user, reason: str = "") -> ImportReport:
    """Apply a kept file once. Raises ImportUpload.DoesNotExist when it is not the user's or
    was applied already, ImportRejected (and stays to be fixed and tried again) on problems.

    The file is claimed inside the import's transaction: of two clicks at once, the second
    waits for the first and then finds it applied. Its bytes are dropped once applied.
    """
    upload = (ImportUpload.objects.select_for_update()
              .get(pk=upload_id, user=user, applied_at=None, uploaded_at__gte=timezone.now() - UPLOAD_KEPT))
    report = target_import(campaign=upload.campaign, user=user, data=bytes(upload.data), filename=upload.filename,
                           reason=reason, seen_versions=upload.seen_versions)
    ImportUpload.objects.filter(pk=upload.pk).update(applied_at=timezone.now(), data=b"")
    return report


def _create_units(campaign, report) -> tuple[dict[str, OrgUnit], list[Change]]:
    """Responsible units named in the file but not yet known become rights units of their system."""
    created, changes = {}, []
    existing = OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.RIGHTS_UNIT).count()
    for offset, (name, system) in enumerate(sorted(report._new_units.items()), start=1):
        unit = OrgUnit.objects.create(
            campaign=campaign, kind=OrgUnit.Kind.RIGHTS_UNIT, code="U%05d" % (existing + offset),
            name=name, parent=system)
        created[name] = unit
        changes.append(Change("campaigns.orgunit", str(unit.pk), unit.name, "create", None,
                              {"code": unit.code, "name": unit.name, "system": system.name if system else None}))
    return created, changes
