"""Read an uploaded Excel or CSV table into rows keyed by its recognised header."""

import csv
import datetime
import io
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, islice
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from . import workbook_reader
from .parsing import clean_text
from .workbook_checks import OLE_MAGIC, ZIP_MAGIC, Limits, WorkbookRefused, check_workbook
from .workbook_reader import OUT_OF_MEMORY

HEADER_SCAN_ROWS = 20
MIN_HEADER_COLUMNS = 3
# Sheets formatted down to row 1,048,576 declare that many rows; a long run of
# blank rows is taken as the end of the data instead.
BLANK_RUN_LIMIT = 50
TOTAL_WORDS = frozenset({"合计", "小计", "总计", "共计"})
TOTAL_CHARACTER = "计"
READER = Path(__file__).with_name("workbook_reader.py")
# What the reader may send back besides plain values (calamine's dates and times).
READER_CLASSES = {("datetime", name) for name in ("date", "datetime", "time", "timedelta")}

Row = tuple[int, list]
# A sheet's name and a function that opens it as an iterator of rows.
Source = tuple[str, Callable[[], Iterator[Row]]]


@dataclass
class Problem:
    """One thing wrong with an imported file, a row or a cell (row None: the whole file)."""

    row: int | None
    column: str
    value: str
    message: str

    def __str__(self):
        if self.row is None:
            return self.message
        return _("Row %(row)s, column “%(column)s”: %(message)s") % {
            "row": self.row, "column": self.column, "message": self.message}


class TableError(Exception):
    """A problem with the whole file; str(exc) is a message for the user."""


@dataclass
class Table:
    """The data rows of one sheet and what its header columns mean."""

    sheet_name: str
    header_row: int  # 1-based row number of the last header row
    columns: dict[int, str]  # 0-based column index -> field
    unknown_columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)  # (1-based row number, cells)


@dataclass
class _Header:
    index: int  # position of the last header row among the scanned rows
    columns: dict[int, str]
    unknown: list[str]
    width: int


def read_table(
    data: bytes,
    *,
    filename: str,
    match_header: Callable[[str], str | None],
    required: Iterable[str],
    labels: dict[str, str] | None = None,
    sheet: str | None = None,
    max_rows: int = 100_000,
) -> Table:
    """Find the header in the first sheet that has one and return its data rows.

    The format is decided by content: a zip (xlsx) or OLE (xls) file is read
    with calamine, anything else named .csv as CSV. `sheet` picks a sheet by
    name (CSV has one, named after the file). Blank cells come back as None
    and each row has at least as many cells as the header.
    """
    if not data:
        raise TableError(_("The file is empty."))
    try:
        sheets = _sheets(data, filename, sheet)
        return _first_table(
            sheets,
            match_header=match_header,
            required=list(required),
            labels=labels or {},
            max_rows=max_rows,
        )
    except csv.Error:  # binary junk named .csv
        raise TableError(_unreadable()) from None


def _unreadable() -> str:
    return _("The file is not a readable Excel (.xlsx) or CSV file.")


def _sheets(data: bytes, filename: str, sheet: str | None) -> list[Source]:
    """The sheets to scan for a header, in order."""
    if data.startswith((ZIP_MAGIC, OLE_MAGIC)):
        return _workbook_sheets(data, sheet)
    if filename.lower().endswith(".csv"):
        return [(filename, partial(_csv_rows, _decode(data)))]
    raise TableError(_unreadable())


def _workbook_sheets(data: bytes, sheet: str | None) -> list[Source]:
    try:
        check_workbook(data, Limits.from_settings())
    except WorkbookRefused as exc:
        raise TableError(str(exc)) from None
    if settings.TAIZHANG_IMPORT_READER_CHILD:
        answer = _read_in_child(data, sheet)
    else:  # the checks above alone bound what calamine allocates
        answer = _read_here(data, sheet)
    if answer[0] == "no-sheet":
        raise TableError(
            _("The file has no sheet “%(sheet)s”; its sheets are %(sheets)s.")
            % {"sheet": sheet, "sheets": "、".join(answer[1])}
        )
    if answer[0] != "ok":
        raise TableError(_unreadable())
    return [(name, partial(iter, rows)) for name, rows in answer[1]]


