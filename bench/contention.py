"""Benchmark writers under contention: `make bench` runs it on SQLite (and on PostgreSQL with
BENCH_ARGS="--database-url ...").

In a throwaway database with the demo ledger, WRITERS processes post requests through the
whole Django stack (middleware, views, services; Django's test client, so no network) for
SECONDS, all on the same few targets: workflow steps (hold, resume), petitions flagged as a
stability risk, pilot toggles and one-row imports (dry run, then apply). Each answer is
recorded. Afterwards:

- server errors: answers with a 5xx status;
- lost updates: writes answered as done whose mark is not in the database (a step's comment,
  a petition's text, an import's value in the change log), plus stored targets that differ
  from what their change log says they became;
- verify_history: the chain holds.

Figures beside the floor of the same run: a bare read of one target's row through the ORM.
"""

import argparse
import datetime
import io
import multiprocessing
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(1, str(ROOT))
DOCS = ROOT / "docs" / "benchmarks.md"
PRESET = ROOT / "presets" / "shijingshan-2015.toml"
HOT_TARGETS = 4
KINDS = ("step", "petition", "pilot", "import")
SPAWN = multiprocessing.get_context("spawn")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database-url", help="a PostgreSQL server: a fresh database is made there and dropped")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/benchmarks.md alone")
    # `make bench` passes the same BENCH_ARGS to every bench script: the others' options are theirs.
    return parser.parse_known_args()[0]


def _setup_django(url: str, data: str):
    os.environ.update(TAIZHANG_DATABASE_URL=url, TAIZHANG_DATA_DIR=data, DJANGO_SETTINGS_MODULE="taizhang.settings")
    import django

    django.setup()


def prepare(url: str, data: str) -> list[int]:
    """Migrate, load the preset, the demo ledger and an office account; the hot targets' ids."""
    _setup_django(url, data)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from taizhang.accounts.models import Membership
    from taizhang.campaigns.models import Campaign, OrgUnit
    from taizhang.ledger.demo import demo_load
    from taizhang.ledger.models import Target

    call_command("migrate", verbosity=0)
    call_command("load_preset", str(PRESET), verbosity=0, stdout=io.StringIO())
    campaign = Campaign.objects.get()
    demo_load(campaign=campaign, total=528)
    office = get_user_model().objects.create_user("office")
    Membership.objects.create(user=office, unit=OrgUnit.objects.get(campaign=campaign, code="OFFICE"),
                              role=Membership.Role.OFFICE)
    return list(Target.objects.filter(campaign=campaign).order_by("code").values_list("pk", flat=True)[:HOT_TARGETS])


