"""Two versions of the code compared on the same machine at the same time, in CPU seconds.

    python bench/ab.py OLD_CHECKOUT NEW_CHECKOUT [--rows 50000] [--turns 3]

Absolute times on a shared machine swing with its load; two versions run alternately
(old/new, new/old, …), each turn in fresh processes, are loaded alike. Each process builds the
same demo ledger with its own version's `bench/steps.py` in a throwaway SQLite database, then
times the bare calamine read of the export (three times, the fastest kept) and both imports
of `bench/run.py` with `time.process_time()`. Prints the medians and new/old.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(root: Path, rows: int) -> dict:
    """In this process: the version at `root`, its ledger built, read and imported."""
    work = Path(tempfile.mkdtemp(prefix="taizhang-ab-"))
    os.environ.update({"TAIZHANG_DATABASE_URL": "sqlite:///%s" % (work / "db.sqlite3"), "TAIZHANG_DATA_DIR": str(work),
                       "DJANGO_SETTINGS_MODULE": "taizhang.settings"})
    os.environ.setdefault("TAIZHANG_CHAIN_KEY", "bench-ab-" + "0" * 32)
    sys.path[:0] = [str(root), str(root / "bench")]
    os.chdir(root)
    import django

    django.setup()
    import steps
    from django.core.management import call_command
    from python_calamine import CalamineWorkbook

    campaign, _demo = steps.prepare(rows)
    export, changed = work / "export.xlsx", work / "changed.xlsx"
    steps.export(campaign, export)
    steps.write_changed(campaign, changed)
    steps.fresh_campaign("ab-import")

    def floor(path: Path) -> float:
        start = time.process_time()
        sum(1 for _row in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows())
        return time.process_time() - start

    def imported(path: Path, slug: str, user: str | None) -> float:
        start = time.process_time()
        with open(os.devnull, "w") as sink:
            call_command("import_ledger", str(path), "--campaign", slug, *(["--user", user] if user else []),
                         stdout=sink, stderr=sink)
        return time.process_time() - start

    return {"floor_a": min(floor(export) for _i in range(3)), "a": imported(export, "ab-import", None),
            "floor_b": min(floor(changed) for _i in range(3)), "b": imported(changed, campaign.slug, "office")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child.resolve(), args.rows)))
        return
    runs = {"old": [], "new": []}
    for turn in range(args.turns):
        for name in ("old", "new") if turn % 2 == 0 else ("new", "old"):
            root = getattr(args, name).resolve()
            out = subprocess.run([sys.executable, __file__, str(args.old), str(args.new), "--rows", str(args.rows),
                                  "--child", str(root)], check=True, stdout=subprocess.PIPE, text=True).stdout
            runs[name].append(json.loads(out.splitlines()[-1]))
            print("turn %d %s: %s" % (turn + 1, name, runs[name][-1]), file=sys.stderr)
    for key, label in (("a", "import (a) new targets"), ("b", "import (b) changed targets")):
        old, new = (statistics.median(run[key] for run in runs[name]) for name in ("old", "new"))
        floors = ["%.2f" % statistics.median(run["floor_" + key] for run in runs[name]) for name in ("old", "new")]
        print("%s: old %.2f s, new %.2f s CPU (floor %s / %s s): new/old %.3f"
              % (label, old, new, floors[0], floors[1], new / old))


if __name__ == "__main__":
    main()
