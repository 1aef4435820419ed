"""The demo's clock and its moved campaign: demo code only, never ahead of the real time, never
back, the real clock back after; a preset's days moved alike or not at all."""

import datetime

import pytest
from django.utils import timezone

from taizhang.campaigns.presets import parse_preset
from taizhang.ledger.demo import DemoClock, DemoRefused, preset_shifted
from taizhang.ledger.models import DemoDatabase
from tests.conftest import PRESET

pytestmark = pytest.mark.usefixtures("english")
TEXT = PRESET.read_text(encoding="utf-8")


def _at(*args):
    return timezone.make_aware(datetime.datetime(*args))


def test_the_clock_reads_the_story_s_moment_and_gives_the_real_one_back(demo_database):
    real = timezone.now
    with DemoClock().running(_at(2015, 11, 1, 8)) as clock:
        assert timezone.now() == _at(2015, 11, 1, 8)
        assert timezone.localdate() == datetime.date(2015, 11, 1)
        clock.set(_at(2015, 11, 2, 9))
        assert timezone.now() == _at(2015, 11, 2, 9)
    assert timezone.now is real


def test_the_clock_never_goes_back_nor_ahead_of_the_real_time(demo_database):
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    with DemoClock().running(_at(2015, 11, 1, 8)) as clock:
        with pytest.raises(ValueError, match="does not go back"):
            clock.set(_at(2015, 10, 31, 8))
        with pytest.raises(ValueError, match="does not run ahead"):
            clock.set(tomorrow)
    with pytest.raises(ValueError, match="does not run ahead"), DemoClock().running(
            timezone.now() + datetime.timedelta(hours=1)):
        pass


def test_the_real_clock_comes_back_after_a_failure(demo_database):
    real = timezone.now
    with pytest.raises(RuntimeError, match="boom"), DemoClock().running(_at(2015, 11, 1, 8)):
        raise RuntimeError("boom")
    assert timezone.now is real


def test_one_clock_at_a_time(demo_database):
    with DemoClock().running(_at(2015, 11, 1, 8)):
        with pytest.raises(RuntimeError, match="already running"), DemoClock().running(_at(2015, 11, 2, 8)):
            pass
        assert timezone.now() == _at(2015, 11, 1, 8)


def test_the_clock_refuses_a_database_the_demo_did_not_make(db, settings):
    settings.DEBUG = True
    real = timezone.now
    with pytest.raises(DemoRefused, match="not a demo database"), DemoClock().running(_at(2015, 11, 1, 8)):
        pass
    assert timezone.now is real


def test_the_clock_refuses_the_production_profile(db, settings):
    DemoDatabase.objects.create()
    settings.DEBUG = False
    with pytest.raises(DemoRefused, match="production"), DemoClock().running(_at(2015, 11, 1, 8)):
        pass


def test_a_shifted_preset_moves_every_day_alike_and_says_so():
    days = datetime.timedelta(days=3300)
    before, after = parse_preset(TEXT), parse_preset(preset_shifted(TEXT, 3300))
    assert after["campaign"]["name"] == "石景山区治乱疏解建高端 (demo: dates shifted by 3300 days)"
    assert after["campaign"]["starts_on"] == before["campaign"]["starts_on"] + days
    assert after["campaign"]["ends_on"] == before["campaign"]["ends_on"] + days
    assert [(p["starts_on"], p["ends_on"]) for p in after["phases"]] == [
        (p["starts_on"] + days, p["ends_on"] + days) for p in before["phases"]]
    assert [m["due_on"] for m in after["milestones"]] == [m["due_on"] + days for m in before["milestones"]]
    for key in ("units", "target_types", "liaisons", "aliases", "rules"):
        assert after[key] == before[key]
    assert preset_shifted(TEXT, 0) == TEXT


def test_a_preset_whose_days_the_shift_cannot_find_is_refused():
    text = TEXT.replace('[[milestones]]\ndue_on = 2015-12-31\ntitle = "完成拆违治乱各项前期准备工作和试点任务"',
                        '[[milestones]]\ntitle = "完成拆违治乱各项前期准备工作和试点任务"\n"due_on" = 2015-12-31')
    assert parse_preset(text)["milestones"][0]["due_on"] == datetime.date(2015, 12, 31)  # valid, written otherwise
    with pytest.raises(ValueError, match="could not all be shifted"):
        preset_shifted(text, 10)
