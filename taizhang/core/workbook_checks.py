"""Size and shape checks on an uploaded workbook, made before any parser reads it.

Calamine turns a sheet into one dense block from its first to its last cell with a
value: two cells at A1 and XFD1048576 ask for 17 billion cells (hundreds of GB), and a
1.6 KB file aborted the whole process. These checks bound what calamine will be asked
for, reading the zip's directory and streaming each worksheet's XML in chunks: memory
stays bounded whatever the file declares.

A worksheet is checked in one of two ways:
- with a declared <dimension> inside the caps, one pass of a regular expression looks
  for a cell reference outside it (or a cell without one); none found, the declared
  block is the bound. This is the fast path every Excel, WPS or XlsxWriter file takes
  (about the time zlib takes to inflate the sheet);
- otherwise every cell's position is worked out as calamine does (expat, streamed),
  and the block they span is checked against the caps.

Legacy .xls (OLE) files are refused: see `check_workbook`.
"""

import re
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pyexpat import ExpatError, ParserCreate

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
CHUNK = 1 << 20
# The ratio is only a sign of a bomb on parts big enough to matter.
RATIO_FROM_BYTES = 1 << 20
# A start tag is at most this long; a longer one is a file built to slip past the scan.
MAX_TAG = 64 * 1024
SHEET_REL = "/relationships/worksheet"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
CELL_REF = re.compile(r"^([A-Z]{1,3})([0-9]{1,7})$")


class WorkbookRefused(Exception):
    """The workbook is over a limit or malformed; str(exc) names which, for the user."""


@dataclass(frozen=True)
class Limits:
    """Caps on one uploaded workbook (settings TAIZHANG_IMPORT_MAX_*)."""

    rows: int  # a worksheet's rows, first to last cell with a value
    columns: int
    cells: int  # rows × columns of a worksheet's block, and of all worksheets together
    uncompressed: int  # bytes of all parts inflated
    ratio: int  # inflated / compressed bytes of one part
    parts: int  # files in the zip

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(rows=settings.TAIZHANG_IMPORT_MAX_SHEET_ROWS, columns=settings.TAIZHANG_IMPORT_MAX_COLUMNS,
                   cells=settings.TAIZHANG_IMPORT_MAX_CELLS, uncompressed=settings.TAIZHANG_IMPORT_MAX_UNCOMPRESSED,
                   ratio=settings.TAIZHANG_IMPORT_MAX_RATIO, parts=settings.TAIZHANG_IMPORT_MAX_PARTS)


def check_workbook(data: bytes, limits: Limits) -> None:
    """Raise WorkbookRefused unless calamine can read `data` within `limits`.

    .xls is refused rather than checked: calamine's reader builds the same dense block
    (up to 65,536 × 256 cells, over 500 MB, from a file of a few KB), and bounding it
    beforehand would take an OLE and BIFF parser of our own. Excel and WPS save .xlsx.
    """
    if data.startswith(OLE_MAGIC):
        raise WorkbookRefused(_("Old-style Excel files (.xls) are not accepted: open the file in Excel or WPS, "
                                "save it as an Excel workbook (.xlsx) and upload that."))
    try:
        book = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise WorkbookRefused(_unreadable()) from None
    with book:
        infos = book.infolist()
        _check_directory(infos, limits)
        names = _sheet_parts(book, limits)
        spent = 0
        total_cells = 0
        for info in infos:
            sheet = names.get(info.filename)
            if sheet is None and info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                sheet = info.filename  # a worksheet part the workbook does not name: checked all the same
            budget = _Budget(book, info, limits.uncompressed - spent, limits)
            if sheet is None:
                for _chunk in budget.chunks():
                    pass
            else:
                total_cells += _check_sheet(budget, sheet, limits)
            spent += budget.read
            if total_cells > limits.cells:
                raise WorkbookRefused(_(
                    "The sheets together span %(cells)s cells; the limit is %(limit)s. "
                    "Delete the sheets that are not the table to import, or the empty rows and columns around it.")
                    % {"cells": _n(total_cells), "limit": _n(limits.cells)})


