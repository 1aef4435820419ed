"""What the upload guards cost: `python bench/uploads.py FILE.xlsx` (e.g. an export of 50,000 rows).

Times, in turns so that the machine's load hits both alike, (1) the read as it was before
the guards (calamine in this process), (2) the checks alone and (3) the guarded read
(checks, then calamine in a child process, rows sent back); then the peak RSS of a
process that refuses three bombs. Prints a Markdown table; not part of the tests.
"""

import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")

import django  # noqa: E402

django.setup()

from python_calamine import CalamineWorkbook  # noqa: E402

from taizhang.core import workbook_reader  # noqa: E402
from taizhang.core.tabular import _read_in_child  # noqa: E402
from taizhang.core.workbook_checks import Limits, check_workbook  # noqa: E402

TURNS = 5


def in_process(data):
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return [list(workbook_reader.sheet_rows(book, name)) for name in book.sheet_names]


def guarded(data):
    check_workbook(data, Limits.from_settings())
    return _read_in_child(data, None)


def main():
    data = Path(sys.argv[1]).read_bytes()
    jobs = {"before: calamine in process": in_process, "checks alone": lambda d: check_workbook(
        d, Limits.from_settings()), "after: checks + child reader": guarded}
    seconds = {name: [] for name in jobs}
    for _turn in range(TURNS):
        for name, job in jobs.items():
            start = time.perf_counter()
            job(data)
            seconds[name].append(time.perf_counter() - start)
    print("| read of %s (%.1f MB), median of %d turns | seconds |" % (Path(sys.argv[1]).name, len(data) / 1e6, TURNS))
    print("| --- | ---: |")
    for name, values in seconds.items():
        print("| %s | %.2f |" % (name, statistics.median(values)))
    sys.path.insert(0, str(ROOT / "tests" / "ledger"))
    from test_workbook_bombs import PEAK, bombs

    for name, bomb in bombs().items():
        done = subprocess.run([sys.executable, "-c", PEAK], input=bomb, capture_output=True, check=True)
        result = json.loads(done.stdout)
        print("| refusing %s (%d bytes): peak RSS %.0f MB, child %.0f MB | %s |"
              % (name, len(bomb), result["mb"], result["children_mb"], result["message"][:60]))


if __name__ == "__main__":
    main()
