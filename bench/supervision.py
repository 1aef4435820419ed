"""Benchmark the supervision orders' sweep (`make bench`): reminders and referrals over many open orders.

    python bench/supervision.py [--orders 10000] [--runs 3] [--database-url postgres://…] [--no-docs]

Each run, in a throwaway database of its own: the preset, nine streets with two staff each
(e-mail chosen for reminders, a group robot per street) and `--orders` open orders, signed
for, their deadlines spread over the fortnight around the sweep's day (so that reminders
before and after the deadline fall due, and the orders three chases overdue are referred).
Then, each step in a process of its own (its peak RSS its own):

- the first sweep: seconds, queries, peak RSS, reminders sent and orders referred; beside it
  the floor, the bare SQL the sweep cannot do without: reading the open orders' columns and
  inserting as many rows as it wrote reminders (executemany, into a table of the same shape);
- the second sweep at the same moment: it must send and refer nothing;
- the worker: the first 3,000 deliveries the first sweep queued (e-mails to a local mail backend,
  posts to a local HTTP server) sent by `deliveries_send`, per second, beside as many bare posts.

Medians of `--runs`. Not part of the test suite.
"""

import argparse
import datetime
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(1, str(ROOT))
DOCS = ROOT / "docs" / "benchmarks.md"
PRESET = ROOT / "presets" / "shijingshan-2015.toml"
MARKERS = {"sqlite": "bench-supervision", "postgresql": "bench-supervision-postgresql"}
DAY = datetime.date(2016, 6, 1)  # the sweep's day
GOALS = {"first": 10.0, "second": 2.0}  # seconds, for 10,000 orders


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000, help="open orders (default 10,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs, each in a fresh database (default 3)")
    parser.add_argument("--database-url", help="a PostgreSQL server, postgres://USER@HOST:PORT/DB (default SQLite)")
    parser.add_argument("--no-docs", action="store_true", help="print the figures only; leave docs/ alone")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("argument", nargs="?", default="0", help=argparse.SUPPRESS)
    return parser.parse_args()


# --- the children -------------------------------------------------------------------------------

def _moment():
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(DAY, datetime.time(9)))