def _unreadable() -> str:
    return _("The file is not a readable Excel (.xlsx) or CSV file.")


def _n(number: int) -> str:
    return f"{number:,}"


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """What the zip declares: the number of parts, their sizes and compression ratios."""
    if len(infos) > limits.parts:
        raise WorkbookRefused(_("The file holds %(parts)s parts; the limit is %(limit)s.")
                              % {"parts": _n(len(infos)), "limit": _n(limits.parts)})
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_FROM_BYTES and info.file_size > limits.ratio * max(info.compress_size, 1):
            raise WorkbookRefused(_(
                "Part “%(part)s” of the file expands %(ratio)s times; the limit is %(limit)s times.")
                % {"part": info.filename, "ratio": _n(info.file_size // max(info.compress_size, 1)),
                   "limit": _n(limits.ratio)})
        if total > limits.uncompressed:
            raise _too_big(limits)


def _too_big(limits: Limits) -> WorkbookRefused:
    return WorkbookRefused(_("The file expands to more than %(limit)s when unzipped; that is the limit.")
                           % {"limit": filesizeformat(limits.uncompressed)})


def _open(book: zipfile.ZipFile, info: zipfile.ZipInfo):
    try:
        return book.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError):
        raise WorkbookRefused(_unreadable()) from None


class _Budget:
    """Streams one part, counting the bytes it really inflates to (a declared size can lie).

    Each pass over the part may spend the part's whole allowance; `read` keeps the largest.
    """

    def __init__(self, book: zipfile.ZipFile, info: zipfile.ZipInfo, allowance: int, limits: Limits):
        self.book, self.info, self.allowance, self.limits, self.read = book, info, allowance, limits, 0

    def chunks(self):
        read = 0
        with _open(self.book, self.info) as stream:
            while True:
                try:
                    chunk = stream.read(CHUNK)
                except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError):
                    raise WorkbookRefused(_unreadable()) from None
                if not chunk:
                    return
                read += len(chunk)
                self.read = max(self.read, read)
                if read > self.allowance:
                    raise _too_big(self.limits)
                yield chunk


def _sheet_parts(book: zipfile.ZipFile, limits: Limits) -> dict[str, str]:
    """{worksheet part name: sheet name}, from xl/workbook.xml and its relationships.

    Both parts are small in any real file; they are streamed under the byte budget, into
    expat, whose entity expansion is capped (billion laughs).
    """
    try:
        rels = {rel["Id"]: rel["Target"]
                for rel in _elements(book, "xl/_rels/workbook.xml.rels", "%s Relationship" % PKG_REL_NS, limits)
                if rel.get("Type", "").endswith(SHEET_REL) and "Id" in rel and "Target" in rel}
        sheets = _elements(book, "xl/workbook.xml", "%s sheet" % MAIN_NS, limits)
    except KeyError:
        return {}
    parts = {}
    for sheet in sheets:
        target = rels.get(sheet.get("%s id" % REL_NS, ""))
        if target:
            part = target[1:] if target.startswith("/") else "xl/" + target
            parts[_normalise(part)] = sheet.get("name", part)
    return parts


def _normalise(path: str) -> str:
    out = []
    for piece in path.split("/"):
        if piece == "..":
            if out:
                out.pop()
        elif piece not in ("", "."):
            out.append(piece)
    return "/".join(out)


def _elements(book: zipfile.ZipFile, part: str, tag: str, limits: Limits) -> list[dict]:
    """The attributes of every `tag` element (namespace-qualified) in a small part."""
    found = []
    parser = ParserCreate(namespace_separator=" ")

    def start(name, attrs):
        if name == tag:
            found.append(attrs)

    parser.StartElementHandler = start
    budget = _Budget(book, book.getinfo(part), limits.uncompressed, limits)
    try:
        for chunk in budget.chunks():
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except ExpatError:
        raise WorkbookRefused(_unreadable()) from None
    return found


