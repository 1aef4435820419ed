"""One measured job per process, started by bench/run.py.

A job runs alone in its own process so that the process's peak RSS is that job's
alone. It prints one JSON line on stdout: the job's own seconds (interpreter and Django
start-up excluded) and its CPU seconds (which other work on a shared machine does not
inflate; SQLite works inside the process, PostgreSQL's server does not), the process's
peak RSS and, for an import, its seconds per stage (bench/phases.py).

    python bench/child.py read FILE.xlsx
    python bench/child.py import FILE.xlsx --campaign SLUG [--user NAME] [--profile OUT.prof]
"""

import argparse
import cProfile
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read_floor(path: Path) -> dict:
    """The floor: calamine opens the workbook and walks every row of its sheet, nothing more."""
    from python_calamine import CalamineWorkbook

    start, cpu = time.perf_counter(), time.process_time()
    book = CalamineWorkbook.from_path(str(path))
    rows = sum(1 for _row in book.get_sheet_by_index(0).iter_rows())
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "rows": rows}


def import_file(path: Path, campaign: str, user: str | None, profile: str | None) -> dict:
    """The import exactly as `manage.py import_ledger FILE` runs it: read, validate, write, history."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from phases import breakdown, timed_stages

    args = [str(path), "--campaign", campaign, *(["--user", user] if user else [])]
    profiler = cProfile.Profile() if profile else None
    # The command prints every changed row; that report goes nowhere, its progress bar to stderr.
    with open(os.devnull, "w") as sink, timed_stages() as stages:
        start, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        call_command("import_ledger", *args, verbosity=1, stdout=sink, stderr=sys.stderr)
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler:
        profiler.dump_stats(profile)
    return {"seconds": seconds, "cpu": cpu, "stages": breakdown(stages, seconds)}


def peak_rss_mb() -> float:
    """This process's high-water RSS since exec, in MB.

    Not the parent's wait4()/getrusage(RUSAGE_CHILDREN) ru_maxrss: Linux carries the
    forking parent's RSS across exec into it, so every child of a 300 MB bench process
    would "peak" at 300 MB. VmHWM belongs to the address space exec created.
    """
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return kib * 1024 / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("job", choices=("read", "import"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--campaign")
    parser.add_argument("--user")
    parser.add_argument("--profile")
    args = parser.parse_args()
    if args.job == "read":
        result = read_floor(args.file)
    else:
        result = import_file(args.file, args.campaign, args.user, args.profile)
    print(json.dumps({**result, "rss_mb": peak_rss_mb()}), flush=True)


if __name__ == "__main__":
    main()