def _read_here(data: bytes, sheet: str | None) -> tuple:
    """What workbook_reader.py would answer, read in this process."""
    sheets, answers = [], []

    def send(message):
        if message[0] == "sheet":
            sheets.append((message[1], []))
        elif message[0] == "rows":
            sheets[-1][1].extend(message[1])
        else:
            answers.append(message)

    workbook_reader.read(data, sheet, send)
    return ("ok", sheets) if answers[0][0] == "end" else answers[0]


def _read_in_child(data: bytes, sheet: str | None) -> tuple:
    """What workbook_reader.py answers, run in a child process under a memory limit.

    The child starts a bare interpreter (no Django), so a calamine crash or an allocation
    it cannot get ends the child only; a timer ends a file that takes too long. Rows come
    in batches, unpickled here while the child reads the next.
    """
    command = [sys.executable, "-I", str(READER), str(settings.TAIZHANG_IMPORT_READER_MEMORY)]
    if sheet is not None:
        command.append(sheet)
    seconds = settings.TAIZHANG_IMPORT_READER_SECONDS
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stopped = threading.Event()
    timer = threading.Timer(seconds, lambda: (stopped.set(), child.kill()))
    timer.start()
    answer, sheets = None, []
    try:
        with child:
            try:
                child.stdin.write(data)
                child.stdin.close()
            except BrokenPipeError:
                pass  # the child died reading: its exit status says why
            messages = _ReaderUnpickler(child.stdout)
            while answer is None:
                message = messages.load()
                if message[0] == "sheet":
                    sheets.append((message[1], []))
                elif message[0] == "rows":
                    sheets[-1][1].extend(message[1])
                else:
                    answer = message
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError):
        answer = None
    finally:
        timer.cancel()
    if answer is None or child.returncode != 0:
        if stopped.is_set():
            raise TableError(_("Reading the file took longer than %(seconds)s seconds; it was stopped.")
                             % {"seconds": seconds})
        if child.returncode < 0 or child.returncode == OUT_OF_MEMORY:  # an abort, or MemoryError
            raise TableError(_("The file could not be read within the memory allowed for one import "
                               "(%(limit)s MB); it was stopped.")
                             % {"limit": settings.TAIZHANG_IMPORT_READER_MEMORY // 10**6})
        raise TableError(_unreadable())
    if answer[0] == "end":
        return ("ok", sheets)
    return answer


class _ReaderUnpickler(pickle.Unpickler):
    """Plain values and calamine's date and time types only: the child read a hostile file."""

    def find_class(self, module, name):
        if (module, name) in READER_CLASSES:
            return getattr(datetime, name)
        raise pickle.UnpicklingError("%s.%s" % (module, name))


def _decode(data: bytes) -> str:
    if b"\x00" in data:  # a binary file, or UTF-16 we do not accept
        raise TableError(_unreadable())
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on Chinese Windows saves CSV as GBK, which gb18030 includes.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise TableError(_unreadable()) from None


def _csv_rows(text: str) -> Iterator[Row]:
    """Rows numbered by CSV record, which is the row Excel shows for the file."""
    reader = csv.reader(io.StringIO(text, newline=""))
    for number, cells in enumerate(reader, start=1):
        yield number, [c if c.strip() else None for c in cells]


def _first_table(sheets: list[Source], *, match_header, required, labels, max_rows) -> Table:
    saw_content = False
    for name, open_rows in sheets:
        rows = open_rows()
        scanned = list(islice(rows, HEADER_SCAN_ROWS + 1))
        header = _find_header(scanned, match_header)
        if header is None:
            saw_content = saw_content or not all(
                _is_blank(cells) for _, cells in chain(scanned, rows)
            )
            continue
        _check_required(header, required, labels)
        rest = chain(scanned[header.index + 1 :], rows)
        return Table(
            sheet_name=name,
            header_row=scanned[header.index][0],
            columns=header.columns,
            unknown_columns=header.unknown,
            rows=_data_rows(rest, header.width, max_rows),
        )
    if not saw_content:
        raise TableError(_("The file is empty."))
    raise TableError(
        _(
            "No header row found: expected columns such as %(required)s "
            "in the first 20 rows of sheets %(sheets)s."
        )
        % {
            "required": "、".join(labels.get(f, f) for f in required),
            "sheets": "、".join(name for name, _open in sheets),
        }
    )


def _find_header(scanned: list[Row], match_header) -> _Header | None:
    """The first row, or pair of rows, among `scanned` that names enough columns.

    A pair (upper, lower) is a two-row header with merged cells above, as in
    "面积" spanning "占地面积 | 出租面积". It is taken only when it recognises
    more columns than either row alone; otherwise a row alone is a header when
    it recognises at least MIN_HEADER_COLUMNS columns.
    """
    texts = [[clean_text(c) for c in cells] for _, cells in scanned]
    for i, upper in enumerate(texts[:HEADER_SCAN_ROWS]):
        single = _label_single(upper, match_header)
        if i + 1 < len(texts):
            lower = texts[i + 1]
            pair = _label_pair(upper, lower, match_header)
            alone = max(len(single.columns), len(_label_single(lower, match_header).columns))
            if len(pair.columns) >= MIN_HEADER_COLUMNS and len(pair.columns) > alone:
                pair.index = i + 1
                return pair
        if len(single.columns) >= MIN_HEADER_COLUMNS:
            single.index = i
            return single
    return None


def _label_single(texts: list[str], match_header) -> _Header:
    return _assign([(c, [text], text) for c, text in enumerate(texts) if text], match_header)


def _label_pair(upper: list[str], lower: list[str], match_header) -> _Header:
    """Label each column by trying lower, upper + lower, then upper.

    Calamine puts a merged cell's value in its top-left cell only, so the upper
    value is carried rightwards over empty upper cells for as long as the lower
    row has labels under them; a column empty in both rows ends the span.
    """
    cells = []
    carried = ""
    for c in range(max(len(upper), len(lower))):
        up = upper[c] if c < len(upper) else ""
        low = lower[c] if c < len(lower) else ""
        if up:
            carried = up
        elif not low:
            carried = ""
        if low:
            candidates = [low, carried + low, carried] if carried else [low]
            cells.append((c, candidates, low))
        elif up:
            cells.append((c, [up], up))
    return _assign(cells, match_header)


def _assign(cells: list[tuple[int, list[str], str]], match_header) -> _Header:
    """Map columns to fields; a field already taken by a column to the left is unknown."""
    columns: dict[int, str] = {}
    unknown: list[str] = []
    for c, candidates, shown in cells:
        taken = set(columns.values())
        found = next((f for f in map(match_header, candidates) if f and f not in taken), None)
        if found:
            columns[c] = found
        else:
            unknown.append(shown)
    width = max((c for c, _candidates, _shown in cells), default=-1) + 1
    return _Header(index=0, columns=columns, unknown=unknown, width=width)


def _check_required(header: _Header, required: list[str], labels: dict[str, str]) -> None:
    found = set(header.columns.values())
    missing = [labels.get(f, f) for f in required if f not in found]
    if missing:
        raise TableError(
            _("Required column missing: %(columns)s.") % {"columns": "、".join(missing)}
        )


def _data_rows(rows: Iterator[Row], width: int, max_rows: int) -> list[Row]:
    kept: list[Row] = []
    blank_run = 0
    for number, cells in rows:
        if _is_blank(cells):
            blank_run += 1
            if blank_run >= BLANK_RUN_LIMIT:
                break
            continue
        blank_run = 0
        if _is_total(cells):
            continue
        if len(kept) >= max_rows:
            raise TableError(_("The file has more than %(max)s rows.") % {"max": max_rows})
        if len(cells) < width:
            cells = cells + [None] * (width - len(cells))
        kept.append((number, cells))
    return kept


def _is_blank(cells: list) -> bool:
    return all(c is None for c in cells)


def _is_total(cells: list) -> bool:
    """A 合计 / 小计 row typed among the first three filled cells."""
    filled = islice((c for c in cells if c is not None), 3)
    for cell in filled:
        # Every word it looks for has 计: a cell without one (nearly all) needs no more look.
        if isinstance(cell, str) and TOTAL_CHARACTER in cell:
            # "合 计" and "小计：" are typed as often as "合计".
            text = "".join(cell.split()).rstrip(":：")
            if text in TOTAL_WORDS or text.startswith("合计"):
                return True
    return False
