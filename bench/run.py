"""Benchmark Taizhang at ledger scale: `make bench` (or `make bench BENCH_ARGS="--targets 50000"`).

In a throwaway database: generate a demo ledger, export it, read it back with bare
calamine (the floor), import 50,000 new rows and 50,000 changed rows, each in a child
process of its own, and time the ledger page; print the figures beside the issue's
goals and write them into docs/benchmarks.md. Not part of the test suite.
"""

import argparse
import json
import os
import pstats
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter
from urllib.parse import urlsplit

import report

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(1, str(ROOT))  # after bench/ itself, whose modules are imported by name
CHILD = BENCH / "child.py"
DOCS = ROOT / "docs" / "benchmarks.md"
FLOOR_RUNS = 3
IMPORT_SLUG = "bench-import"
PAGE_USERS = ("office", "street")  # campaign-wide and one street's demo accounts


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=50_000, help="rows in the demo ledger (default 50000)")
    parser.add_argument("--requests", type=int, default=200, help="ledger page requests per user (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests first (default 10)")
    parser.add_argument("--database-url", help="a PostgreSQL server, postgres://USER@HOST:PORT/DB: a fresh "
                        "database is created there for the run and dropped after (default: SQLite in a temp dir)")
    parser.add_argument("--profile", action="store_true",
                        help="profile the imports and the page requests (cProfile) and print the top calls; "
                        "the imports' seconds then include the profiler's overhead, so docs/ is left alone")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, files, profiles)")
    parser.add_argument("--no-docs", action="store_true", help="print the figures only; leave docs/ alone")
    return parser.parse_args()


def shown_command(argv: list[str]) -> str:
    """The make command that reproduces this run, with any database password left out."""
    if not argv:
        return "make bench"
    shown = [urlsplit(a)._replace(netloc=urlsplit(a).netloc.rpartition("@")[2]).geturl() if "://" in a else a
             for a in argv]
    return 'make bench BENCH_ARGS="%s"' % shlex.join(shown)


@contextmanager
def scratch_database(url: str | None, work: Path):
    """The database URL for this run: a new SQLite file, or a PostgreSQL database dropped afterwards."""
    if not url:
        yield "sqlite:///%s" % (work / "bench.sqlite3")
        return
    import psycopg

    name = "taizhang_bench_%d" % os.getpid()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute('CREATE DATABASE "%s"' % name)
    try:
        yield urlsplit(url)._replace(path="/" + name).geturl()
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


@contextmanager
def step(text: str):
    print("→ %s" % text, flush=True)
    start = perf_counter()
    yield
    print("  done in %.1f s" % (perf_counter() - start), flush=True)


def run_child(env: dict, *args: str) -> dict:
    """bench/child.py's JSON result (seconds, peak RSS) plus the child's wall time."""
    start = perf_counter()
    proc = subprocess.run([sys.executable, str(CHILD), *args], env=env, stdout=subprocess.PIPE, text=True)
    if proc.returncode:
        sys.exit("bench/child.py %s failed with exit status %d" % (shlex.join(args), proc.returncode))
    return {**json.loads(proc.stdout.splitlines()[-1]), "wall": perf_counter() - start}


def read_floor(env: dict, path: Path) -> dict:
    runs = [run_child(env, "read", str(path)) for _i in range(FLOOR_RUNS)]
    return {"seconds": statistics.median(r["seconds"] for r in runs), "cpu": statistics.median(r["cpu"] for r in runs),
            "rows": runs[0]["rows"],
            "rss_mb": max(r["rss_mb"] for r in runs), "runs": FLOOR_RUNS}


def timed_import(env: dict, work: Path, spec: dict, profile: bool) -> dict:
    """One import in a child process, with the calamine floor of the same file."""
    with step("floor: calamine reads %s (%d runs)" % (spec["path"].name, FLOOR_RUNS)):
        floor = read_floor(env, spec["path"])
    args = ["import", str(spec["path"]), "--campaign", spec["campaign"]]
    args += ["--user", spec["user"]] if spec["user"] else []
    if profile:
        args += ["--profile", str(work / ("import-%s.prof" % spec["key"]))]
    with step("import %s" % spec["name"]):
        result = run_child(env, *args)
    return {**spec, **result, "file": spec["path"].name, "floor": floor, "rows": spec["rows"]}


