"""A ledger of any size with a whole campaign's history, for bench/command.py (run as its child).

The demo's story goes through the workflow services act by act, which writes a few thousand
targets a minute: a million would take days. This writes the same kind of history through the
change log's bulk writer (`changelog_batch`, the entries sealed and chained as any other), under
the demo clock, from the targets' own snapshots: each target is created at the campaign's start
(`demo_load`), verified, given an approved plan, taken into remediation, reported complete and
closed, each entry its full snapshot with the new state; a target's resident population is
corrected once on the way (an entry that changes no figure); the closing day follows the
campaign's public record (88 of 528 by 2015-12-31, the pledges of 2016 and 2017 met, 517 of 528
by 2018-06-30), one street slower than the rest; one closed target in 30 rebounds and is closed
again; each closing records its people and money (an acceptance outcome entry). The ledger's
rows are left in each target's last state. Workflow events, plans and other records are not
written: the command room reads the change log, the targets and the spans alone.

    python bench/campaign_history.py TARGETS SEED   (DJANGO_SETTINGS_MODULE and a fresh database set)
"""

import datetime
import json
import random
import sys
from bisect import bisect
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The share of the ledger closed by each day (the campaign's public record and pledges).
RECORD = [(datetime.date(2015, 11, 20), 0.0), (datetime.date(2015, 12, 31), 88 / 528),
          (datetime.date(2016, 6, 30), 0.42), (datetime.date(2016, 12, 31), 0.71),
          (datetime.date(2017, 6, 30), 0.93), (datetime.date(2018, 6, 30), 517 / 528)]
SLOW_STREET_DELAY = 1.25  # the slow street's closing days lie this much further from the start
REBOUND_EVERY = 30
STEPS_BEFORE_CLOSING = (("verified", 0.1), ("plan_approved", 0.3), ("in_remediation", 0.4),
                        ("completion_reported", 0.9))
PEOPLE_EDIT = "people"


def closing_day(rng: random.Random, start: datetime.date, slow: bool) -> datetime.date | None:
    """A day drawn from the record's shares (None: never closed), later for the slow street."""
    share = rng.random()
    shares = [s for _d, s in RECORD]
    index = bisect(shares, share)
    if index >= len(RECORD):
        return None
    (d0, s0), (d1, s1) = RECORD[index - 1], RECORD[index]
    day = d0 + datetime.timedelta(days=round((d1 - d0).days * (share - s0) / (s1 - s0)))
    if slow:
        day = start + datetime.timedelta(days=round((day - start).days * SLOW_STREET_DELAY))
    return day if day <= RECORD[-1][0] else None


def moments(rng: random.Random, created: datetime.date, closed: datetime.date | None,
            end: datetime.date) -> list[tuple[datetime.date, str]]:
    """(day, state or PEOPLE_EDIT) for one target, in time order."""
    last = closed or end
    span = max(1, (last - created).days)
    found = [(created + datetime.timedelta(days=max(1, round(span * f))), state) for state, f in STEPS_BEFORE_CLOSING
             if closed is not None or f < 0.5]
    found.append((created + datetime.timedelta(days=rng.randint(1, span)), PEOPLE_EDIT))
    if closed is not None:
        found.append((closed, "closed"))
        if rng.randrange(REBOUND_EVERY) == 0:
            rebound = closed + datetime.timedelta(days=rng.randint(30, 200))
            if rebound < end:
                found += [(rebound, "rebound"), (rebound + datetime.timedelta(days=20), "in_remediation"),
                          (rebound + datetime.timedelta(days=60), "closed")]
    return sorted((d, s) for d, s in found if d < end)


def generate(total: int, seed: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone
    from steps import PRESET
    from tqdm import tqdm

    from taizhang.campaigns.models import OrgUnit
    from taizhang.campaigns.presets import preset_load
    from taizhang.core.changelog import Change, changelog_append, changelog_batch
    from taizhang.core.context import request_context
    from taizhang.core.models import ChangeLogEntry
    from taizhang.ledger.asof import OBJECT_TYPE
    from taizhang.ledger.demo import DemoClock, demo_database_claim, demo_load, demo_users
    from taizhang.ledger.models import Target
    from taizhang.remediation.snapshots import OUTCOME

    started = perf_counter()
    call_command("migrate", verbosity=0)
    demo_database_claim()
    rng = random.Random(seed)
    opening = timezone.make_aware(datetime.datetime(2015, 11, 20, 8, 0))
    clock = DemoClock()
    written = 0
    with clock.running(opening), request_context(), transaction.atomic():
        with changelog_batch():  # written when it ends: the history reads the targets' entries
            campaign, _created = preset_load(text=PRESET.read_text(encoding="utf-8"), source=PRESET.name)
            demo_load(campaign=campaign, seed=seed, total=total)
            demo_users(campaign)
        end = min(RECORD[-1][0] + datetime.timedelta(days=1), datetime.date.today())
        slow_street = OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.STREET).order_by("sort").last()
        created = ChangeLogEntry.objects.filter(object_type=OBJECT_TYPE, action=ChangeLogEntry.Action.CREATE)
        # Entries are appended in time order, as a campaign writes them: (minute, target, what).
        snapshots, events = {}, []
        for pk, after in created.values_list("object_id", "after").iterator(chunk_size=5000):
            snapshots[pk] = after
        streets = dict(Target.objects.filter(campaign=campaign).values_list("pk", "street_id"))
        for pk in snapshots:
            closed = closing_day(rng, campaign.starts_on, streets[int(pk)] == slow_street.pk)
            for day, what in moments(rng, RECORD[0][0], closed, end):
                events.append(((day - RECORD[0][0]).days * 1440 + rng.randrange(8 * 60, 18 * 60), pk, what))
        events.sort()
        final = {}
        with changelog_batch():
            for minute, pk, what in tqdm(events, desc="history", unit="entry", mininterval=2):
                clock.set(opening.replace(hour=0, minute=0) + datetime.timedelta(minutes=minute))
                before = snapshots[pk]
                if what == PEOPLE_EDIT:
                    after = {**before, "resident_population": (before.get("resident_population") or 0) + 1}
                else:
                    after = {**before, "state": what}
                    final[pk] = what
                changes = [Change(OBJECT_TYPE, pk, after.get("code", pk), ChangeLogEntry.Action.UPDATE, before,
                                  after, target_id=int(pk))]
                if what == "closed":
                    changes.append(Change(OUTCOME.object_type, "bench-%s-%d" % (pk, minute), "acceptance",
                                          ChangeLogEntry.Action.CREATE, None,
                                          {"stage": "acceptance", "tenants_cleared": True, "people_moved": 12,
                                           "people_employed": 3, "funds_paid": "25000.00",
                                           "demolished_area": "350.50", "land_recovered": "800.00"},
                                          target_id=int(pk)))
                changelog_append(changes=changes, reason="bench history")
                snapshots[pk] = after
                written += len(changes)
        by_state = {}
        for pk, state in final.items():
            by_state.setdefault(state, []).append(int(pk))
        for state, pks in by_state.items():
            for i in range(0, len(pks), 5000):
                Target.objects.filter(pk__in=pks[i:i + 5000]).update(state=state)
    return {"targets": total, "entries": written, "seconds": perf_counter() - started}


if __name__ == "__main__":
    print(json.dumps(generate(int(sys.argv[1]), int(sys.argv[2]))))
