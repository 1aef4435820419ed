"""The benchmark's steps that run inside Django (imported by run.py after django.setup())."""

import cProfile
import math
import random
import statistics
import tomllib
from collections import defaultdict
from pathlib import Path
from time import perf_counter
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import translation
from tqdm import tqdm

from taizhang.campaigns.models import OrgUnit
from taizhang.campaigns.presets import preset_load
from taizhang.core.context import request_context
from taizhang.ledger.demo import demo_load, demo_users
from taizhang.ledger.exporting import current_rows, export_ledger, write_xlsx
from taizhang.ledger.models import Target
from taizhang.ledger.selectors import LedgerFilterForm, ledger_targets
from taizhang.ledger.views import PAGE_SIZE

PRESET = settings.BASE_DIR / "presets" / "shijingshan-2015.toml"


def database_label() -> str:
    if connection.vendor == "postgresql":
        version = connection.pg_version
        return "PostgreSQL %d.%d" % (version // 10000, version % 10000)
    return "SQLite (file in a temp dir, WAL)"


def prepare(targets: int):
    """Migrate, load the preset, generate the demo ledger (timed) and the demo accounts."""
    call_command("migrate", verbosity=0)
    with request_context():
        campaign, _created = preset_load(text=PRESET.read_text(encoding="utf-8"), source=PRESET.name)
        start = perf_counter()
        count = demo_load(campaign=campaign, total=targets)
        seconds = perf_counter() - start
    demo_users(campaign)
    if connection.vendor == "postgresql":
        # A live server's autovacuum vacuums and analyzes a freshly loaded table within a minute;
        # a server run without it (this machine's) leaves the planner guessing blind (a search
        # matching 30,000 rows taken for 1) and the search's trigram indexes with their new entries
        # in an unsorted pending list, so the page would be timed on plans no deployment runs.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return campaign, {"seconds": seconds, "rows": count}


def fresh_campaign(slug: str) -> str:
    """The same preset under another slug: an empty ledger whose labels all resolve."""
    text = PRESET.read_text(encoding="utf-8")
    old = tomllib.loads(text)["campaign"]["slug"]
    with request_context():
        campaign, _created = preset_load(text=text.replace('slug = "%s"' % old, 'slug = "%s"' % slug, 1),
                                         source="bench")
    assert campaign.slug == slug, "preset slug line not found"
    return slug


def export(campaign, path: Path) -> dict:
    """All targets through export_ledger, as the page and `manage.py export_ledger` call it."""
    queryset = Target.objects.filter(campaign=campaign).order_by("code")
    with translation.override(settings.LANGUAGE_CODE), path.open("wb") as out:
        start = perf_counter()
        rows = export_ledger(out, campaign=campaign, queryset=queryset)
        seconds = perf_counter() - start
    return {"seconds": seconds, "rows": rows, "bytes": path.stat().st_size}


def write_changed(campaign, path: Path, field: str = "resident_population") -> int:
    """An export-shaped file in which every row changes one field (versions current: no conflicts)."""
    rows = current_rows(Target.objects.filter(campaign=campaign).order_by("code"))
    changed = ({**row, field: (row[field] or 0) + 1} for row in rows)
    with translation.override(settings.LANGUAGE_CODE), path.open("wb") as out:
        return write_xlsx(out, changed, title="bench: %s + 1 in every row" % field)


def target_count(slug: str) -> int:
    return Target.objects.filter(campaign__slug=slug).count()


def population_sum(campaign) -> int:
    return sum(Target.objects.filter(campaign=campaign).values_list("resident_population", flat=True))


def page_variants(campaign, user) -> list[tuple[str, dict, int]]:
    """(label, query, number of pages) for the kinds of request the page gets."""
    system = OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.SYSTEM).order_by("sort").first()
    queries = [("all rows", {}), ("?system=%s" % system.name, {"system": system.pk}),
               # Two characters (one in the name of 3 targets in 5), and a road in 1 address in 15:
               # a trigram index (ledger/search.py) serves only searches of three or more.
               ("?q=大院", {"q": "大院"}), ("?q=古城大街", {"q": "古城大街"}),
               ("?sort=-population", {"sort": "-population"})]
    variants = []
    for label, query in queries:
        form = LedgerFilterForm(QueryDict(urlencode(query)), campaign=campaign)
        rows = form.apply(ledger_targets(user, campaign)).count()
        variants.append((label, query, max(1, math.ceil(rows / PAGE_SIZE))))
    return variants


def page_latency(campaign, username: str, requests: int, warmup: int, *, seed: int = 2015,
                 profile: Path | None = None) -> dict:
    """Latency of the ledger page for one demo user, cycling variants at random page numbers.

    With `profile`, the same requests are made once more under cProfile (its overhead
    would distort the timings) and the stats dumped there.
    """
    user = get_user_model().objects.get(username=username)
    client = Client()
    client.force_login(user)
    variants = page_variants(campaign, user)
    rng = random.Random(seed)
    plan = []
    for i in range(warmup + requests):
        label, query, pages = variants[i % len(variants)]
        plan.append((label, {**query, "page": rng.randint(1, pages)}))
    url = reverse("ledger:list")
    timings = defaultdict(list)
    for i, (label, query) in enumerate(tqdm(plan, desc="ledger page as %s" % username, unit="req")):
        start = perf_counter()
        response = client.get(url, query)
        elapsed = perf_counter() - start
        assert response.status_code == 200, (username, query, response.status_code)
        if i >= warmup:
            timings[label].append(elapsed)
    if profile:
        with cProfile.Profile() as profiler:
            for _label, query in plan[warmup:]:
                client.get(url, query)
        profiler.dump_stats(profile)
    every = [t for ts in timings.values() for t in ts]
    return {"user": username, **percentiles(every),
            "variants": [(label, pages, percentiles(timings[label])) for label, _q, pages in variants]}


def percentiles(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": statistics.median(ms),
            "p95": statistics.quantiles(ms, n=20, method="inclusive")[18], "max": max(ms)}
