"""Read a workbook with calamine in a child process of its own, under a memory limit.

Run as a script by `tabular.read_workbook` (stdlib and python_calamine only, so that it
starts in tens of milliseconds): the file's bytes come on stdin, and one pickle goes to
stdout, the sheets' rows or why there are none. Whatever calamine does with a hostile
file (an allocation it cannot get aborts the process) happens here, not in the web
process, which then answers with a refusal.

    python workbook_reader.py MEMORY_LIMIT_BYTES [SHEET]
"""

import io
import pickle
import resource
import sys
from collections.abc import Iterator
from itertools import islice

OUT_OF_MEMORY = 3
BATCH = 2000


def sheet_rows(book, name: str) -> Iterator[tuple[int, list]]:
    """Rows with real 1-based row numbers and 0-based column positions, blank cells None.

    Trailing blank cells are dropped (the reader pads rows to the header's width): fewer
    to pickle.
    """
    worksheet = book.get_sheet_by_name(name)
    if worksheet.start is None:  # no cells at all
        return
    # iter_rows() pads the empty rows above the data but not the empty columns to its
    # left: pad those so that column indexes match the sheet's.
    left = [None] * worksheet.start[1]
    for number, cells in enumerate(worksheet.iter_rows(), start=1):
        cells = left + [None if c.__class__ is str and not c.strip() else c for c in cells]
        while cells and cells[-1] is None:
            cells.pop()
        yield number, cells


def read(data: bytes, sheet: str | None, send) -> None:
    """send() each message in turn: ("sheet", name), ("rows", [...]) batches, then ("end",)
    or ("no-sheet", names) or ("unreadable",)."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if sheet is not None:
            if sheet not in book.sheet_names:
                send(("no-sheet", list(book.sheet_names)))
                return
            names = [sheet]
        else:
            names = [meta.name for meta in book.sheets_metadata
                     if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet]
        for name in names:
            send(("sheet", name))
            rows = sheet_rows(book, name)
            while batch := list(islice(rows, BATCH)):
                send(("rows", batch))
    except (CalamineError, ValueError, TypeError):
        # Calamine raises these for truncated or corrupt files.
        send(("unreadable",))
        return
    send(("end",))


def main() -> None:
    limit = int(sys.argv[1])
    # Address space, not resident memory: an allocation past it fails at once, before
    # any page is touched, so the child never weighs on the machine.
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sheet = sys.argv[2] if len(sys.argv) > 2 else None
    out = sys.stdout.buffer

    def send(message):
        # Batches go out as they are read, so that the parent unpickles one while the
        # child reads the next; no memo (`fast`): every value is new, and it halves dumps.
        pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.fast = True
        pickler.dump(message)

    try:
        read(sys.stdin.buffer.read(), sheet, send)
        out.flush()
    except MemoryError:
        sys.exit(OUT_OF_MEMORY)


if __name__ == "__main__":
    main()
