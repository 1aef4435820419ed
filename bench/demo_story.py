"""Benchmark the demo campaign in motion: `make bench` runs it after bench/workflow.py.

What `make run` does after the install step, on a fresh SQLite database in a temporary folder:
`manage.py migrate`, then `manage.py setup_demo` (the preset moved, the demo ledger, its
accounts and policies, and the story up to the default stop), each timed as a whole process.
Beside it, in-process: the floor (the same set-up without the story: preset, `demo_load`,
policies, accounts) and the story's figures (acts, sittings, queries, acts per second), for the
default stop and for the whole story (to 2018-07-01). The goal: `make run` serves the demo in
motion within 60 s on two cores. Not part of the test suite.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DOCS = ROOT / "docs" / "benchmarks.md"
GOAL_SECONDS = 60


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


def _env(data: str) -> dict:
    env = dict(os.environ, TAIZHANG_DATA_DIR=data, DJANGO_SETTINGS_MODULE="taizhang.settings")
    env.pop("TAIZHANG_DATABASE_URL", None)
    return env


def _timed(args: list[str], data: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(data), check=True, capture_output=True)
    return time.perf_counter() - start


def make_run() -> dict:
    """`make run` before the server starts: migrate, setup_demo and the command room's projection,
    as processes, on a fresh folder."""
    with tempfile.TemporaryDirectory(prefix="taizhang-demo-") as data:
        migrate = _timed(["manage.py", "migrate", "--no-input", "-v", "0"], data)
        setup = _timed(["manage.py", "setup_demo", "-v", "0"], data)
        projection = _timed(["manage.py", "refresh_projection", "-v", "0"], data)
    return {"migrate": migrate, "setup_demo": setup, "refresh_projection": projection}


def in_child(mode: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="taizhang-demo-") as data:
        out = subprocess.run([sys.executable, __file__, "--child", mode], cwd=ROOT, env=_env(data), check=True,
                             stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def child(mode: str) -> dict:
    """In a fresh database: the floor, or the set-up with its story up to `mode` (a day)."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from taizhang.core.context import request_context
    from taizhang.ledger.demo import demo_database_claim

    call_command("migrate", verbosity=0)
    settings.DEBUG = True  # the demo's profile (its set-up refuses any other)
    demo_database_claim()
    text = (settings.BASE_DIR / "presets" / "shijingshan-2015.toml").read_text(encoding="utf-8")
    queries = []
    with request_context(), connection.execute_wrapper(lambda execute, *args: queries.append(1) or execute(*args)):
        start, cpu = time.perf_counter(), time.process_time()
        if mode == "floor":
            result = _floor(text)
        else:
            result = _story(text, datetime.date.fromisoformat(mode))
        result.update(seconds=time.perf_counter() - start, cpu=time.process_time() - cpu, queries=len(queries))
    return result


def _floor(text: str) -> dict:
    from taizhang.campaigns.presets import preset_load
    from taizhang.ledger.demo import demo_load, demo_users
    from taizhang.remediation.demo import demo_policies_add

    campaign, _created = preset_load(text=text, source="bench")
    targets = demo_load(campaign=campaign)
    demo_policies_add(campaign)
    demo_users(campaign)
    return {"targets": targets, "acts": 0, "sittings": 0}


def _story(text: str, until: datetime.date) -> dict:
    from taizhang.remediation.demo import demo_in_motion

    made = demo_in_motion(text=text, source="bench", seed=2015, total=None, until=until)
    sittings = sum(1 for s in made.story.sittings if s.moment.date() < until + datetime.timedelta(days=made.shift))
    return {"targets": made.targets, "acts": made.acts, "sittings": sittings, "until": until.isoformat()}


def main():
    import report

    args = parse_args()
    load = report.load_average()
    runs = {"make run": make_run(), "floor": in_child("floor"), "default": in_child("2017-03-31"),
            "whole": in_child("2018-07-01")}
    text = table(runs, load)
    print(text)
    if not args.no_docs:
        when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        report.replace_section(DOCS, "demo-story", "## The demo campaign in motion\n\nMeasured %s with "
                               "`make bench` (SQLite, a fresh database in a temporary folder each time).\n\n%s"
                               % (when, text))


def table(runs: dict, load: str) -> str:
    import report

    made = runs["make run"]
    total = made["migrate"] + made["setup_demo"] + made["refresh_projection"]
    lines = ["| what | seconds | CPU s | acts | sittings | queries | acts/s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
             "| `manage.py migrate` (process) | %.1f | | | | | |" % made["migrate"],
             "| `manage.py setup_demo` (process: preset, ledger, accounts, story to 2017-03-31) | %.1f | | | | | |"
             % made["setup_demo"],
             "| `manage.py refresh_projection` (process: the command room's projection) | %.1f | | | | | |"
             % made["refresh_projection"]]
    labels = {"floor": "floor: preset, `demo_load`, policies, accounts (no story)",
              "default": "set-up with the story to 2017-03-31 (the default stop)",
              "whole": "set-up with the whole story, to 2018-07-01"}
    for key, label in labels.items():
        r = runs[key]
        rate = "%.0f" % (r["acts"] / (r["seconds"] - runs["floor"]["seconds"])) if r["acts"] else ""
        lines.append("| %s | %.1f | %.1f | %s | %s | %s | %s |" % (
            label, r["seconds"], r["cpu"], report._n(r["acts"]), report._n(r["sittings"]), report._n(r["queries"]),
            rate))
    met = report._met(total < GOAL_SECONDS)
    lines += ["", "`make run` after the install step: %.1f s of migrate, set-up and projection before the server "
              "starts (goal: serving within %d s on two cores: %s). Acts per second count the story alone (the "
              "set-up's time less the floor's). Load average %s at the start, %s at the end; %d CPUs."
              % (total, GOAL_SECONDS, met, load, report.load_average(), len(os.sched_getaffinity(0)))]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2])))
    else:
        main()
