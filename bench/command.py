"""Benchmark the command room at ledger scale: the dashboard and the map's data (`make bench`).

    python bench/command.py [--sizes 1000,50000] [--database-url postgres://…] [--requests 60]

For each size, in a throwaway database of its own and a process of its own: a ledger with a
whole campaign's history (bench/campaign_history.py), the projection the dashboard reads
brought up to date from the change log (timed), then each page as the leader (the whole
campaign) and a street user: the dashboard today, on a past day and for one street, the map's
points and areas. Each page is timed cold (the board cache emptied before each request: what
the first view after any write costs) and warm (nothing written between views: the board from
the cache, the map's data asked again by a browser that holds it, "not modified"), after
warm-up requests; its queries are counted; and beside each, its floor: the queries the page
ran on the ledger, its history and the projection, run again as bare SQL (each the median of
5), summed (the goal's floor: what the database must do for the page), and the heaviest
alone. Figures go to docs/benchmarks.md (one section per database). Not part of the test suite.
"""

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(1, str(ROOT))
DOCS = ROOT / "docs" / "benchmarks.md"
MARKERS = {"sqlite": "bench-command", "postgresql": "bench-command-postgresql"}
PAST_DAY = "2016-06-30"
GOAL_P95_MS = {"sqlite": 200, "postgresql": 500}
GOAL_FLOOR_RATIO = 3
FLOOR_RUNS = 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,50000", help="ledger sizes, comma-separated (default 1000,50000)")
    parser.add_argument("--requests", type=int, default=60, help="warm requests per page (default 60; cold: a "
                        "fifth of it, at least 5)")
    parser.add_argument("--database-url", help="a PostgreSQL server, postgres://USER@HOST:PORT/DB: a fresh database "
                        "is made there per size and dropped after (default: SQLite in a temp dir)")
    parser.add_argument("--no-docs", action="store_true", help="print the figures only; leave docs/ alone")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


# --- the parent: one child per size, then the report ------------------------------------------

def main() -> None:
    args = parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.requests)))
        return
    import report
    from run import scratch_database, shown_command

    load = report.load_average()
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="taizhang-command-") as work, \
                scratch_database(args.database_url, Path(work)) as url:
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "taizhang.settings", "TAIZHANG_DATA_DIR": work,
                   "TAIZHANG_DATABASE_URL": url, "TAIZHANG_CHAIN_KEY": secrets.token_hex(32)}
            print("→ %s targets: the ledger and its history" % f"{size:,}", flush=True)
            # The history is written under the demo clock, which only the development profile runs.
            generated = _child(["bench/campaign_history.py", str(size), "2015"], {**env, "TAIZHANG_DEBUG": "1"})
            print("  done in %.0f s; the pages" % generated["seconds"], flush=True)
            measured = _child(["bench/command.py", "--child", str(size), "--requests", str(args.requests)], {
                **env, "TAIZHANG_DEBUG": "0", "TAIZHANG_SECRET_KEY": secrets.token_urlsafe(50),
                "TAIZHANG_HTTPS": "0", "TAIZHANG_ALLOWED_HOSTS": "testserver"})
            results.append({**measured, "history": generated})
    vendor = "postgresql" if args.database_url else "sqlite"
    info = report.machine(results[-1]["database"], load)
    command = shown_command(sys.argv[1:]).replace("make bench", "python bench/command.py")
    section = render(results, info, vendor, command)
    print("\n" + section)
    if not args.no_docs:
        report.replace_section(DOCS, MARKERS[vendor], section)
        print("\nwritten to %s" % DOCS.relative_to(ROOT))


def _child(argv: list[str], env: dict) -> dict:
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    if proc.returncode:
        sys.exit("%s failed with exit status %d" % (" ".join(argv), proc.returncode))
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the child: one size, in Django ------------------------------------------------------------

