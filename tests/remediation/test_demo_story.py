"""The demo campaign in motion: its history follows the public record and the pledges, is written
through the services with the change log, stops where it is told, and is the same for a seed."""

import datetime
import io
import math
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.utils import timezone
from python_calamine import CalamineWorkbook

from taizhang.campaigns.models import Campaign
from taizhang.core.changelog import history_verify
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.demo import DemoRefused
from taizhang.ledger.exporting import as_of_rows
from taizhang.ledger.models import DemoDatabase, Target
from taizhang.remediation.demo import demo_in_motion, story_until
from taizhang.remediation.models import Inspection, TransitionEvent
from tests.conftest import PRESET

pytestmark = pytest.mark.usefixtures("english")
TEXT = PRESET.read_text(encoding="utf-8")
D = datetime.date


def _in_motion(*, until, today=None, total=None, seed=2015):
    return demo_in_motion(text=TEXT, source=PRESET.name, seed=seed, total=total, until=until, today=today)


def _closed(day, **where):
    """Targets closed at the end of `day`, by the as-of ledger (the change log replayed)."""
    return [r for r in as_of_rows(Target.objects.all(), day, where=where) if r["state"] == Target.State.CLOSED]


def _start_of(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def test_the_story_keeps_the_public_record_and_the_pledges(demo_database, tmp_path):
    # Unshifted (the story's today is its last day), so the days are the record's own.
    made = _in_motion(until=D(2018, 7, 1), today=D(2018, 7, 1))
    assert Target.objects.count() == 528
    assert len(_closed(D(2015, 12, 31))) == 88
    assert len(_closed(D(2016, 6, 30))) >= math.ceil(528 * 0.3)
    assert len(_closed(D(2016, 12, 31))) >= math.ceil(528 * 0.6)
    assert len(_closed(D(2017, 6, 30))) == 528
    assert len(_closed(D(2018, 6, 30))) == 517  # eleven rebounded after the last pledge
    behind = set()
    for day, share in ((D(2016, 6, 30), 0.3), (D(2016, 12, 31), 0.6)):
        rows = list(as_of_rows(Target.objects.all(), day))
        done = Counter(r["street"] for r in rows if r["state"] == Target.State.CLOSED)
        behind |= {(day, street) for street, n in Counter(r["street"] for r in rows).items()
                   if done[street] < share * n}
    assert 1 <= len(behind) <= 3, behind  # one or two streets lag at times, not the whole district
    names = dict(Campaign.objects.get().units.values_list("code", "name"))
    assert behind == {(p.day, names[code]) for p in made.story.pledges for code in p.lagging}
    # Written through the services: the chain holds and every record is as its log says.
    verdict = history_verify()
    assert verdict.ok, (verdict.problem(), verdict.mismatches[:5])
    # The rest of the story happened too: rebounds, re-inspections, the legal path, petitions.
    assert TransitionEvent.objects.filter(to_state=Target.State.REBOUND).count() > 11
    assert Inspection.objects.filter(passed=True).count() > 2000
    assert ChangeLogEntry.objects.filter(object_type="remediation.legalstep").exists()
    assert ChangeLogEntry.objects.filter(object_type="remediation.petition").exists()
    # The as-of export replays it: the ledger of 2015-12-31 has its 88 closed targets.
    call_command("export_ledger", as_of="2015-12-31", output=tmp_path / "2015.xlsx", stdout=io.StringIO())
    rows = CalamineWorkbook.from_path(str(tmp_path / "2015.xlsx")).get_sheet_by_index(0).to_python()
    assert sum(row.count("已销账") for row in rows[2:]) == 88


def test_the_campaign_is_moved_so_that_the_stop_falls_on_today(demo_database):
    today = timezone.localdate()
    made = _in_motion(until=D(2016, 3, 1), total=40)
    shift = (today - D(2016, 3, 1)).days
    campaign = Campaign.objects.get()
    assert made.shift == shift
    assert (campaign.starts_on, campaign.ends_on) == (D(2015, 11, 1) + datetime.timedelta(days=shift),
                                                      D(2017, 10, 31) + datetime.timedelta(days=shift))
    assert list(campaign.milestones.values_list("due_on", flat=True)) == [
        d + datetime.timedelta(days=shift) for d in (D(2015, 12, 31), D(2016, 6, 30), D(2016, 12, 31), D(2017, 6, 30))]
    assert "(demo: dates shifted by %d days)" % shift in campaign.name
    # The as-of ledger replays the moved history: the first pledge's count on its moved day.
    first = campaign.milestones.earliest("due_on").due_on
    assert len(_closed(first)) == made.story.pledges[0].count > 0
    # Nothing after the start of today, and the story ran up to it.
    last = ChangeLogEntry.objects.aggregate(at=Max("at"))["at"]
    assert today - datetime.timedelta(days=14) <= timezone.localdate(last) < today
    assert not TransitionEvent.objects.filter(at__gte=_start_of(today)).exists()
    assert Target.objects.filter(state=Target.State.CLOSED).exists()
    assert Target.objects.exclude(state=Target.State.CLOSED).exists()  # the campaign is mid-way


def test_the_story_stops_at_the_start_of_until(demo_database):
    until = D(2016, 2, 15)
    made = _in_motion(until=until, today=until, total=40)
    assert made.acts == made.story.acts(until=until) < made.story.acts()
    assert ChangeLogEntry.objects.aggregate(at=Max("at"))["at"] < _start_of(until)
    later = [s for s in made.story.sittings if s.moment >= _start_of(until)]
    assert later and later[0].moment.date() < D(2016, 3, 1)  # there was more to write, and none of it was


@pytest.mark.django_db(transaction=True)
def test_the_story_is_the_same_for_a_seed_and_another_for_another(settings):
    settings.DEBUG = True

    def history(seed):
        call_command("flush", interactive=False, verbosity=0)
        DemoDatabase.objects.create()
        _in_motion(until=D(2016, 4, 1), today=D(2016, 4, 1), total=40, seed=seed)
        return list(ChangeLogEntry.objects.order_by("id").values_list(
            "at", "object_type", "object_id", "action", "actor_name", "request_id", "reason", "before", "after"))

    first = history(7)
    assert len(first) > 500
    assert history(7) == first
    assert history(8) != first


def test_the_story_refuses_a_database_the_demo_did_not_make(db, settings):
    settings.DEBUG = True
    with pytest.raises(DemoRefused) as caught:
        _in_motion(until=D(2016, 3, 1), total=20)
    assert "not a demo database" in str(caught.value)
    assert not Campaign.objects.exists() and not ChangeLogEntry.objects.exists()


def test_the_story_refuses_the_production_profile(db, settings):
    DemoDatabase.objects.create()
    settings.DEBUG = False
    with pytest.raises(DemoRefused):
        _in_motion(until=D(2016, 3, 1), total=20)
    assert not Campaign.objects.exists() and not ChangeLogEntry.objects.exists()


@pytest.mark.parametrize("until, message", [
    ("2015-10-01", "--until 2015-10-01 is outside the story: give a day from 2015-11-02 to 2018-07-01."),
    ("2019-01-01", "--until 2019-01-01 is outside the story"),
    ("2016-02-30", "--until: “2016-02-30” is not a day (YYYY-MM-DD)."),
])
@pytest.mark.django_db
def test_setup_demo_refuses_an_until_outside_the_story_and_writes_nothing(settings, until, message):
    settings.DEBUG = True
    with pytest.raises(CommandError) as caught:
        call_command("setup_demo", until=until, stdout=io.StringIO())
    assert message in str(caught.value)
    assert not DemoDatabase.objects.exists() and not Campaign.objects.exists()


def test_the_default_stop_is_between_the_last_two_pledges():
    assert story_until(TEXT, None) == D(2017, 3, 31)
    assert story_until(TEXT, D(2016, 6, 30)) == D(2016, 6, 30)
