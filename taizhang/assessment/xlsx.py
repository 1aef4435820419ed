"""A performance record as an .xlsx: one sheet per part, the rows the page shows."""

from urllib.parse import quote

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.ledger.exporting import FILENAME_MAX, UNSAFE_IN_NAMES
from taizhang.supervision.selectors import Timeliness

from .records import Record


def record_filename(campaign, title: str) -> str:
    name = UNSAFE_IN_NAMES.sub("_", "-".join([_("Performance record"), title]))[:FILENAME_MAX]
    return quote("%s-%s.xlsx" % (name, timezone.localdate().strftime("%Y%m%d")))


def _person(user) -> str:
    return user.get_full_name() or user.get_username() if user else ""


def write_record(out, record: Record, *, title: str) -> None:
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    heading = workbook.add_format({"bold": True, "font_size": 14})
    parts = [
        (_("Commendations"), [_("Recorded"), _("Person"), _("Unit"), _("For what"), _("Supervision order")],
         [[timezone.localdate(c.recorded_at).isoformat(), _person(c.person), c.unit.name, c.text,
           c.order.number if c.order else ""]
          for c in record.commendations]),
        (_("Accountability"),
         [_("Recorded"), _("Person"), _("Unit"), _("Outcome"), _("Reason"), _("Supervision order")],
         [[timezone.localdate(a.recorded_at).isoformat(), _person(a.person), a.unit.name,
           _("no fault found") if a.outcome == "no_fault" else a.outcome, a.reason, a.referral.order.number]
          for a in record.outcomes]),
        (_("Supervision orders"), [_("Number"), _("Subject"), _("Sent to"), _("Deadline"), _("State"), _("On time")],
         [[o.number, o.subject, o.receiver.name, o.deadline.isoformat(), str(o.get_state_display()),
           str(Timeliness(o.timeliness).label)] for o in record.orders]),
    ]
    for name, columns, rows in parts:
        sheet = workbook.add_worksheet(str(name)[:31])
        sheet.write_string(0, 0, title, heading)
        for c, column in enumerate(columns):
            sheet.set_column(c, c, 18)
            sheet.write_string(1, c, str(column), bold)
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row):
                sheet.write_string(r, c, str(value))
    workbook.close()