def _check_sheet(budget: _Budget, sheet: str, limits: Limits) -> int:
    """The number of cells in the block calamine will build for a worksheet, within the caps."""
    chunks = budget.chunks()
    first = next(chunks, b"")
    box = _declared_box(first)
    if box is not None:
        rows, columns = box[2] - box[0] + 1, box[3] - box[1] + 1
        _check_extent(sheet, rows, columns, limits, declared=True)
        rounded_rows, rounded_columns = _rounded(box)
        if (rounded_rows <= limits.rows and rounded_columns <= limits.columns
                and rounded_rows * rounded_columns <= limits.cells
                and _nothing_outside(first, chunks, _outside(rounded_rows, rounded_columns))):
            return rounded_rows * rounded_columns
    else:
        chunks.close()
    # No dimension, or a cell outside it or without a reference: place every cell.
    return _exact_extent(budget.chunks(), sheet, limits)


def _declared_box(first: bytes) -> tuple[int, int, int, int] | None:
    """(first row, first column, last row, last column) of <dimension ref="A1:W50002">, 1-based."""
    found = DIMENSION.search(first[:MAX_TAG])
    if not found:
        return None
    ends = found.group(1).decode("ascii", "replace").strip().split(":")
    try:
        (top, left), (bottom, right) = _position(ends[0]), _position(ends[-1])
    except ValueError:
        return None
    return min(top, bottom), min(left, right), max(top, bottom), max(left, right)


def _position(ref: str) -> tuple[int, int]:
    """(row, column), 1-based, of a reference such as "W50002"."""
    match = CELL_REF.match(ref)
    if not match or int(match.group(2)) == 0:
        raise ValueError(ref)
    column = 0
    for letter in match.group(1):
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)), column


def _check_extent(sheet: str, rows: int, columns: int, limits: Limits, *, declared: bool) -> None:
    params = {"sheet": sheet, "rows": _n(rows), "columns": _n(columns)}
    if declared:
        where = _("Sheet “%(sheet)s” declares %(rows)s rows × %(columns)s columns") % params
    else:
        where = _("Sheet “%(sheet)s” has cells over %(rows)s rows × %(columns)s columns") % params
    if rows > limits.rows:
        limit = _("the limit is %(limit)s rows.") % {"limit": _n(limits.rows)}
    elif columns > limits.columns:
        limit = _("the limit is %(limit)s columns.") % {"limit": _n(limits.columns)}
    elif rows * columns > limits.cells:
        limit = _("the limit is %(limit)s cells.") % {"limit": _n(limits.cells)}
    else:
        return
    hint = _("Delete the empty rows and columns around the table (or stray cells far from it) and save again.")
    raise WorkbookRefused("%s; %s %s" % (where, limit, hint))


def _nothing_outside(first: bytes, chunks, pattern: re.Pattern) -> bool:
    """True when nothing in the sheet matches `pattern` (see `_outside`).

    Only the exceptions match, so a well-formed sheet costs one pass of the regular
    expression engine and no Python step per cell.
    """
    carry = b""
    for chunk in _with_first(first, chunks):
        text = carry + chunk
        # A tag cut by the chunk's end is carried whole into the next chunk.
        cut = text.rfind(b"<")
        if cut != -1 and text.find(b">", cut) == -1:
            text, carry = text[:cut], text[cut:]
            if len(carry) > MAX_TAG:
                return False
        else:
            carry = b""
        # A namespace prefix on cells (<x:c>) is legal but unusual: the exact pass handles it.
        if pattern.search(text) or b":c" in text:
            chunks.close()
            return False
    return not (carry and pattern.search(carry))


def _with_first(first, chunks):
    if first:
        yield first
    yield from chunks


def _rounded(box) -> tuple[int, int]:
    """(rows, columns) of a block from A1 a little larger than `box`, easy to write as a pattern.

    The last row keeps its first two digits and the rest become 9s (50002 -> 50999); the
    last column keeps its first letter and the rest become Z (W -> W, GR -> GZ).
    """
    bottom, right = box[2], box[3]
    digits = str(bottom)
    rows = int(digits[:2] + "9" * (len(digits) - 2)) if len(digits) > 2 else bottom
    letters = _letters(right)
    columns = _column(letters[0] + "Z" * (len(letters) - 1)) if len(letters) > 1 else right
    return rows, columns


