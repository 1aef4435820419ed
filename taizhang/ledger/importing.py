"""Importing a ledger from Excel or CSV: check every row, then apply all of it or none.

`import_prepare` only reads and reports (the dry run); `target_import` runs the same
checks inside one transaction, with the rows it will change locked, and writes.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Max, Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from taizhang.accounts.scoping import editable_q, editable_street_ids
from taizhang.campaigns.models import Campaign
from taizhang.core.bulk import collector_paused, raw_rows
from taizhang.core.changelog import changelog_append
from taizhang.core.coordinates import Box, CoordinateSystem
from taizhang.core.db import atomic, is_transient, is_unique_violation
from taizhang.core.models import ChangeLogEntry
from taizhang.core.parsing import normalize_header
from taizhang.core.tabular import TableError, read_table

from .checking import (
    CLEAR,
    LOCATION_FIELDS,
    Labels,
    Problem,
    check_rows,
    degrees,
    location_problem,
    without_control_characters,
)
from .columns import BY_FIELD, COLUMNS, TARGET, empty_value, flag_labels, header_lookup
from .label_aliases import UnknownLabel, label_aliases_write, mappings_apply, unknown_labels
from .models import ImportUpload, Target
from .services import (
    LABEL_FIELDS,
    OBJECT_TYPE,
    TargetUpdate,
    rights_units_make,
    snapshot_fields,
    targets_bulk_save,
    values_snapshot,
)

PETITION_RISK = Target.Flag.PETITION_RISK
COORDINATES = LOCATION_FIELDS[:2]
LOOKUP_CHUNK = 2000
APPLY_CHUNK = 2000
# How long an uploaded file waits between its dry run and being applied.
UPLOAD_KEPT = timedelta(days=1)


@dataclass
class RowResult:
    """What importing one row would do."""

    row: int
    code: str
    action: str  # new, changed, unchanged, conflict, cleared
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
    # The changed rows that empty a stored value (the marker, or 无 for situation flags),
    # with those diffs only: shown apart, so that no erasure goes unseen.
    cleared: list[RowResult] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[RowResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    # The labels the check did not know, one per column and word, with the closest known
    # value; and the new responsible units named much like a known one (label_aliases).
    unknown_labels: list[UnknownLabel] = field(default_factory=list)
    # code -> version of every target the file names (changed or not) as the dry run saw
    # it, None for a code not in the ledger then: applying refuses a row whose target
    # moved, or appeared, since, if the row would change it.
    seen_versions: dict[str, int | None] = field(default_factory=dict)
    applied: bool = False
    # Per row to write, in file order: a new target's {field: value}, or a TargetUpdate; not shown to users.
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


def _same(old, new) -> bool:
    return old == new or (old in _BLANK and new in _BLANK)


_BLANK = (None, "", [])


def _existing_targets(campaign, user, codes, labels: Labels, *, lock: bool) -> tuple[dict[str, dict], set[int]]:
    """The file's targets already in the ledger as {field: value} (TargetUpdate.current),
    their labels the campaign's shared objects; and the ids of those `user` may change.

    Rows, not model instances: at 50,000 rows, Target objects (with select_related, four
    related objects each) were most of an import's memory and a good part of its time.
    """
    names = ["pk", "priority_reasons", *TARGET.fields]
    fields = [name + "_id" if name in LABEL_FIELDS else name for name in names]
    units = labels.units_by_id
    may_edit = ExpressionWrapper(Q(editable_q(user)), output_field=BooleanField())
    existing, editable = {}, set()
    # Flags and reasons take few distinct values: each text is decoded once, and its list
    # shared by the rows holding it (nothing changes a stored target's lists in place).
    decoded = {}
    # Sorted, and locked in that order: two imports naming the same targets lock them in the
    # same order, and neither waits for a row the other holds while holding one it wants.
    codes = sorted(set(codes))
    for start in range(0, len(codes), LOOKUP_CHUNK):
        qs = Target.objects.filter(campaign=campaign, code__in=codes[start:start + LOOKUP_CHUNK])
        if lock:
            qs = qs.select_for_update(of=("self",), no_key=True).order_by("code")
        # As the driver gives them (the ORM's conversions were most of the time): decimals
        # may be floats, which snapshots quantize alike, and JSON is text.
        for row in raw_rows(qs.annotate(may_edit=may_edit).values_list("may_edit", *fields)):
            record = dict(zip(names, row[1:], strict=True))
            if row[0]:
                editable.add(record["pk"])
            record["target_type"] = labels.types_by_id[record["target_type"]]
            record["street"], record["system"] = units[record["street"]], units[record["system"]]
            record["responsible_unit"] = units.get(record["responsible_unit"])
            record["flags"] = _json(record["flags"], decoded)
            record["priority_reasons"] = _json(record["priority_reasons"], decoded)
            existing[record["code"]] = record
    return existing, editable


def _json(value, decoded: dict):
    """JSON text as the driver gives it, decoded (once per distinct text); a decoded value as it is."""
    if not isinstance(value, str):
        return value
    if value not in decoded:
        decoded[value] = json.loads(value)
    return decoded[value]


def _explain_conflicts(report: ImportReport, conflicted: list[tuple[RowResult, dict | None, int, bool]]) -> None:
    """Say who changed each conflicting target last, and when: one query for all of them.

    Each is (row, the stored target or None, the version the row expected, whether that
    version came from the dry run rather than from the file's version column).
    """
    ids = [str(target["pk"]) for _row, target, _v, _checked in conflicted if target is not None]
    latest = (ChangeLogEntry.objects.filter(object_type=OBJECT_TYPE, object_id__in=ids)
              .values("object_id").annotate(last=Max("id")).values("last"))
    last_by_id = {e.object_id: e for e in ChangeLogEntry.objects.filter(id__in=latest).only(
        "object_id", "actor_name", "at")}
    for row, target, version, checked in conflicted:
        if target is None:
            row.note = _("No longer in the ledger under this code since your check; check the file again.")
            report.conflicts.append(row)
            continue
        last = last_by_id.get(str(target["pk"]))
        if not checked:
            message = _("Changed since your file was exported (your version %(theirs)s, now %(ours)s), "
                        "last by %(user)s at %(time)s; export again and redo this row.")
        elif version:
            message = _("Changed since your check (version %(theirs)s then, now %(ours)s), last by %(user)s at "
                        "%(time)s; check the file again.")
        else:
            message = _("Added to the ledger by someone else since your check, by %(user)s at %(time)s; "
                        "check the file again.")
        row.note = message % {
            "theirs": version, "ours": target["version"],
            "user": (last.actor_name if last and last.actor_name else "-"),
            "time": timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M") if last else "-"}
        report.conflicts.append(row)


@collector_paused()
def import_prepare(*, campaign: Campaign, user, data: bytes, filename: str, sheet: str | None = None,
                   progress: Callable[[int, int], None] | None = None, lock: bool = False,
                   seen_versions: dict[str, int] | None = None, mappings=(),
                   coordinate_system: str = CoordinateSystem.WGS84) -> ImportReport:
    """Check a file against the ledger and report what applying it would do; writes nothing.

    `seen_versions` (from an earlier dry run) makes a target changed since then a conflict,
    as a version column in the file does. `mappings` (label_aliases.Mapping) are read in this
    check without being saved; label_aliases.LabelMapError when one cannot be.
    `coordinate_system` is what a row's new coordinates are given in when its 坐标系 cell is blank.
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
    labels = Labels(campaign)
    if mappings:
        mappings_apply(campaign=campaign, actor=user, mappings=mappings, labels=labels)
    parsed, problems = check_rows(table, labels, progress)
    report.problems += problems
    del table  # the raw cells are parsed: free them before the ledger's targets are loaded
    unit_rows = _plan_writes(campaign, user, parsed, labels, report, lock=lock, seen_versions=seen_versions or {},
                             coordinate_system=coordinate_system)
    report.unknown_labels = unknown_labels(problems, labels, unit_rows)
    return report


def _plan_writes(campaign, user, parsed, labels, report, *, lock: bool, seen_versions: dict,
                 coordinate_system: str) -> dict[str, list[int]]:
    """Plan each row's write into `report`; returns the rows naming each responsible unit to create."""
    existing, editable_pks = _existing_targets(campaign, user, (v["code"] for _r, v in parsed), labels, lock=lock)
    box = campaign.map_box()
    streets = editable_street_ids(user, campaign)
    headers = _headers()
    new_units, unit_rows, conflicted = {}, {}, []
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
        problem = _location_check(row_number, values, target, box, coordinate_system, headers)
        if problem is not None:
            report.problems.append(problem)
            continue
        unit = values.get("responsible_unit")
        if isinstance(unit, str):
            new_units.setdefault(unit, values.get("system") or (target["system"] if target else None))
            unit_rows.setdefault(unit, []).append(row_number)
        conflict = _plan_row(row_number, values, target, report, seen_versions, headers)
        if conflict:
            conflicted.append(conflict)
    _explain_conflicts(report, conflicted)
    report.new_units = sorted(new_units)
    report._new_units = new_units
    return unit_rows


def _location_check(row_number: int, values: dict, target: dict | None, box: Box,
                    default_system: str, headers: dict[str, str]) -> Problem | None:
    """The row's point, its cells over what the target holds, checked where the correction form
    and the services check it (checking.location_problem) when the row moves it. A row giving
    new coordinates with a blank 坐标系 cell takes the page's system (`default_system`)."""
    given = [values.get(name) for name in LOCATION_FIELDS]
    if given == [None, None, None]:
        return None
    stored = [target[name] for name in LOCATION_FIELDS] if target else [None, None, None]
    point = dict(zip(LOCATION_FIELDS, (None if new is CLEAR else old if new is None else new
                                       for new, old in zip(given, stored, strict=True)), strict=True))
    moved = _moved(point, stored)
    if given[2] is None and moved and (point["longitude"], point["latitude"]) != (None, None):
        values["coordinate_system"] = point["coordinate_system"] = default_system
    if not moved and point["coordinate_system"] == stored[2]:
        return None
    problem = location_problem(box, point["longitude"], point["latitude"], point["coordinate_system"])
    if problem is None:
        return None
    fields, message = problem
    return Problem(row_number, " / ".join(headers[name] for name in fields),
                   ", ".join(degrees(point[name]) for name in fields), message)


def _moved(point: dict, stored: list) -> bool:
    """Whether the point's longitude or latitude differs from the stored one as snapshots keep them
    (a Decimal read from a cell and the float SQLite gives back alike)."""
    for name, old in zip(COORDINATES, stored[:2], strict=True):
        new = point[name]
        if new is old:
            continue
        if new is None or old is None:
            return True
        convert = TARGET.converters[name]
        if convert(new) != convert(old):
            return True
    return False


def _plan_row(row_number: int, values: dict, target: dict | None, report: ImportReport,
              seen_versions: dict, headers: dict[str, str]) -> tuple[RowResult, dict | None, int, bool] | None:
    """Record what this row would do; a conflict is returned for explaining, not recorded.

    A None value is a blank cell, "not given": a new target gets the field's default, a
    stored one keeps its value. CLEAR empties a stored value.
    """
    code = values["code"]
    version = values.pop("version", None)
    checked = version is None and code in seen_versions
    if checked:  # what the dry run saw stands in for a version column; 0: the code was not in the ledger
        version = seen_versions[code] or 0
    flags = values.get("flags")
    if flags is not None:
        # The petition flag follows the target's open petitions, not the spreadsheet.
        kept = {PETITION_RISK} & set(target["flags"] if target else ())
        values["flags"] = sorted((set(() if flags is CLEAR else flags) - {PETITION_RISK}) | kept)
    if target is None:
        if checked and version:
            return RowResult(row_number, code, "conflict"), None, version, True
        report.new.append(RowResult(row_number, code, "new"))
        report.seen_versions[code] = None
        report._writes.append({name: value for name, value in values.items()
                               if value is not None and value is not CLEAR})
        return None
    report.seen_versions[code] = target["version"]
    # Most values equal the stored ones as they are; only the others are compared as the
    # snapshot keeps them (a Decimal and the float SQLite gave back, None and "").
    differing = {name: value for name, value in values.items()
                 if value is not None and value is not target[name] and value != target[name]}
    if not differing:
        report.unchanged += 1
        return None
    marked = [name for name, value in differing.items() if value is CLEAR]
    for name in marked:
        differing[name] = empty_value(name)
    if flags == [] or flags is CLEAR:  # the file empties them (but for a petition flag, kept above)
        marked.append("flags")
    before = values_snapshot(target)
    changed, logged, diffs, cleared = {}, {}, [], []
    for name, new in _snapshot(differing).items():
        old = before[name]
        if not _same(old, new):
            changed[name], logged[name] = differing[name], new
            if new in _BLANK or name in marked:
                cleared.append(name)
            if name == "flags":
                old, new = flag_labels(old), flag_labels(new)
            diffs.append((headers[name], old, new))
    if not diffs:
        report.unchanged += 1
    elif version is not None and version != target["version"]:
        return RowResult(row_number, code, "conflict", diffs), target, version, checked
    else:
        report.changed.append(RowResult(row_number, code, "changed", diffs))
        if cleared:
            emptied = {headers[name] for name in cleared}
            report.cleared.append(RowResult(row_number, code, "cleared",
                                            [diff for diff in diffs if diff[0] in emptied]))
        report._writes.append(TargetUpdate(current=target, changes=changed, before=before, logged=logged))
    return None


def _snapshot(values: dict) -> dict:
    """`snapshot_fields`, also of a responsible unit not created yet (its name, a str)."""
    unit = values.get("responsible_unit")
    if isinstance(unit, str):
        return snapshot_fields({**values, "responsible_unit": None}) | {"responsible_unit": unit}
    return snapshot_fields(values)


def _headers() -> dict[str, str]:
    """Each column's header in the active language (str() of a lazy text costs a lookup)."""
    language = get_language()
    if language not in _HEADERS:
        _HEADERS[language] = {column.field: str(column.header) for column in COLUMNS}
    return _HEADERS[language]


_HEADERS: dict[str, dict[str, str]] = {}


def _transient_or_added_meanwhile(exc) -> bool:
    # A code the file adds that someone else added after our check (PostgreSQL; SQLite's
    # writers take turns): run again, the import finds it and reports the conflict.
    return is_transient(exc) or is_unique_violation(exc)


@collector_paused()
@atomic(retry_when=_transient_or_added_meanwhile)
def target_import(*, campaign: Campaign, user, data: bytes, filename: str, sheet: str | None = None,
                  reason: str = "", progress=None, seen_versions: dict[str, int] | None = None,
                  mappings=(), coordinate_system: str = CoordinateSystem.WGS84) -> ImportReport:
    """Apply a file: every row or none. Raises ImportRejected with the report on any problem.

    `progress(done, total)` counts the rows as they are checked, then from zero again as
    they are written. `mappings` (label_aliases.Mapping) are saved as the campaign's aliases
    first, and kept only if the file is applied.
    """
    # Written before the rows are read and locked; logged with them, the chain head last.
    alias_changes = label_aliases_write(campaign=campaign, actor=user, mappings=mappings) if mappings else []
    report = import_prepare(campaign=campaign, user=user, data=data, filename=filename, sheet=sheet,
                            progress=progress, lock=True, seen_versions=seen_versions,
                            coordinate_system=coordinate_system)
    if not report.ok:
        raise ImportRejected(report)
    units, changes = rights_units_make(campaign, report._new_units)
    changes = alias_changes + changes
    reason = without_control_characters(reason) or _("import of %(file)s") % {"file": filename}
    # Written a chunk at a time inside the one transaction: the rows, snapshots and log
    # entries of a chunk are freed before the next (peak memory at 50,000 rows).
    writes = report._writes
    for start in range(0, len(writes), APPLY_CHUNK):
        chunk = writes[start:start + APPLY_CHUNK]
        updates = [w for w in chunk if isinstance(w, TargetUpdate)]
        creates = [w for w in chunk if not isinstance(w, TargetUpdate)]
        for values in (*creates, *(u.changes for u in updates)):
            unit = values.get("responsible_unit")
            if isinstance(unit, str):
                values["responsible_unit"] = units[unit]
        targets_bulk_save(campaign=campaign, creates=creates, updates=updates, actor=user,
                          extra_changes=changes, reason=reason)
        changes = []
        if progress:
            progress(start + len(chunk), len(writes))
    if changes:  # mappings, and a file with nothing to write
        changelog_append(changes=changes, actor=user, reason=reason)
    report.applied = True
    return report


def upload_keep(*, campaign: Campaign, user, filename: str, data: bytes, report: ImportReport,
                coordinate_system: str = CoordinateSystem.WGS84) -> ImportUpload:
    """Keep a file from its dry run until it is applied, with the versions the dry run saw
    (applying refuses rows someone changed in between).

    Files are kept for UPLOAD_KEPT: older ones, applied or not, are dropped on the way.
    """
    ImportUpload.objects.filter(uploaded_at__lt=timezone.now() - UPLOAD_KEPT).delete()
    return ImportUpload.objects.create(campaign=campaign, user=user, filename=filename, data=data,
                                       seen_versions=report.seen_versions, coordinate_system=coordinate_system)


@atomic(retry_when=_transient_or_added_meanwhile)
def upload_apply(*, upload_id, user, reason: str = "") -> ImportReport:
    """Apply a kept file once. Raises ImportUpload.DoesNotExist when it is not the user's or
    was applied already, ImportRejected (and stays to be fixed and tried again) on problems.

    The file is claimed inside the import's transaction: of two clicks at once, the second
    waits for the first and then finds it applied. Its bytes are dropped once applied.
    """
    upload = (ImportUpload.objects.select_for_update()
              .get(pk=upload_id, user=user, applied_at=None, uploaded_at__gte=timezone.now() - UPLOAD_KEPT))
    report = target_import(campaign=upload.campaign, user=user, data=bytes(upload.data), filename=upload.filename,
                           reason=reason, seen_versions=upload.seen_versions,
                           coordinate_system=upload.coordinate_system)
    ImportUpload.objects.filter(pk=upload.pk).update(applied_at=timezone.now(), data=b"")
    return report


def upload_pending(*, upload_id, user) -> ImportUpload:
    """The user's kept file, not applied and not too old; ImportUpload.DoesNotExist otherwise."""
    return ImportUpload.objects.get(pk=upload_id, user=user, applied_at=None,
                                    uploaded_at__gte=timezone.now() - UPLOAD_KEPT)


def upload_recheck(*, upload: ImportUpload, user) -> ImportReport:
    """Check a kept file again (after labels were mapped): the dry run as it stands now, whose
    versions the apply then holds the file to."""
    report = import_prepare(campaign=upload.campaign, user=user, data=bytes(upload.data), filename=upload.filename,
                            coordinate_system=upload.coordinate_system)
    ImportUpload.objects.filter(pk=upload.pk).update(seen_versions=report.seen_versions)
    return report