def writer(url: str, data: str, seed: int, start_at: float, seconds: float, hot: list[int], answers) -> None:
    """Post requests until the time is up; put [(kind, status, done, seconds, mark)] on `answers`."""
    _setup_django(url, data)
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(raise_request_exception=False, SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(get_user_model().objects.get(username="office"))
    rng = random.Random(seed)
    records = []
    while time.time() < start_at:
        time.sleep(0.01)
    n = 0
    while time.time() < start_at + seconds:
        n += 1
        kind, pk, mark = rng.choice(KINDS), rng.choice(hot), "w%d-%d" % (seed, n)
        began = time.perf_counter()
        status, done = ACTIONS[kind](client, pk, mark, seed * 100_000 + n)
        records.append((kind, status, done, time.perf_counter() - began, mark, seed * 100_000 + n))
    answers.put(records)


def _done(response) -> bool:
    """Answered as done: the page the redirect led to says so, and says nothing went wrong.

    Every request follows its redirect, so the messages a page shows are its own request's.
    """
    return (response.status_code < 400 and b"message success" in response.content
            and b"message error" not in response.content)


def _step(client, pk, mark, _n):
    from taizhang.ledger.models import Target

    target = Target.objects.get(pk=pk)
    to = target.held_from if target.state == Target.State.ON_HOLD else Target.State.ON_HOLD
    response = client.post("/work/targets/%d/step/" % pk, {"to": to, "comment": mark, "hold_reason": "bench",
                                                            "hold_review_on": "2016-01-01"}, follow=True)
    return _status(response), _done(response)


def _petition(client, pk, mark, _n):
    response = client.post("/work/targets/%d/petitions/" % pk, {
        "petitioner": "居民", "channel": "visit", "received_on": "2015-12-01", "content": mark,
        "stability_risk": "on"}, follow=True)
    return _status(response), _done(response)


def _pilot(client, pk, _mark, n):
    response = client.post("/work/targets/%d/pilot/" % pk, {"is_pilot": "1" if n % 2 else "0"}, follow=True)
    # A pilot mark answers with quota warnings, not a success message.
    return _status(response), response.status_code < 400 and b"message error" not in response.content


def _import(client, pk, _mark, n):
    """A one-row file as an office exports and edits it: the row's version, a new population."""
    from taizhang.ledger.models import Target

    t = Target.objects.select_related("target_type", "street", "system").get(pk=pk)
    data = _xlsx(["编号", "名称", "类型", "所属街道", "所属系统", "居住人口", "版本"],
                 [t.code, t.name, t.target_type.name, t.street.name, t.system.name, n, t.version])
    response = client.post("/ledger/import/", {"file": _upload(data)}, HTTP_HX_REQUEST="true")
    if response.status_code >= 500:
        return response.status_code, False
    found = re.search(rb"/ledger/import/([0-9a-f-]{36})/apply/", response.content)
    if not found:
        return response.status_code, False
    response = client.post("/ledger/import/%s/apply/" % found.group(1).decode(), follow=True)
    return _status(response), bool(response.redirect_chain) and _done(response)


def _status(response) -> int:
    """The first answer's status (a redirect followed to a page is the redirect's)."""
    return response.redirect_chain[0][1] if response.redirect_chain else response.status_code


def _xlsx(header, row) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, header)
    sheet.write_row(1, 0, row)
    workbook.close()
    return out.getvalue()


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("bench.xlsx", data)


ACTIONS = {"step": _step, "petition": _petition, "pilot": _pilot, "import": _import}


def check(records: list[tuple], hot: list[int]) -> dict:
    """Lost updates, the log replayed against the ledger, the chain, and the floor."""
    from taizhang.core.changelog import Break, changelog_replay, changelog_verify
    from taizhang.core.models import ChangeLogEntry
    from taizhang.ledger.models import Target
    from taizhang.remediation.models import Petition, TransitionEvent

    marks = {
        "step": set(TransitionEvent.objects.values_list("comment", flat=True)),
        "petition": set(Petition.objects.values_list("content", flat=True)),
        "import": {e["resident_population"] for e in ChangeLogEntry.objects.filter(
            object_type="ledger.target", reason__startswith="import of").values_list("after", flat=True)},
    }
    lost = {kind: sum(1 for k, _s, done, _t, mark, n in records if k == kind and done
                      and (n if kind == "import" else mark) not in marks[kind]) for kind in marks}
    mismatches = len(list(changelog_replay()))
    chain = not any(isinstance(item, Break) for item in changelog_verify())
    floor = []
    for _ in range(200):
        began = time.perf_counter()
        Target.objects.get(pk=random.choice(hot))
        floor.append(time.perf_counter() - began)
    return {"lost": sum(lost.values()), "lost_by_kind": lost, "mismatches": mismatches, "chain": chain,
            "floor_ms": statistics.median(floor) * 1000}