def _outside(rows: int, columns: int) -> re.Pattern:
    """A <c> that is not `<c r="A1"` with A1 inside the `rows` × `columns` block from A1.

    Every spreadsheet program writes cells that way. The pattern starts with the literal
    `<c`, which the engine finds quickly, and looks ahead once for what a cell in the block
    looks like: a reference of capitals within the block's columns, a row number within its
    rows (leading zeros allowed) and the closing quote. A cell that is anything else matches:
    a reference past the block, on row 0 or not plain capitals and digits, a <c> whose first
    attribute is not r (a cell calamine places by position). Elements that merely start with
    c (cols, cfRule, customSheetViews, cellWatches) do not match. One lookahead per cell,
    rather than trying each way of being outside in turn: half the time on a sheet of
    half a million cells.
    """
    return re.compile((r"""<c(?![ofueh]| r="(?:%s)0*(?:%s)")""" % (_columns_within(columns), _rows_within(rows)))
                      .encode())


def _columns_within(columns: int) -> str:
    """Column letters up to `columns`, which is Z, or ?Z with one letter before, or ?ZZ."""
    letters = _letters(columns)
    if len(letters) == 1:
        return "[A-%s]" % letters
    return "[A-Z]{1,%d}|[A-%s][A-Z]{%d}" % (len(letters) - 1, letters[0], len(letters) - 1)


def _rows_within(rows: int) -> str:
    """Row numbers from 1 up to `rows` (a number whose digits after the second are all 9),
    without leading zeros."""
    digits = str(rows)
    if len(digits) == 1:
        return "[1-%s]" % digits
    found = ["[1-9][0-9]{0,%d}" % (len(digits) - 2)]  # fewer digits
    tail = "[0-9]{%d}" % (len(digits) - 2)
    if digits[0] != "1":
        found.append("[1-%d][0-9]%s" % (int(digits[0]) - 1, tail))
    found.append("%s[0-%s]%s" % (digits[0], digits[1], tail))
    return "|".join(found)


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _column(letters: str) -> int:
    return _position(letters + "1")[1]


def _letters(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Placer:
    """Places cells as calamine does: by their reference, else just after the previous one."""

    def __init__(self):
        self.row = 0  # 1-based row of the current <row>
        self.column = 0  # column of the previous cell in it
        self.cell = None
        self.top = self.left = None
        self.bottom = self.right = 0

    def start(self, name, attrs):
        local = name.rpartition(" ")[2]
        if local == "row":
            number = attrs.get("r", "")
            self.row = int(number) if number.isdigit() and number.isascii() else self.row + 1
            self.column = 0
        elif local == "c":
            try:
                self.cell = _position(attrs["r"].upper())
            except (KeyError, ValueError):
                self.cell = (self.row, self.column + 1)
            self.column = self.cell[1]
        elif local in ("v", "is") and self.cell is not None:
            row, column = self.cell
            self.top = row if self.top is None else min(self.top, row)
            self.left = column if self.left is None else min(self.left, column)
            self.bottom, self.right = max(self.bottom, row), max(self.right, column)
            self.cell = None

    def end(self, name):
        if name.rpartition(" ")[2] == "c":
            self.cell = None


def _exact_extent(chunks, sheet: str, limits: Limits) -> int:
    """The block spanned by the cells with a value, each placed by calamine's rule, streamed."""
    placer = _Placer()
    parser = ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = placer.start
    parser.EndElementHandler = placer.end
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
            if placer.top is not None:
                _check_extent(sheet, placer.bottom - placer.top + 1, placer.right - placer.left + 1, limits,
                              declared=False)
        parser.Parse(b"", True)
    except ExpatError:
        raise WorkbookRefused(_unreadable()) from None
    if placer.top is None:
        return 0
    return (placer.bottom - placer.top + 1) * (placer.right - placer.left + 1)