def setup(orders: int) -> dict:
    """The preset, the streets' staff and `orders` open orders, written in bulk (not measured)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from taizhang.accounts.models import Membership
    from taizhang.campaigns.models import Campaign, OrgUnit
    from taizhang.core.models import EmailChoice
    from taizhang.supervision.models import Order, OrderCounter

    call_command("migrate", verbosity=0)
    call_command("load_preset", str(PRESET), verbosity=0, stdout=open(os.devnull, "w"))
    campaign = Campaign.objects.get()
    streets = list(OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.STREET).order_by("sort"))
    office = OrgUnit.objects.get(campaign=campaign, kind=OrgUnit.Kind.OFFICE)
    users = get_user_model().objects
    for street in streets:
        street.webhook_url = "http://127.0.0.1:%d/robot/%s" % (int(os.environ["BENCH_ROBOT_PORT"]), street.code)
        street.save(update_fields=["webhook_url"])
        for n in range(2):
            user = users.create_user("%s-%d" % (street.code, n), email="%s-%d@example.org" % (street.code, n))
            Membership.objects.create(user=user, unit=street, role=Membership.Role.STREET)
            EmailChoice.objects.create(user=user, kind="order.remind", by_email=True)
    inspector = users.create_user("jin")
    Membership.objects.create(user=inspector, unit=OrgUnit.objects.get(campaign=campaign, code="G11"),
                              role=Membership.Role.DISCIPLINE)
    issued = timezone.make_aware(datetime.datetime.combine(DAY - datetime.timedelta(days=30), datetime.time(9)))
    made = [Order(campaign=campaign, year=2016, serial=n, number="石治乱督〔2016〕%d号" % n, issuer=office,
                  receiver=streets[n % len(streets)], subject="督办 %d" % n, text="限期办结",
                  deadline=DAY + datetime.timedelta(days=(n % 14) - 8), state=Order.State.SIGNED, issued_at=issued)
            for n in range(1, orders + 1)]
    Order.objects.bulk_create(made, batch_size=2000)
    OrderCounter.objects.create(campaign=campaign, year=2016, last=orders)
    return {"orders": orders}


def _counted(run):
    """run() timed, its queries counted (an execute wrapper: the query log stops at 9,000)."""
    from django.db import connection

    count = [0]

    def counting(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        start, cpu = time.perf_counter(), time.process_time()
        result = run()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return result, seconds, cpu, count[0]


def sweep() -> dict:
    from bench.child import peak_rss_mb
    from taizhang.supervision.escalation import orders_sweep

    moment = _moment()
    result, seconds, cpu, queries = _counted(lambda: orders_sweep(now=moment))
    return {**result, "seconds": seconds, "cpu": cpu, "queries": queries, "rss_mb": peak_rss_mb()}


def floor() -> dict:
    """The bare SQL: the open orders' columns read, and as many rows of a reminder's shape
    inserted as the first sweep wrote reminders."""
    from django.db import connection, transaction

    from taizhang.supervision.models import Order, Reminder

    reminders = Reminder.objects.count()
    waiting = (Order.objects.filter(state__in=["issued", "signed", "in_progress"])
               .values_list("pk", "deadline", "campaign_id", "receiver_id", "reminders", "extensions"))
    sql, params = waiting.query.sql_with_params()
    now = _moment()
    rows = [(n, "after:%d@2016-06-01" % n, "after", DAY, now) for n in range(reminders)]
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.fetchall()
        cursor.execute("CREATE TEMPORARY TABLE bench_floor AS SELECT order_id, key, kind, due_on, sent_at FROM %s "
                       "WHERE 1 = 0" % Reminder._meta.db_table)
        cursor.executemany("INSERT INTO bench_floor (order_id, key, kind, due_on, sent_at) VALUES (%s, %s, %s, %s, %s)",
                           rows)
        cursor.execute("DROP TABLE bench_floor")
    return {"seconds": time.perf_counter() - start, "rows": reminders}


WORKER_SAMPLE = 3000  # deliveries timed: enough for a steady rate, not the whole queue each run


def worker() -> dict:
    """The first WORKER_SAMPLE queued deliveries sent by the worker's function (`deliveries_send`,
    a batch at a time, as the `deliveries` sweep runs it), e-mail to Django's memory backend."""
    from django.test.utils import override_settings
    from django.utils import timezone

    from bench.child import peak_rss_mb
    from taizhang.core.deliveries import deliveries_send
    from taizhang.core.models import Delivery

    queued = Delivery.objects.filter(state="pending").count()
    # The real clock: the reminders were queued for the sweep's day, the referrals' notices
    # (written at the referral's own time) for now.
    now = timezone.now() + datetime.timedelta(minutes=5)
    sent = 0
    with override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}):
        start = time.perf_counter()
        while sent < WORKER_SAMPLE:
            counts = deliveries_send(now=now)
            sent += counts["sent"]
            if not any(counts.values()):
                break
        seconds = time.perf_counter() - start
    failed = Delivery.objects.filter(state="failed").count()
    return {"queued": queued, "sent": sent, "failed": failed, "seconds": seconds, "rss_mb": peak_rss_mb()}


def bare_posts(count: int) -> dict:
    """The floor of the worker: `count` bare JSON posts to the same local server, one by one."""
    import urllib.request

    port = int(os.environ["BENCH_ROBOT_PORT"])
    body = json.dumps({"msgtype": "text", "text": {"content": "督办单到期提醒"}}).encode()
    start = time.perf_counter()
    for _n in range(count):
        request = urllib.request.Request("http://127.0.0.1:%d/robot/floor" % port, data=body,
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).read()
    return {"seconds": time.perf_counter() - start}


def child(name: str, argument: str) -> None:
    import django

    django.setup()
    jobs = {"setup": lambda: setup(int(argument)), "sweep": sweep, "floor": floor,
            "worker": worker, "posts": lambda: bare_posts(int(argument))}
    print(json.dumps(jobs[name]()))


# --- the parent ---------------------------------------------------------------------------------

