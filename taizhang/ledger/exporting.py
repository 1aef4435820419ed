"""Writing a ledger to .xlsx, today's or as it stood on a past day.

Rows are dicts in the change log's snapshot form, so today's ledger and a past day's
ledger go through the same writer and give the same file shape.
"""

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.campaigns.models import OrgUnit
from taizhang.core.coordinates import CoordinateSystem

from .asof import as_of_rows, snapshot_priority
from .columns import EXPORT_COLUMNS, TARGET, flag_labels
from .models import Target
from .selectors import ledger_snapshot_filter

VALUE_PATHS = {
    "target_type": "target_type__name", "street": "street__name", "system": "system__name",
    "responsible_unit": "responsible_unit__name",
}
STATE_LABELS = dict(Target.State.choices)
SYSTEM_LABELS = dict(CoordinateSystem.choices)


def current_rows(queryset) -> Iterator[dict]:
    """Rows for the targets in `queryset` as their snapshots keep them (columns.TARGET), in one query."""
    for _pk, row in TARGET.stored(queryset, paths=VALUE_PATHS):
        yield row


def write_xlsx(out, rows: Iterable[dict], *, title: str) -> int:
    """Write rows under a title row and one header row; returns the number of rows."""
    workbook = xlsxwriter.Workbook(out, {
        "constant_memory": True,
        # A name starting with "=" or "http" stays text: no exported cell is ever a formula or link.
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })
    sheet = workbook.add_worksheet(_("Ledger"))
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True})
    heading = workbook.add_format({"bold": True, "font_size": 14})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for index, column in enumerate(EXPORT_COLUMNS):
        sheet.set_column(index, index, column.width)
    sheet.merge_range(0, 0, 0, len(EXPORT_COLUMNS) - 1, title, heading)
    for index, column in enumerate(EXPORT_COLUMNS):
        sheet.write_string(1, index, str(column.header), bold)
    sheet.freeze_panes(2, 2)
    count = 0
    for count, row in enumerate(rows, start=1):
        _write_row(sheet, count + 1, row, date_format)
    sheet.autofilter(1, 0, max(count, 1) + 1, len(EXPORT_COLUMNS) - 1)
    workbook.close()
    return count


def _write_row(sheet, r: int, row: dict, date_format) -> None:
    for c, column in enumerate(EXPORT_COLUMNS):
        value = row.get(column.field)
        if value is None or value == "" or value == []:
            continue
        if column.field == "state":
            sheet.write_string(r, c, str(STATE_LABELS.get(value, value)))
        elif column.kind in ("decimal", "coordinate"):
            sheet.write_number(r, c, float(Decimal(value)))
        elif column.kind == "int":
            sheet.write_number(r, c, value)
        elif column.kind == "date":
            sheet.write_datetime(r, c, datetime.date.fromisoformat(value), date_format)
        elif column.kind == "bool":
            sheet.write_string(r, c, _("yes") if value else _("no"))
        elif column.kind == "flags":
            sheet.write_string(r, c, flag_labels(value))
        elif column.kind == "crs":
            sheet.write_string(r, c, SYSTEM_LABELS.get(value, value))
        elif column.field == "priority_reasons":
            sheet.write_string(r, c, "；".join(value))
        else:
            sheet.write_string(r, c, str(value))


@dataclass(frozen=True)
class LedgerLabel:
    """Which ledger an export holds, as its title and its file name say it: a street's, a
    system's or a unit's ledger (or, for a user who sees only part of the campaign, the units
    they see it through), the filters in force, and the day."""

    unit: OrgUnit | None = None
    scope: tuple[OrgUnit, ...] | None = None  # None: the user sees the whole campaign
    filters: tuple[str, ...] = ()
    as_of: datetime.date | None = None

    @property
    def ledger(self) -> str:
        if self.unit is not None:
            return self.unit.name
        if self.scope:
            return "、".join(unit.name for unit in self.scope)
        return _("whole ledger")

    def title(self, campaign) -> str:
        parts = [campaign.name, _("targets ledger"), self.ledger]
        if self.filters:
            parts.append(_("filtered by %(filters)s") % {"filters": "；".join(self.filters)})
        if self.as_of:
            parts.append(_("as it stood on %(day)s") % {"day": self.as_of.isoformat()})
        else:
            parts.append(_("exported %(time)s") % {"time": timezone.localtime().strftime("%Y-%m-%d %H:%M")})
        return " · ".join(parts)

    def filename(self) -> str:
        ledger = _("%(ledger)s ledger") % {"ledger": self.ledger} if self.unit or self.scope else self.ledger
        day = (self.as_of or timezone.localdate()).strftime("%Y%m%d")
        if self.as_of:
            day = _("as of %(day)s") % {"day": day}
        name = "-".join([ledger, *self.filters])
        # What a search brings in stays a name: no path separator or character Windows refuses.
        name = UNSAFE_IN_NAMES.sub("_", name)[:FILENAME_MAX]
        return "%s-%s.xlsx" % (name, day)


UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\s]+')
FILENAME_MAX = 120


def export_ledger(out, *, campaign, queryset, label: LedgerLabel = LedgerLabel()) -> int:
    """The one export both the page and `export_ledger` use; returns the row count."""
    if label.as_of:
        rows = as_of_rows(queryset, label.as_of, where=ledger_snapshot_filter(label.unit))
    else:
        rows = current_rows(queryset)
    return write_xlsx(out, with_priority_reasons(rows, campaign), title=label.title(campaign))


def with_priority_reasons(rows: Iterable[dict], campaign) -> Iterator[dict]:
    """Each row with its 重点理由 as the rules give it for the row (asof.snapshot_priority)."""
    reasons = snapshot_priority(campaign)
    for row in rows:
        yield {**row, "priority_reasons": reasons(row)}