def measure(size: int, requests: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from steps import database_label, percentiles
    from tqdm import tqdm

    from taizhang.campaigns.models import Campaign, OrgUnit
    from taizhang.command.models import DayChange, Span
    from taizhang.command.standing import standing_refresh

    start = perf_counter()
    read = standing_refresh()
    projection = {"seconds": perf_counter() - start, "entries": read, "spans": Span.objects.count(),
                  "day_changes": DayChange.objects.count(),
                  "rss_mb": _peak_rss_mb()}
    with connection.cursor() as cursor:  # what a live server's autovacuum (or `PRAGMA optimize`) would know
        cursor.execute("ANALYZE")
    campaign = Campaign.objects.get()
    street = OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.STREET).order_by("sort").first()
    pages = [("leader", "dashboard, today", "/command/", {}),
             ("leader", "dashboard, %s" % PAST_DAY, "/command/", {"as_of": PAST_DAY}),
             ("leader", "dashboard, one street, %s" % PAST_DAY, "/command/",
              {"as_of": PAST_DAY, "street": street.code}),
             ("leader", "map points", "/command/map/points.json", {}),
             ("leader", "map areas", "/command/map/areas.json", {}),
             ("street", "dashboard, today", "/command/", {}),
             ("street", "map points", "/command/map/points.json", {})]
    clients = {}
    for username in {p[0] for p in pages}:
        clients[username] = Client()
        clients[username].force_login(get_user_model().objects.get(username=username))
    cold_n = max(5, requests // 5)
    found = []
    for username, label, url, query in pages:
        client = clients[username]

        def get(client=client, url=url, query=query, etag=None):
            t0 = perf_counter()
            response = client.get(url, query, **({"HTTP_IF_NONE_MATCH": etag} if etag else {}))
            elapsed = perf_counter() - t0
            assert response.status_code == (304 if etag else 200), (url, query, response.status_code)
            return elapsed

        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            get()
        # Read now: the next request empties the connection's query log.
        count = len(queries.captured_queries)
        # The heaviest by a bare run of each (the query log times the execute alone, and SQLite does
        # its work as the rows are fetched).
        bare = {sql: _bare(connection, sql, runs=1) for sql in
                {q["sql"] for q in queries.captured_queries if _reads_the_ledger(q["sql"])}}
        heaviest = max(bare, key=bare.get)
        cold = []
        for _i in tqdm(range(cold_n), desc="%s as %s, cold" % (label, username), leave=False):
            cache.clear()
            cold.append(get())
        # Warm: the board from the cache; the map's data as a browser holding it asks again (ETag).
        etag = client.get(url, query).headers.get("ETag")
        for _i in range(3):
            get(etag=etag)
        warm = [get(etag=etag) for _i in tqdm(range(requests), desc="%s as %s, warm" % (label, username),
                                               leave=False)]
        found.append({"user": username, "page": label, "queries": count,
                      "cold": percentiles(cold), "warm": percentiles(warm),
                      "floor_ms": sum(_bare(connection, sql) for sql in bare),
                      "heaviest_ms": _bare(connection, heaviest), "floor_sql": heaviest[:160]})
    leader = get_user_model().objects.get(username="leader")
    return {"size": size, "database": database_label(), "projection": projection, "pages": found,
            "stages": {"past": stages(leader, campaign, PAST_DAY), "today": stages(leader, campaign, None)}}


def stages(user, campaign, day: str | None) -> list[tuple[str, float]]:
    """Where a cold board's time goes, stage by stage: (stage, median ms of 3) for the leader."""
    import datetime

    from taizhang.command import forecast as fc
    from taizhang.command import progress as pg
    from taizhang.command.charts import board

    day = datetime.date.fromisoformat(day) if day else pg.today()
    scope = pg.Scope(user, campaign, day)
    days = pg.burnup_days(campaign, day) + fc.sample_days(day)
    streets = list(campaign.units.filter(kind="street").values_list("name", flat=True))
    groups = pg.groups_on(scope)
    steps = [("bring the projection up to date (nothing new)", lambda: pg.Scope(user, campaign, day)),
             ("a day's counts by group (groups_on)", lambda: pg.groups_on(scope)),
             ("the burn-up over %d days (replay)" % len(set(days)), lambda: pg.replay(scope, days)),
             ("rebounds, people and money by street (from the day's counts)",
              lambda: (pg.rebounds(groups, streets), pg.outcomes(groups))),
             ("streets' ranks", lambda: pg.street_ranks(scope)),
             ("the whole board (all of the above, the charts and forecasts)",
              lambda: board(scope, with_rank=True))]
    found = []
    for label, run in steps:
        runs = []
        for _i in range(3):
            t0 = perf_counter()
            run()
            runs.append((perf_counter() - t0) * 1000)
        found.append((label, statistics.median(runs)))
    return found


def _reads_the_ledger(sql: str) -> bool:
    """A query of the ledger, its history or its projection (not the session's or the user's)."""
    return any('"%s_' % table in sql for table in ("ledger", "core_changelogentry", "remediation", "command"))


def _bare(connection, sql: str, runs: int = FLOOR_RUNS) -> float:
    """The median milliseconds of `sql` run bare (fetched whole), `runs` times."""
    # PostgreSQL reads a `.iterator()` through a server-side cursor: the query is what it declares.
    sql = re.sub(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH(OUT)? HOLD FOR ', "", sql)
    times = []
    with connection.cursor() as cursor:
        for _i in range(runs):
            t0 = perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            times.append((perf_counter() - t0) * 1000)
    return statistics.median(times)


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) * 1024 / 1e6


# --- the report --------------------------------------------------------------------------------

def render(results: list[dict], info: dict, vendor: str, command: str) -> str:
    goal = GOAL_P95_MS[vendor]
    biggest = results[-1]
    lines = ["## The command room at scale on %s: dashboard and map (`bench/command.py`)"
             % info["database"].split(" (")[0], "", "Measured %s with `%s`." % (info["date"], command), "",
             "| machine | |", "| --- | --- |",
             "| CPUs (nproc) | %s × %s |" % (info["cpus"], info["cpu"]), "| RAM | %s |" % info["ram"],
             "| Python / Django | %s / %s |" % (info["python"], info["django"]),
             "| database | %s |" % info["database"], "| code (git describe) | %s |" % info["commit"],
             "| load average (1, 5, 15 min) | %s |" % info["load"], "",
             "### Goals at %s targets" % f"{biggest['size']:,}", "",
             "| goal | measured | |", "| --- | --- | --- |"]
    worst_cold = max(p["cold"]["p95"] for p in biggest["pages"])
    worst_warm = max(p["warm"]["p95"] for p in biggest["pages"])
    worst_ratio = max(p["cold"]["p95"] / p["floor_ms"] for p in biggest["pages"])
    lines += ["| every page's p95 under %d ms, warm (nothing written between views) | worst %.0f ms | %s |"
              % (goal, worst_warm, _met(worst_warm < goal)),
              "| every page's p95 under %d ms, cold (the first view after a write) | worst %.0f ms | %s |"
              % (goal, worst_cold, _met(worst_cold < goal)),
              "| cold p95 within %d× of its floor (the page's queries, bare) | worst %.1f× | %s |"
              % (GOAL_FLOOR_RATIO, worst_ratio, _met(worst_ratio <= GOAL_FLOOR_RATIO))]
    counts = {(p["user"], p["page"]): [r_p["queries"] for r in results for r_p in r["pages"]
                                       if (r_p["user"], r_p["page"]) == (p["user"], p["page"])]
              for p in biggest["pages"]}
    flat = all(len(set(c)) == 1 for c in counts.values())
    lines += ["| the query count does not grow with the ledger (%s targets) | %s | %s |" % (
        ", ".join(f"{r['size']:,}" for r in results), "the same at every size" if flat else "it grows",
        _met(flat)), ""]
    for result in results:
        proj, hist = result["projection"], result["history"]
        lines += ["### %s targets" % f"{result['size']:,}", "",
                  "History: %s change-log entries written in %.0f s; the projection read them into %s spans "
                  "and %s day changes in %.1f s (peak RSS %.0f MB), once: later refreshes read only the entries "
                  "written since." % (f"{hist['entries']:,}", hist["seconds"], f"{proj['spans']:,}",
                                      f"{proj['day_changes']:,}", proj["seconds"], proj["rss_mb"]), "",
                  "| page | as | queries | cold p50 ms | cold p95 ms | warm p50 ms | warm p95 ms | floor ms | "
                  "cold p95 / floor | heaviest query ms |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for p in result["pages"]:
            lines.append("| %s | %s | %d | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f× | %.1f |" % (
                p["page"], p["user"], p["queries"], p["cold"]["p50"], p["cold"]["p95"], p["warm"]["p50"],
                p["warm"]["p95"], p["floor_ms"], p["cold"]["p95"] / p["floor_ms"], p["heaviest_ms"]))
        lines.append("")
    lines += ["### Where a cold board's time goes at %s targets" % f"{biggest['size']:,}", "",
              "The leader's board computed in the bench process, each stage alone (median of 3, ms):", "",
              "| stage | %s | today |" % PAST_DAY, "| --- | ---: | ---: |"]
    lines += ["| %s | %.0f | %.0f |" % (label, a, b) for (label, a), (_l, b)
              in zip(biggest["stages"]["past"], biggest["stages"]["today"], strict=True)]
    lines += ["", "Each page's floor is the queries it ran on the ledger, its history and the projection, run "
                  "bare and summed; the heaviest of them:", ""]
    lines += ["- %s as %s: `%s…`" % (p["page"], p["user"], p["floor_sql"].replace("`", "'"))
              for p in biggest["pages"]]
    return "\n".join(lines)


def _met(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


if __name__ == "__main__":
    main()