class _Robot(BaseHTTPRequestHandler):
    """A group robot that answers as 钉钉's does."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _run(env: dict, name: str, argument: str = "") -> dict:
    proc = subprocess.run([sys.executable, str(Path(__file__)), "--child", name, argument or "0"], env=env,
                          stdout=subprocess.PIPE, text=True, cwd=ROOT)
    if proc.returncode:
        sys.exit("bench/supervision.py --child %s failed with exit status %d" % (name, proc.returncode))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def one_run(args, port: int) -> dict:
    from run import scratch_database

    with tempfile.TemporaryDirectory(prefix="taizhang-supervision-") as work, \
            scratch_database(args.database_url, Path(work)) as url:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "taizhang.settings", "TAIZHANG_DATA_DIR": work,
               "TAIZHANG_DATABASE_URL": url, "TAIZHANG_CHAIN_KEY": secrets.token_hex(32),
               "BENCH_ROBOT_PORT": str(port), "PYTHONPATH": str(ROOT)}
        _run(env, "setup", str(args.orders))
        first = _run(env, "sweep")
        second = _run(env, "sweep")
        bare = _run(env, "floor")
        sent = _run(env, "worker")
        posts = _run(env, "posts", str(min(sent["sent"], 1000)))
        return {"first": first, "second": second, "floor": bare, "worker": sent, "posts": posts,
                "posts_count": min(sent["sent"], 1000)}


def main() -> None:
    args = parse_args()
    if args.child:
        child(args.child, args.argument)
        return
    import report

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Robot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    load = report.load_average()
    runs = []
    for n in range(args.runs):
        print("→ run %d of %d: %s open orders" % (n + 1, args.runs, f"{args.orders:,}"), flush=True)
        runs.append(one_run(args, server.server_address[1]))
        print("  first sweep %.1f s, second %.2f s" % (runs[-1]["first"]["seconds"], runs[-1]["second"]["seconds"]),
              flush=True)
    server.shutdown()
    vendor = "postgresql" if args.database_url else "sqlite"
    text = render(args, runs, vendor, report.machine(vendor, load))
    print(text)
    if not args.no_docs:
        report.replace_section(DOCS, MARKERS[vendor], text)


def _median(runs, *path):
    values = []
    for run in runs:
        value = run
        for key in path:
            value = value[key]
        values.append(value)
    return statistics.median(values)


def render(args, runs: list[dict], vendor: str, info: dict) -> str:
    m = lambda *path: _median(runs, *path)  # noqa: E731
    first, second, bare = m("first", "seconds"), m("second", "seconds"), m("floor", "seconds")
    sent, worker_seconds, posts = m("worker", "sent"), m("worker", "seconds"), m("posts", "seconds")
    per_post = posts / max(1, m("posts_count"))
    scale = args.orders / 10_000
    lines = [
        "## Supervision orders: the reminder and escalation sweep (%s)" % ("PostgreSQL" if vendor == "postgresql"
                                                                          else "SQLite"),
        "",
        "Measured %s at %s with `python bench/supervision.py%s` on %d × %s, %s; %s; Python %s, Django %s; "
        "load %s. Medians of %d runs, each in a fresh database; each figure from a process of its own." % (
            info["date"], info["commit"], " " + " ".join(sys.argv[1:]) if sys.argv[1:] else "", info["cpus"],
            info["cpu"], info["ram"], info["database"], info["python"], info["django"], info["load"], len(runs)),
        "",
        "| step | seconds | floor (s) | × floor | queries | peak RSS MB | what it did |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        "| first sweep over %s open orders | %.2f | %.2f | %.1f× | %d | %.0f | %d reminders written, %d orders "
        "reminded, %d referred |" % (
            f"{args.orders:,}", first, bare, first / bare, m("first", "queries"), m("first", "rss_mb"),
            m("floor", "rows"), m("first", "reminded"), m("first", "referred")),
        "| second sweep, same moment | %.2f | | | %d | %.0f | %d reminded, %d referred (must be 0, 0) |" % (
            second, m("second", "queries"), m("second", "rss_mb"), m("second", "reminded"), m("second", "referred")),
        "| the worker: deliveries sent | %.2f | %.2f | %.1f× | | %.0f | the first %d of %d queued sent "
        "(%.0f a second), %d failed |" % (
            worker_seconds, per_post * sent, worker_seconds / (per_post * sent) if sent else 0, m("worker", "rss_mb"),
            sent, m("worker", "queued"), sent / worker_seconds if worker_seconds else 0, m("worker", "failed")),
        "",
        "Goals for 10,000 orders: the first sweep under %.0f s (%s here%s), the second under %.0f s (%s), "
        "sending nothing (%s). The first sweep's floor is the bare SQL it cannot do without: the open orders' "
        "columns read and as many rows inserted as it wrote reminders (one executemany). The worker's floor "
        "is as many bare JSON posts to the same local robot, one after another; e-mails went to Django's "
        "memory backend." % (
            GOALS["first"] * scale, "met" if first < GOALS["first"] * scale else "**missed**",
            "" if scale == 1 else ", scaled to %s orders" % f"{args.orders:,}", GOALS["second"] * scale,
            "met" if second < GOALS["second"] * scale else "**missed**",
            "met" if m("second", "reminded") == 0 and m("second", "referred") == 0 else "**missed**"),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