def run(url: str, data: str, writers: int, seconds: float) -> dict:
    hot = _in_child(prepare, url, data)
    answers = SPAWN.Queue()
    start_at = time.time() + 5 + writers * 0.3  # every writer set up before the first request
    processes = [SPAWN.Process(target=writer, args=(url, data, seed, start_at, seconds, hot, answers))
                 for seed in range(1, writers + 1)]
    for process in processes:
        process.start()
    records = [r for _p in processes for r in answers.get(timeout=start_at - time.time() + seconds + 300)]
    for process in processes:
        process.join(30)
    result = _in_child(_check_in_child, url, data, records, hot)
    times = sorted(r[3] for r in records)
    by_kind = {kind: [r for r in records if r[0] == kind] for kind in KINDS}
    result.update(
        requests=len(records), errors=sum(1 for r in records if r[1] >= 500),
        done=sum(1 for r in records if r[2]), p50_ms=_pct(times, 50), p95_ms=_pct(times, 95),
        by_kind={kind: {"requests": len(rs), "done": sum(1 for r in rs if r[2]),
                        "lost": result["lost_by_kind"].get(kind, 0),
                        "errors": sum(1 for r in rs if r[1] >= 500),
                        "p95_ms": _pct(sorted(r[3] for r in rs), 95)} for kind, rs in by_kind.items()})
    return result


def _check_in_child(url, data, records, hot):
    _setup_django(url, data)
    return check(records, hot)


def _in_child(function, *args):
    """Run function(*args) in a fresh process (Django reads its settings once per process)."""
    with SPAWN.Pool(1) as pool:
        return pool.apply(function, args)


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * pct / 100))] * 1000


def table(result: dict, database: str, writers: int, seconds: float) -> str:
    lines = [
        "| database | writers × seconds | requests | done | server errors | lost updates | log ≠ ledger "
        "| verify_history | p50 ms | p95 ms | floor: bare row read, ms | p95 / floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
        "| %s | %d × %d | %d | %d | %d | %d | %d | %s | %.0f | %.0f | %.2f | %.0f× |" % (
            database, writers, seconds, result["requests"], result["done"], result["errors"], result["lost"],
            result["mismatches"], "holds" if result["chain"] else "BROKEN", result["p50_ms"], result["p95_ms"],
            result["floor_ms"], result["p95_ms"] / result["floor_ms"]),
        "",
        "| request | requests | done | server errors | lost updates | p95 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, r in result["by_kind"].items():
        lines.append("| %s | %d | %d | %d | %d | %.0f |" % (kind, r["requests"], r["done"], r["errors"], r["lost"],
                                                             r["p95_ms"]))
    return "\n".join(lines)


def write_docs(text: str, database: str, command: str) -> None:
    import report

    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    report.replace_section(DOCS, "contention-%s" % database.lower(), (
        "## Writers under contention on %s (`bench/contention.py`)\n\nMeasured %s with `%s`, load average %.1f. "
        "Every writer works on the same %d targets of a 528-target demo ledger; \"done\" are the requests "
        "answered as done, the others were refused with a message (someone else moved the target, a row "
        "changed since the file's version).\n\n%s") % (database, when, command, os.getloadavg()[0], HOT_TARGETS,
                                                         text))


def main():
    args = parse_args()
    # The production profile (DEBUG off), with keys of this run's own; the writers inherit them.
    # The test client speaks plain HTTP: no redirect to HTTPS.
    os.environ.update(TAIZHANG_DEBUG="0", TAIZHANG_SECRET_KEY=secrets.token_hex(32),
                      TAIZHANG_CHAIN_KEY=secrets.token_hex(32), TAIZHANG_HTTPS="0")
    sys.path.insert(0, str(BENCH))
    from run import scratch_database, shown_command

    with tempfile.TemporaryDirectory(prefix="taizhang-contention-") as work:
        with scratch_database(args.database_url, Path(work)) as url:
            database = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
            result = run(url, work, args.writers, args.seconds)
    text = table(result, database, args.writers, args.seconds)
    print(text)
    if not all(kind["done"] for kind in result["by_kind"].values()):
        sys.exit("a kind of request was never done: the bench did not measure what it says (docs left alone)")
    if not args.no_docs:
        command = shown_command(sys.argv[1:])  # the make command, any password left out
        write_docs(text, database, command if command == "make bench" else "python bench/contention.py " +
                   command.partition('BENCH_ARGS="')[2].rstrip('"'))
    if result["errors"] or result["lost"] or result["mismatches"] or not result["chain"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
