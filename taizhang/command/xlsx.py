"""A chart's table as an .xlsx: the numbers the page shows beside the chart, nothing else."""

import datetime
from decimal import Decimal

import xlsxwriter
from django.utils.translation import gettext as _

from taizhang.ledger.exporting import FILENAME_MAX, UNSAFE_IN_NAMES

from .charts import Chart
from .progress import Scope


def chart_title(scope: Scope, chart: Chart) -> str:
    parts = [scope.campaign.name, chart.title]
    if scope.unit is not None:
        parts.append(scope.unit.name)
    parts.append(_("as it stood on %(day)s") % {"day": scope.day.isoformat()})
    return " · ".join(parts)


def chart_filename(scope: Scope, chart: Chart) -> str:
    name = "-".join([_("Command"), chart.title, *([scope.unit.name] if scope.unit else [])])
    name = UNSAFE_IN_NAMES.sub("_", name)[:FILENAME_MAX]
    return "%s-%s.xlsx" % (name, scope.day.strftime("%Y%m%d"))


def write_chart(out, chart: Chart, *, title: str) -> None:
    workbook = xlsxwriter.Workbook(out, {
        "constant_memory": True,
        # A street or unit name starting with "=" stays text: no cell is ever a formula or a link.
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })
    sheet = workbook.add_worksheet(chart.id)
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True})
    heading = workbook.add_format({"bold": True, "font_size": 14})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(0, 0, title, heading)
    for c, column in enumerate(chart.columns):
        sheet.set_column(c, c, 14 if c else 24)
        sheet.write_string(1, c, str(column), bold)
    for r, row in enumerate(chart.rows, start=2):
        for c, cell in enumerate(row):
            value = cell.value
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_string(r, c, cell.text)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, round(value, 1) if isinstance(value, float) else value)
            elif isinstance(value, Decimal):
                sheet.write_number(r, c, float(value))
            elif isinstance(value, datetime.date):
                sheet.write_datetime(r, c, value, day)
            else:
                sheet.write_string(r, c, cell.text)
    sheet.freeze_panes(2, 1)
    workbook.close()