def bench(args, work: Path, env: dict) -> tuple[dict, str]:
    import django

    django.setup()
    import steps
    from django.db import connections

    results = {"targets": args.targets, "warmup": args.warmup, "page_size": steps.PAGE_SIZE}
    with step(f"migrate, load the preset, generate a demo ledger of {args.targets:,} targets"):
        campaign, results["demo"] = steps.prepare(args.targets)
    export_path, changed_path = work / "export.xlsx", work / "changed-population.xlsx"
    with step("export every row to .xlsx with export_ledger"):
        results["export"] = steps.export(campaign, export_path)
    results["pages"] = [steps.page_latency(campaign, user, args.requests, args.warmup,
                                           profile=work / ("page-%s.prof" % user) if args.profile else None)
                        for user in PAGE_USERS]
    with step("write the import files and an empty campaign to import into"):
        steps.write_changed(campaign, changed_path)
        steps.fresh_campaign(IMPORT_SLUG)
        population = steps.population_sum(campaign)
    database = steps.database_label()
    connections.close_all()  # the children write; the bench holds no connection meanwhile
    rows = results["export"]["rows"]
    specs = [
        {"key": "a", "short": "(a)", "name": f"(a) {rows:,} new targets into an empty campaign",
         "path": export_path, "campaign": IMPORT_SLUG, "user": None, "rows": rows},
        {"key": "b", "short": "(b)", "name": f"(b) {rows:,} rows each changing one field",
         "path": changed_path, "campaign": campaign.slug, "user": "office", "rows": rows},
    ]
    results["imports"] = [timed_import(env, work, spec, args.profile) for spec in specs]
    # A bench that timed an import which wrote nothing would be worse than none.
    assert steps.target_count(IMPORT_SLUG) == rows, "import (a) did not create every target"
    assert steps.population_sum(campaign) == population + rows, "import (b) did not change every row"
    connections.close_all()
    return results, database


def print_profiles(work: Path) -> None:
    for path in sorted(work.glob("*.prof")):
        print("\n=== cProfile of %s, by cumulative time ===" % path.stem)
        pstats.Stats(str(path)).sort_stats("cumulative").print_stats(30)
        print("=== %s, by own time ===" % path.stem)
        pstats.Stats(str(path)).sort_stats("tottime").print_stats(20)


def main() -> None:
    args = parse_args()
    args.no_docs = args.no_docs or args.profile  # profiled imports are slower than real ones
    load = report.load_average()
    if float(load.split()[0]) >= 0.5:
        print("warning: load average %s before starting: other work will inflate the figures" % load)
    work = Path(tempfile.mkdtemp(prefix="taizhang-bench-"))
    try:
        with scratch_database(args.database_url, work) as url:
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "taizhang.settings", "TAIZHANG_DATA_DIR": str(work),
                   "TAIZHANG_DATABASE_URL": url, "TAIZHANG_DEBUG": "0",
                   "TAIZHANG_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
                   # The production profile wants a key of its own; the test client speaks plain HTTP.
                   "TAIZHANG_SECRET_KEY": secrets.token_urlsafe(50), "TAIZHANG_HTTPS": "0",
                   "TAIZHANG_CHAIN_KEY": secrets.token_hex(32)}
            os.environ.update(env)  # before django.setup(): settings read the environment once
            results, database = bench(args, work, env)
        if args.profile:
            print_profiles(work)
        section = report.render(results, report.machine(database, load), shown_command(sys.argv[1:]))
        print("\n" + section)
        if not args.no_docs:
            report.write_docs(DOCS, section, "postgresql" if args.database_url else "sqlite")
            print("\nwritten to %s" % DOCS.relative_to(ROOT))
    finally:
        if args.keep:
            print("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
