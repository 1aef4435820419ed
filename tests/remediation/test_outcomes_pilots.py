"""People and money per target and totals; pilots, their quota, lessons and comparison."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.models import Target
from taizhang.remediation.models import Outcome, PilotLesson, TransitionEvent
from taizhang.remediation.outcomes import OutcomeError, outcome_record
from taizhang.remediation.pilots import PilotError, lesson_record, pilot_mark


def test_outcomes_are_recorded_per_stage_and_totalled_by_street_and_system(client, targets, personas):
    outcome_record(target=targets["GC-0001"], actor=personas["alice"], stage="verification",
                   values={"tenants_cleared": 0, "people_moved": 0, "funds_paid": Decimal("0")})
    outcome_record(target=targets["GC-0001"], actor=personas["alice"], stage="acceptance",
                   values={"tenants_cleared": 12, "people_moved": 40, "people_employed": 5,
                           "funds_paid": Decimal("150000"), "demolished_area": Decimal("800.5")})
    outcome_record(target=targets["LG-0001"], actor=personas["bob"], stage="acceptance",
                   values={"tenants_cleared": 3, "people_moved": 9})
    client.force_login(personas["carol"])
    response = client.get("/work/outcomes/")
    by_street = {(r["unit"], r["stage"]): r for r in response.context["by_street"]}
    assert by_street[("古城街道", "acceptance")]["people_moved"] == 40
    assert by_street[("鲁谷街道", "acceptance")]["tenants_cleared"] == 3
    by_system = {(r["unit"], r["stage"]): r for r in response.context["by_system"]}
    assert by_system[("集体经济系统", "acceptance")]["funds_paid"] == Decimal("150000")
    client.force_login(personas["alice"])
    streets = {r["unit"] for r in client.get("/work/outcomes/").context["by_street"]}
    assert streets == {"古城街道"}


def test_recording_again_corrects_the_stage_and_logs_before_and_after(targets, personas):
    target = targets["GC-0001"]
    outcome_record(target=target, actor=personas["alice"], stage="acceptance", values={"people_moved": 4})
    outcome_record(target=target, actor=personas["alice"], stage="acceptance", values={"people_moved": 6})
    assert Outcome.objects.get(target=target, stage="acceptance").people_moved == 6
    entry = ChangeLogEntry.objects.filter(object_type="remediation.outcome").last()
    assert (entry.before["people_moved"], entry.after["people_moved"]) == (4, 6)


@pytest.mark.parametrize("values", [{"people_moved": -1}, {"funds_paid": Decimal("-5")},
                                    {"land_recovered": Decimal("-0.5")}])
def test_negative_amounts_are_refused(targets, personas, values):
    with pytest.raises(ValidationError):
        outcome_record(target=targets["GC-0001"], actor=personas["alice"], stage="acceptance", values=values)
    assert Outcome.objects.count() == 0


def test_outcomes_outside_the_role_are_refused(targets, personas):
    for name in ("bob", "erin", "lee"):
        with pytest.raises(OutcomeError):
            outcome_record(target=targets["GC-0001"], actor=personas[name], stage="acceptance", values={})
    assert Outcome.objects.count() == 0


def test_outcome_form_refuses_negative_people_on_the_page(client, targets, personas):
    client.force_login(personas["alice"])
    client.post("/work/targets/%d/outcomes/acceptance/" % targets["GC-0001"].pk, {"acceptance-people_moved": "-3"})
    assert Outcome.objects.count() == 0


def test_pilot_quota_is_checked_with_a_warning(targets, personas, units):
    warnings = pilot_mark(target=targets["GC-0001"], actor=personas["alice"], is_pilot=True)
    assert not any("古城街道" in w for w in warnings)
    pilot_mark(target=targets["GC-0002"], actor=personas["alice"], is_pilot=True)
    warnings = pilot_mark(target=targets["GC-0003"], actor=personas["alice"], is_pilot=True)
    assert any("古城街道" in w and "3" in w for w in warnings)
    assert Target.objects.filter(is_pilot=True).count() == 3  # a warning, not a refusal


def test_lessons_only_on_pilots_and_only_by_those_working_on_it(targets, personas):
    target = targets["GC-0001"]
    with pytest.raises(PilotError):
        lesson_record(target=target, actor=personas["alice"], title="经验", text="先谈后拆")
    pilot_mark(target=target, actor=personas["carol"], is_pilot=True)
    target.refresh_from_db()
    with pytest.raises(PilotError):
        lesson_record(target=target, actor=personas["bob"], title="经验", text="先谈后拆")
    lesson_record(target=target, actor=personas["alice"], title="经验", text="先谈后拆")
    assert list(PilotLesson.objects.values_list("title", flat=True)) == ["经验"]


def test_pilots_page_compares_pilots_with_the_rest(client, targets, personas):
    target = targets["GC-0001"]
    pilot_mark(target=target, actor=personas["carol"], is_pilot=True)
    Target.objects.filter(pk=target.pk).update(state="closed")
    TransitionEvent.objects.create(target=target, from_state="completion_reported", to_state="closed")
    client.force_login(personas["carol"])
    rows = {row["is_pilot"]: row for row in client.get("/work/pilots/").context["comparison"]}
    assert (rows[True]["targets"], rows[True]["closed"], rows[False]["targets"]) == (1, 1, 4)
    assert rows[True]["avg_days"] == 0


@pytest.mark.parametrize("url", ["/work/targets/%d/pilot/", "/work/targets/%d/lessons/",
                                 "/work/targets/%d/outcomes/acceptance/"])
def test_other_street_gets_404_on_pilot_and_outcome_posts(client, targets, personas, url):
    client.force_login(personas["bob"])
    assert client.post(url % targets["GC-0001"].pk, {"is_pilot": "1"}).status_code == 404
    assert not Target.objects.filter(is_pilot=True).exists()


def test_pages_need_login(client, targets):
    for url in ("/work/outcomes/", "/work/pilots/"):
        assert client.get(url)["Location"].startswith("/accounts/login/")
