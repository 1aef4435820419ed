"""Acceptance (验收) and anti-rebound (长效管控): closing, returning, re-inspections, rebound, its rate."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from taizhang.campaigns.presets import PresetError, parse_preset
from taizhang.core.models import ChangeLogEntry
from taizhang.core.transitions import TransitionRefused
from taizhang.ledger.models import Target
from taizhang.remediation.acceptance import acceptance_record, inspection_record
from taizhang.remediation.checks import RemediationError
from taizhang.remediation.models import Acceptance, Inspection, TransitionEvent
from taizhang.remediation.workflow import target_step
from tests.conftest import PRESET, make_target
from tests.racing import race

S = Target.State
DAYS = [14, 30, 90, 180, 270, 365]
CHECKED = {"tenants_cleared": True, "structures_demolished": True, "demolished_area": Decimal("350.50"),
           "site_cleaned": True, "land_returned": True}


def _state(target):
    """Everything a refused write must leave alone."""
    target.refresh_from_db()
    return (target.state, target.version, Acceptance.objects.count(), Inspection.objects.count(),
            TransitionEvent.objects.count(), ChangeLogEntry.objects.count())


def _put(target, state):
    """Arrange: plans and verification belong to other tests, so set the state directly."""
    Target.objects.filter(pk=target.pk).update(state=state)
    target.refresh_from_db()


def _reported(target, personas):
    """In remediation, then completion reported through the workflow (so the report has its event)."""
    _put(target, S.IN_REMEDIATION)
    target_step(target=target, to=S.COMPLETION_REPORTED, actor=personas["alice"], comment="已完成整治")


def _closed(target, personas):
    _reported(target, personas)
    acceptance_record(target=target, actor=personas["carol"], decision="passed", **CHECKED)
    target.refresh_from_db()


def _rebound(target, personas):
    _closed(target, personas)
    inspection_record(target=target, actor=personas["alice"], passed=False, findings="又有人搭建彩钢房出租")
    target.refresh_from_db()


# Acceptance

def test_passed_acceptance_closes_the_account_and_schedules_reinspections(targets, personas):
    target = targets["GC-0001"]
    _reported(target, personas)
    acceptance = acceptance_record(target=target, actor=personas["carol"], decision="passed", **CHECKED)
    target.refresh_from_db()
    assert target.state == S.CLOSED
    event = TransitionEvent.objects.filter(target=target).last()
    assert (event.from_state, event.to_state, event.actor) == (S.COMPLETION_REPORTED, S.CLOSED, personas["carol"])
    assert (acceptance.decided_by, acceptance.demolished_area) == (personas["carol"], Decimal("350.50"))
    today = timezone.localdate()
    assert [i.due_on for i in Inspection.objects.filter(target=target)] == [
        today + datetime.timedelta(days=d) for d in DAYS]
    assert not Inspection.objects.filter(target=target, done_on__isnull=False).exists()
    logged = ChangeLogEntry.objects.filter(object_type__in=["remediation.acceptance", "remediation.inspection"])
    assert logged.filter(object_type="remediation.acceptance", object_id=str(acceptance.pk)).count() == 1
    assert logged.filter(object_type="remediation.inspection", action="create").count() == len(DAYS)


def test_failed_acceptance_returns_the_target_to_remediation_with_the_reasons(targets, personas):
    target = targets["GC-0001"]
    _reported(target, personas)
    acceptance_record(target=target, actor=personas["carol"], decision="failed", tenants_cleared=True,
                      reasons="  院内仍有两户租户未清退  ")
    target.refresh_from_db()
    assert target.state == S.IN_REMEDIATION
    event = TransitionEvent.objects.filter(target=target).last()
    assert (event.from_state, event.comment, event.actor) == (
        S.COMPLETION_REPORTED, "院内仍有两户租户未清退", personas["carol"])
    assert Inspection.objects.count() == 0


def test_a_decision_counts_only_after_the_latest_report_of_completion(targets, personas):
    target = targets["GC-0001"]
    _reported(target, personas)
    acceptance_record(target=target, actor=personas["carol"], decision="failed", reasons="场地未清理")
    target_step(target=target, to=S.COMPLETION_REPORTED, actor=personas["alice"])
    before = _state(target)
    with pytest.raises(TransitionRefused):  # the office may take it: only the condition is missing
        target_step(target=target, to=S.IN_REMEDIATION, actor=personas["carol"])
    with pytest.raises(TransitionRefused):
        target_step(target=target, to=S.CLOSED, actor=personas["carol"])
    assert _state(target) == before


@pytest.mark.parametrize("state", [S.REGISTERED, S.IN_REMEDIATION, S.CLOSED, S.REBOUND, S.ON_HOLD])
def test_acceptance_is_refused_unless_completion_is_reported(targets, personas, state):
    target = targets["GC-0001"]
    _put(target, state)
    before = _state(target)
    with pytest.raises(RemediationError):
        acceptance_record(target=target, actor=personas["carol"], decision="passed", **CHECKED)
    assert _state(target) == before


@pytest.mark.parametrize("reasons", ["", "   \n"])
def test_failed_acceptance_without_reasons_is_refused(targets, personas, reasons):
    target = targets["GC-0001"]
    _reported(target, personas)
    before = _state(target)
    with pytest.raises(ValidationError) as refused:
        acceptance_record(target=target, actor=personas["carol"], decision="failed", reasons=reasons)
    assert "reasons" in refused.value.message_dict
    assert _state(target) == before


def test_negative_demolished_area_is_refused(targets, personas):
    target = targets["GC-0001"]
    _reported(target, personas)
    before = _state(target)
    with pytest.raises(ValidationError) as refused:
        acceptance_record(target=target, actor=personas["carol"], decision="passed",
                          **dict(CHECKED, demolished_area=Decimal("-1")))
    assert "demolished_area" in refused.value.message_dict
    assert _state(target) == before


def test_an_unknown_decision_is_refused(targets, personas):
    target = targets["GC-0001"]
    _reported(target, personas)
    before = _state(target)
    with pytest.raises(ValidationError) as refused:
        acceptance_record(target=target, actor=personas["carol"], decision="maybe", reasons="?")
    assert "decision" in refused.value.message_dict
    assert _state(target) == before


@pytest.mark.parametrize("name", ["alice", "dan", "erin", "lee", "gina", "bob", "olive"])
def test_only_the_hq_office_accepts(targets, personas, name):
    target = targets["GC-0001"]
    _reported(target, personas)
    before = _state(target)
    with pytest.raises(RemediationError):
        acceptance_record(target=target, actor=personas[name], decision="passed", **CHECKED)
    assert _state(target) == before


def _accept_in_child(pk, username):
    from django.contrib.auth import get_user_model

    try:
        acceptance_record(target=Target.objects.get(pk=pk), actor=get_user_model().objects.get(username=username),
                          decision="passed", **CHECKED)
    except (RemediationError, TransitionRefused):
        return "refused"
    return "closed"


@pytest.mark.django_db(transaction=True)
def test_two_acceptances_at_once_close_the_target_once(targets, personas):
    target = targets["GC-0001"]
    _reported(target, personas)
    answers = race("tests.remediation.test_acceptance:_accept_in_child", [(target.pk, "carol"), (target.pk, "carol")])
    assert answers == ["closed", "refused"]
    assert Acceptance.objects.filter(target=target).count() == 1
    assert Inspection.objects.filter(target=target).count() == len(DAYS)
    assert TransitionEvent.objects.filter(target=target, to_state=S.CLOSED).count() == 1


# Re-inspections and rebound

def test_passed_reinspection_fills_the_next_visit_and_keeps_the_target_closed(targets, personas):
    target = targets["GC-0001"]
    _closed(target, personas)
    first = Inspection.objects.filter(target=target).first()
    inspection_record(target=target, actor=personas["alice"], passed=True, findings="未见反弹")
    first.refresh_from_db()
    target.refresh_from_db()
    assert (first.done_on, first.passed, first.inspector) == (timezone.localdate(), True, personas["alice"])
    assert target.state == S.CLOSED
    assert Inspection.objects.filter(target=target, done_on__isnull=True).count() == len(DAYS) - 1
    assert ChangeLogEntry.objects.filter(object_type="remediation.inspection", action="update").count() == 1


def test_failed_reinspection_moves_the_target_to_rebound_and_cancels_the_rest(targets, personas):
    target = targets["GC-0001"]
    _rebound(target, personas)
    assert target.state == S.REBOUND
    event = TransitionEvent.objects.filter(target=target).last()
    assert (event.from_state, event.to_state, event.actor) == (S.CLOSED, S.REBOUND, None)
    assert "alice" in event.comment and "又有人搭建彩钢房出租" in event.comment
    failed = Inspection.objects.get(target=target)  # the cause stays; the pending visits are cancelled
    assert (failed.passed, failed.inspector, failed.findings) == (False, personas["alice"], "又有人搭建彩钢房出租")
    assert ChangeLogEntry.objects.filter(object_type="remediation.inspection", action="delete").count() == len(
        DAYS) - 1


def test_a_rebounded_target_closed_again_gets_a_fresh_series(targets, personas):
    target = targets["GC-0001"]
    _rebound(target, personas)
    target_step(target=target, to=S.IN_REMEDIATION, actor=personas["alice"], comment="再次整治")
    target_step(target=target, to=S.COMPLETION_REPORTED, actor=personas["alice"])
    acceptance_record(target=target, actor=personas["carol"], decision="passed", **CHECKED)
    target.refresh_from_db()
    assert target.state == S.CLOSED
    assert Inspection.objects.filter(target=target, done_on__isnull=True).count() == len(DAYS)
    # The old failure caused the first rebound; it does not count against the new closing.
    before = _state(target)
    with pytest.raises(TransitionRefused):
        target_step(target=target, to=S.REBOUND, actor=personas["carol"])
    assert _state(target) == before
    inspection_record(target=target, actor=personas["carol"], passed=False, findings="再次反弹")
    target.refresh_from_db()
    assert target.state == S.REBOUND


def test_rebound_by_hand_needs_a_failed_reinspection(targets, personas):
    target = targets["GC-0001"]
    _closed(target, personas)
    before = _state(target)
    with pytest.raises(TransitionRefused):
        target_step(target=target, to=S.REBOUND, actor=personas["carol"])
    assert _state(target) == before


@pytest.mark.parametrize("state", [S.REGISTERED, S.IN_REMEDIATION, S.COMPLETION_REPORTED, S.REBOUND])
def test_reinspection_on_a_target_not_closed_is_refused(targets, personas, state):
    target = targets["GC-0001"]
    _put(target, state)
    before = _state(target)
    with pytest.raises(RemediationError):
        inspection_record(target=target, actor=personas["alice"], passed=False, findings="反弹")
    assert _state(target) == before


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"passed": False, "findings": "  "}, "findings"),
    ({"passed": None}, "passed"),
    ({"passed": True, "done_on": timezone.localdate() + datetime.timedelta(days=1)}, "done_on"),
    ({"passed": True, "done_on": timezone.localdate() - datetime.timedelta(days=1)}, "done_on"),  # before closing
])
def test_bad_reinspection_is_refused_naming_the_field(targets, personas, kwargs, field):
    target = targets["GC-0001"]
    _closed(target, personas)
    before = _state(target)
    with pytest.raises(ValidationError) as refused:
        inspection_record(target=target, actor=personas["alice"], **kwargs)
    assert field in refused.value.message_dict
    assert _state(target) == before


@pytest.mark.parametrize("name", ["dan", "erin", "lee", "gina", "bob", "olive"])
def test_only_the_street_and_the_office_reinspect(targets, personas, name):
    target = targets["GC-0001"]
    _closed(target, personas)
    before = _state(target)
    with pytest.raises(RemediationError):
        inspection_record(target=target, actor=personas[name], passed=False, findings="反弹")
    assert _state(target) == before


def test_a_visit_off_the_schedule_gets_its_own_row(targets, personas):
    target = targets["GC-0001"]
    _closed(target, personas)
    Inspection.objects.filter(target=target).delete()  # e.g. a campaign whose preset schedules none
    inspection_record(target=target, actor=personas["alice"], passed=True)
    assert list(Inspection.objects.filter(target=target).values_list("due_on", "done_on")) == [
        (timezone.localdate(), timezone.localdate())]


# The preset

def test_the_preset_declares_the_reinspection_days(campaign):
    assert campaign.rules["anti_rebound"]["reinspect_after_days"] == DAYS


@pytest.mark.parametrize("value", ["[0, 14]", "[30, 14]", "[14, 14]", '["14"]', "[true]", '"14"', "[-7]"])
def test_bad_reinspection_days_are_refused_naming_the_key(value):
    text = PRESET.read_text(encoding="utf-8").replace(
        "reinspect_after_days = [14, 30, 90, 180, 270, 365]", "reinspect_after_days = %s" % value)
    with pytest.raises(PresetError, match="anti_rebound.reinspect_after_days"):
        parse_preset(text)


def test_a_preset_without_anti_rebound_schedules_nothing():
    text = PRESET.read_text(encoding="utf-8").replace(
        "[anti_rebound]\nreinspect_after_days = [14, 30, 90, 180, 270, 365]\n", "")
    assert parse_preset(text)["rules"]["anti_rebound"] == {"reinspect_after_days": []}


# The command

def test_run_inspections_lists_overdue_visits_per_street_and_records_nothing(targets, personas):
    _closed(targets["GC-0001"], personas)
    _closed(targets["LG-0001"], personas | {"alice": personas["bob"]})
    on = timezone.localdate() + datetime.timedelta(days=31)
    out, err = io.StringIO(), io.StringIO()
    done_before = Inspection.objects.filter(done_on__isnull=False).count()
    call_command("run_inspections", "--date", on.isoformat(), stdout=out, stderr=err)
    text = out.getvalue()
    assert "古城街道: 2 overdue" in text and "鲁谷街道: 2 overdue" in text
    assert "GC-0001" in text and "17 days overdue" in text
    assert "4 re-inspections overdue" in text
    assert Inspection.objects.filter(done_on__isnull=False).count() == done_before
    out = io.StringIO()
    call_command("run_inspections", stdout=out, stderr=io.StringIO())
    assert "0 re-inspections overdue" in out.getvalue()


def test_run_inspections_as_a_user_lists_only_what_they_see(targets, personas):
    _closed(targets["GC-0001"], personas)
    out = io.StringIO()
    call_command("run_inspections", "--user", "bob", "--date", "2099-01-01", stdout=out, stderr=io.StringIO())
    assert "GC-0001" not in out.getvalue() and "0 re-inspections overdue" in out.getvalue()


def test_run_inspections_refuses_a_bad_date(campaign):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_inspections", "--date", "2016-13-01", stdout=io.StringIO(), stderr=io.StringIO())


# Pages

def test_the_work_page_loads_the_acceptance_section(client, targets, personas):
    client.force_login(personas["alice"])
    page = client.get("/work/targets/%d/" % targets["GC-0001"].pk).content.decode()
    assert 'hx-get="/work/targets/%d/acceptance/"' % targets["GC-0001"].pk in page


def test_the_section_is_a_partial_for_htmx_and_offers_the_form_to_the_office_only(client, targets, personas):
    target = targets["GC-0001"]
    _reported(target, personas)
    client.force_login(personas["carol"])
    section = client.get("/work/targets/%d/acceptance/" % target.pk, headers={"HX-Request": "true"})
    html = section.content.decode()
    assert "<html" not in html and 'id="acceptance-form"' in html
    client.force_login(personas["alice"])
    assert 'id="acceptance-form"' not in client.get("/work/targets/%d/acceptance/" % target.pk).content.decode()


def test_the_office_accepts_on_the_page_and_the_street_fails_a_reinspection(client, targets, personas):
    target = targets["GC-0001"]
    _reported(target, personas)
    client.force_login(personas["carol"])
    response = client.post("/work/targets/%d/acceptance/" % target.pk, {
        "tenants_cleared": "on", "structures_demolished": "on", "demolished_area": "120.5", "site_cleaned": "on",
        "land_returned": "on", "decision": "passed", "reasons": ""})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.state == S.CLOSED and Inspection.objects.filter(target=target).count() == len(DAYS)
    client.force_login(personas["alice"])
    section = client.get("/work/targets/%d/acceptance/" % target.pk).content.decode()
    assert 'id="inspection-form"' in section
    response = client.post("/work/targets/%d/reinspect/" % target.pk, {"passed": "0", "findings": "新增违建"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.state == S.REBOUND


@pytest.mark.parametrize(("data", "field"), [
    ({"decision": "failed", "reasons": ""}, "reasons"),
    ({"decision": "passed", "demolished_area": "-5"}, "demolished_area"),
])
def test_bad_acceptance_on_the_page_shows_the_field_and_changes_nothing(client, targets, personas, data, field):
    target = targets["GC-0001"]
    _reported(target, personas)
    before = _state(target)
    client.force_login(personas["carol"])
    response = client.post("/work/targets/%d/acceptance/" % target.pk, data)
    assert response.status_code == 200
    assert response.context["acceptance_form"].errors[field]
    assert _state(target) == before


def test_a_street_user_posting_an_acceptance_is_refused(client, targets, personas):
    target = targets["GC-0001"]
    _reported(target, personas)
    before = _state(target)
    client.force_login(personas["alice"])
    response = client.post("/work/targets/%d/acceptance/" % target.pk, {"decision": "passed"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert _state(target) == before


def test_a_reinspection_posted_on_a_target_not_closed_is_refused(client, targets, personas):
    target = targets["GC-0001"]
    _put(target, S.IN_REMEDIATION)
    before = _state(target)
    client.force_login(personas["alice"])
    client.post("/work/targets/%d/reinspect/" % target.pk, {"passed": "0", "findings": "反弹"})
    assert _state(target) == before


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/work/targets/%d/acceptance/"), ("post", "/work/targets/%d/acceptance/"),
    ("post", "/work/targets/%d/reinspect/"),
])
def test_other_street_gets_404(client, targets, personas, method, url):
    target = targets["GC-0001"]
    _closed(target, personas)
    before = _state(target)
    client.force_login(personas["bob"])
    data = {"passed": "0", "findings": "反弹", "decision": "failed", "reasons": "x"}
    assert getattr(client, method)(url % target.pk, data).status_code == 404
    assert _state(target) == before


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/work/targets/%d/acceptance/"), ("post", "/work/targets/%d/acceptance/"),
    ("post", "/work/targets/%d/reinspect/"), ("get", "/work/inspections/"), ("get", "/work/rebound/"),
])
def test_anonymous_goes_to_login(client, targets, method, url):
    response = getattr(client, method)(url % targets["GC-0001"].pk if "%d" in url else url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_home_page_links_the_overdue_list(client, targets, personas):
    client.force_login(personas["alice"])
    assert 'href="/work/inspections/"' in client.get("/").content.decode()


def test_overdue_list_is_scoped_and_its_queries_do_not_grow(client, targets, personas, django_assert_num_queries):
    _closed(targets["GC-0001"], personas)
    url = "/work/inspections/?date=%s" % (timezone.localdate() + datetime.timedelta(days=100)).isoformat()
    client.force_login(personas["bob"])
    assert client.get(url).context["overdue"] == []
    client.force_login(personas["alice"])
    with django_assert_num_queries(6):  # 6 with the header's unread notifications
        page = client.get(url)
    assert [i.target.code for i in page.context["overdue"]] == ["GC-0001"] * 3
    _closed(targets["GC-0002"], personas)
    _closed(targets["GC-0003"], personas)
    with django_assert_num_queries(6):
        page = client.get(url)
    assert len(page.context["overdue"]) == 9
    assert "古城街道" in page.content.decode()


def test_rebound_rates_by_street_and_system(client, units, targets, personas, django_assert_num_queries):
    _closed(targets["GC-0001"], personas)
    _rebound(targets["GC-0002"], personas)
    _put(targets["LG-0001"], S.CLOSED)  # closed before Taizhang kept a timeline: still counts
    client.force_login(personas["carol"])
    # The session, the user, the memberships, the campaigns, three counts and the header's unread notifications.
    with django_assert_num_queries(8):
        rates = client.get("/work/rebound/").context["rates"]
    street = {row["label"]: (row["closed"], row["rebounded"], row["pct"]) for row in rates["street"]}
    assert street["古城街道"] == (2, 1, 50.0) and street["鲁谷街道"] == (1, 0, 0.0)
    system = {row["label"]: (row["closed"], row["rebounded"]) for row in rates["system"]}
    assert system["集体经济系统"] == (2, 1) and system["首钢系统"] == (0, 0)
    assert (rates["total"][0]["closed"], rates["total"][0]["rebounded"]) == (3, 1)
    for i in range(5):
        _put(make_target(units, "GC-01%02d" % i, "GC", "JT"), S.CLOSED)
    with django_assert_num_queries(8):
        rates = client.get("/work/rebound/").context["rates"]
    assert rates["total"][0]["closed"] == 8
    client.force_login(personas["bob"])
    rates = client.get("/work/rebound/").context["rates"]
    assert [row["label"] for row in rates["street"]] == ["鲁谷街道"]
    assert (rates["total"][0]["closed"], rates["total"][0]["rebounded"]) == (1, 0)
