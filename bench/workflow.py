"""Benchmark the remediation path: `make bench` runs it after bench/run.py.

In a throwaway SQLite database per ledger size (1,000 and 50,000 targets by default),
take 1,000 targets through the whole path with the
services (verification recorded and confirmed by both sides, plan created, submitted and
approved, remediation started, completion reported, acceptance passed), and report
transitions per second and database queries per transition. Queries per transition must
not grow with the ledger's size. Not part of the test suite.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PRESET = ROOT / "presets" / "shijingshan-2015.toml"
DOCS = ROOT / "docs" / "benchmarks.md"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,50000", help="ledger sizes, comma-separated")
    parser.add_argument("--targets", type=int, default=1000, help="targets taken through the path")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


def setup(size: int):
    """A fresh database with the preset, a demo ledger of `size` and the bench's actors."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from taizhang.accounts.models import Membership
    from taizhang.campaigns.models import Campaign, OrgUnit
    from taizhang.ledger.demo import demo_load

    call_command("migrate", verbosity=0)
    call_command("load_preset", str(PRESET), verbosity=0, stdout=open(os.devnull, "w"))
    campaign = Campaign.objects.get()
    demo_load(campaign=campaign, total=size)
    units = {u.code: u for u in OrgUnit.objects.filter(campaign=campaign)}
    users = {name: get_user_model().objects.create_user(name) for name in ("office", "holder")}
    Membership.objects.create(user=users["office"], unit=units["OFFICE"], role=Membership.Role.OFFICE)
    # The rights holder's side, for every system: one account confirms for all.
    for system in OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.SYSTEM):
        Membership.objects.create(user=users["holder"], unit=system, role=Membership.Role.UNIT)
    return campaign, users


def walk(target, users, counter) -> None:
    """One target along the whole path; each workflow step timed and its queries counted."""
    from taizhang.ledger.models import Target
    from taizhang.remediation.acceptance import acceptance_record
    from taizhang.remediation.plans import plan_approve, plan_create, plan_submit
    from taizhang.remediation.verification import verification_confirm, verification_record
    from taizhang.remediation.workflow import target_step

    office, holder = users["office"], users["holder"]
    S = Target.State
    verification = verification_record(target=target, actor=office, facts={"resident_population": 10})
    verification_confirm(verification=verification, actor=office)
    verification_confirm(verification=verification, actor=holder)
    counter("verified", lambda: target_step(target=target, to=S.VERIFIED, actor=office))
    plan = plan_create(target=target, actor=office, planned_on=datetime.date(2016, 1, 4), means=["legal"],
                       steps=[{"description": "解除租赁合同", "means": "legal", "due_on": datetime.date(2016, 3, 1)}])
    plan_submit(plan=plan, actor=office)
    plan_approve(plan=plan, actor=office)
    target.refresh_from_db()
    if target.state == S.VERIFIED:  # approving may already have taken the step
        counter("plan approved", lambda: target_step(target=target, to=S.PLAN_APPROVED, actor=office))
    counter("in remediation", lambda: target_step(target=target, to=S.IN_REMEDIATION, actor=office))
    counter("completion reported", lambda: target_step(target=target, to=S.COMPLETION_REPORTED, actor=office))
    counter("closed by a passed acceptance", lambda: acceptance_record(
        target=target, actor=office, decision="passed", tenants_cleared=True, structures_demolished=True,
        site_cleaned=True, land_returned=True))


def measure(size: int, count: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from tqdm import tqdm

    from taizhang.ledger.models import Target

    campaign, users = setup(size)
    targets = list(Target.objects.filter(campaign=campaign).order_by("code")[:count])
    seconds, queries, by_step = [], [], {}

    def counter(label, action):
        connection.queries_log.clear()  # the log keeps 9,000 queries; counts past that would be wrong
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            action()
            seconds.append(time.perf_counter() - start)
        queries.append(len(captured))
        by_step.setdefault(label, []).append(len(captured))

    start = time.perf_counter()
    for target in tqdm(targets, desc="ledger of %d" % size, unit="target"):
        walk(target, users, counter)
    whole = time.perf_counter() - start
    closed = Target.objects.filter(pk__in=[t.pk for t in targets], state=Target.State.CLOSED).count()
    return {"size": size, "targets": len(targets), "closed": closed, "transitions": len(seconds),
            "per_second": len(seconds) / sum(seconds), "p50_ms": statistics.median(seconds) * 1000,
            "queries_mean": statistics.mean(queries), "queries_max": max(queries),
            "path_seconds": whole, "targets_per_second": len(targets) / whole,
            "queries_by_step": {label: statistics.mean(n) for label, n in by_step.items()}}


def main():
    args = parse_args()
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="taizhang-wf-") as data:
            results.append(run_in_child(size, args.targets, data))
    text = table(results)
    print(text)
    if not args.no_docs:
        write_docs(text, args)


def write_docs(text: str, args) -> None:
    """Replace the workflow section of docs/benchmarks.md (between its markers)."""
    import report

    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    command = "make bench" if args.sizes == "1000,50000" and args.targets == 1000 else (
        "python bench/workflow.py --sizes %s --targets %d" % (args.sizes, args.targets))
    report.replace_section(DOCS, "workflow", "## The remediation path\n\nMeasured %s with `%s` (SQLite, a fresh "
                           "database per size).\n\n%s" % (when, command, text))


def table(results: list[dict]) -> str:
    lines = []
    lines.append("| ledger size | targets walked | closed | transitions | transitions/s | p50 ms "
                 "| queries/transition (mean, max) | whole path, targets/s |")
    lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        lines.append("| %(size)d | %(targets)d | %(closed)d | %(transitions)d | %(per_second).0f | %(p50_ms).1f | "
                     "%(queries_mean).1f, %(queries_max)d | %(targets_per_second).1f |" % r)
    lines += ["", "| queries per step | " + " | ".join("ledger of %d" % r["size"] for r in results) + " |",
              "| --- |" + " ---: |" * len(results)]
    for label in results[0]["queries_by_step"]:
        lines.append("| %s | %s |" % (label, " | ".join("%.1f" % r["queries_by_step"][label] for r in results)))
    lines += ["", "Transitions are the five workflow steps per target (已核查, 已定策, 整治中, 待验收, and 已销账 "
              "taken by a passed acceptance, which also schedules six re-inspections); queries are counted per "
              "step with Django's query log, seconds are the steps' own time. The verification, plan and "
              "acceptance records around them are written with the same services but not counted as "
              "transitions; \"whole path\" includes them."]
    return "\n".join(lines)


def run_in_child(size: int, count: int, data: str) -> dict:
    """Each size in its own process: Django reads its database settings once."""
    import json
    import subprocess

    env = dict(os.environ, TAIZHANG_DATA_DIR=data, DJANGO_SETTINGS_MODULE="taizhang.settings")
    env.pop("TAIZHANG_DATABASE_URL", None)
    out = subprocess.run([sys.executable, __file__, "--child", str(size), str(count)], env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        import json

        import django

        django.setup()
        print(json.dumps(measure(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        main()
