"""The legal path per lease: order of the steps, dates, who may record, overdue steps, and the pages."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from taizhang.core.models import ChangeLogEntry
from taizhang.remediation.checks import RemediationError
from taizhang.remediation.legal import (
    lease_answer,
    lease_expose,
    lease_notice,
    lease_record,
    legal_step_done,
    legal_step_open,
)
from taizhang.remediation.models import Lease, LegalStep
from tests.conftest import group_member
from tests.racing import race

pytestmark = pytest.mark.usefixtures("english")


TODAY = datetime.date(2016, 6, 15)
D = datetime.date
STAGES = ["research", "filing", "suit", "trial", "enforcement"]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Today is 2016-06-15 for every date check and overdue flag in these tests."""
    real = timezone.localdate
    monkeypatch.setattr(timezone, "localdate", lambda value=None, tz=None: TODAY if value is None else real(value, tz))


def _db():
    """Everything a refused write must leave alone."""
    return (list(Lease.objects.order_by("pk").values()), list(LegalStep.objects.order_by("pk").values()),
            ChangeLogEntry.objects.count())


def _lease(target, actor, **kwargs):
    return lease_record(target=target, actor=actor, lessee=kwargs.pop("lessee", "张三"), **kwargs)


def _refused(target, personas, *, exposed=True):
    lease = _lease(target, personas["alice"])
    lease_notice(lease=lease, actor=personas["alice"], sent_on=D(2016, 1, 5))
    lease_answer(lease=lease, actor=personas["alice"], answer="refused", answered_on=D(2016, 1, 20))
    if exposed:
        lease_expose(lease=lease, actor=personas["alice"], exposed_on=D(2016, 2, 1))
    return Lease.objects.get(pk=lease.pk)



# --- the path, in order ------------------------------------------------------------------

def test_the_whole_path_from_notice_to_enforcement_is_recorded_and_logged(targets, personas):
    target, alice, gina = targets["GC-0001"], personas["alice"], personas["gina"]
    entries = ChangeLogEntry.objects.count()
    lease = _lease(target, alice, kind="land", ends_on=D(2018, 12, 31))
    lease_notice(lease=lease, actor=alice, sent_on=D(2016, 1, 5))
    lease_answer(lease=lease, actor=alice, answer="refused", answered_on=D(2016, 1, 20))
    lease_expose(lease=lease, actor=personas["carol"], exposed_on=D(2016, 2, 1))
    day = D(2016, 2, 1)
    for stage in STAGES:
        step = legal_step_open(lease=lease, actor=gina, stage=stage, due_on=day + datetime.timedelta(days=20),
                               court="石景山区人民法院")
        day += datetime.timedelta(days=10)
        legal_step_done(step=step, actor=gina, done_on=day, case_number="(2016)京0107民初%d号" % day.day,
                        result="完成")
    lease.refresh_from_db()
    assert (lease.notice_sent_on, lease.answer, lease.answered_on, lease.exposed_on) == (
        D(2016, 1, 5), "refused", D(2016, 1, 20), D(2016, 2, 1))
    assert [(s.stage, s.done_on) for s in lease.legal_steps.all()] == [
        (stage, D(2016, 2, 11) + datetime.timedelta(days=10 * i)) for i, stage in enumerate(STAGES)]
    assert ChangeLogEntry.objects.count() == entries + 4 + 2 * len(STAGES)
    last = ChangeLogEntry.objects.order_by("-pk").first()
    assert (last.object_type, last.actor, last.after["stage"], last.after["result"]) == (
        "remediation.legalstep", gina, "enforcement", "完成")


def test_an_answer_needs_the_notice_first(targets, personas):
    lease = _lease(targets["GC-0001"], personas["alice"])
    before = _db()
    with pytest.raises(ValidationError) as exc:
        lease_answer(lease=lease, actor=personas["alice"], answer="refused", answered_on=D(2016, 1, 20))
    assert "answer" in exc.value.message_dict and "termination notice" in exc.value.messages[0]
    assert _db() == before


@pytest.mark.parametrize("answer", ["pending", "agreed"])
def test_exposure_only_after_a_refusal(targets, personas, answer):
    lease = _lease(targets["GC-0001"], personas["alice"])
    lease_notice(lease=lease, actor=personas["alice"], sent_on=D(2016, 1, 5))
    if answer == "agreed":
        lease_answer(lease=lease, actor=personas["alice"], answer="agreed", answered_on=D(2016, 1, 6))
    before = _db()
    with pytest.raises(ValidationError) as exc:
        lease_expose(lease=lease, actor=personas["alice"], exposed_on=D(2016, 2, 1))
    assert list(exc.value.message_dict) == ["exposed_on"]
    assert _db() == before


@pytest.mark.parametrize(("write", "field"), [
    (lambda lease, who: lease_answer(lease=lease, actor=who, answer="refused", answered_on=D(2016, 1, 4)),
     "answered_on"),
    (lambda lease, who: lease_answer(lease=lease, actor=who, answer="refused", answered_on=D(2016, 6, 16)),
     "answered_on"),
    (lambda lease, who: lease_answer(lease=lease, actor=who, answer="maybe", answered_on=D(2016, 1, 6)), "answer"),
    (lambda lease, who: lease_notice(lease=lease, actor=who, sent_on=D(2016, 1, 9)), "notice_sent_on"),
])
def test_bad_answer_dates_and_a_second_notice_are_refused(targets, personas, write, field):
    lease = _lease(targets["GC-0001"], personas["alice"])
    lease_notice(lease=lease, actor=personas["alice"], sent_on=D(2016, 1, 5))
    before = _db()
    with pytest.raises(ValidationError) as exc:
        write(lease, personas["alice"])
    assert list(exc.value.message_dict) == [field]
    assert str(Lease._meta.get_field(field).verbose_name) in exc.value.messages[0]
    assert _db() == before


def test_a_notice_in_the_future_is_refused(targets, personas):
    lease = _lease(targets["GC-0001"], personas["alice"])
    before = _db()
    with pytest.raises(ValidationError, match="future"):
        lease_notice(lease=lease, actor=personas["alice"], sent_on=TODAY + datetime.timedelta(days=1))
    assert _db() == before


def test_exposure_before_the_refusal_is_refused(targets, personas):
    lease = _refused(targets["GC-0001"], personas, exposed=False)
    before = _db()
    with pytest.raises(ValidationError) as exc:
        lease_expose(lease=lease, actor=personas["alice"], exposed_on=D(2016, 1, 19))
    assert list(exc.value.message_dict) == ["exposed_on"] and "2016-01-20" in exc.value.messages[0]
    assert _db() == before


def test_judicial_steps_start_only_after_a_refusal(targets, personas):
    lease = _lease(targets["GC-0001"], personas["alice"])
    lease_notice(lease=lease, actor=personas["alice"], sent_on=D(2016, 1, 5))
    lease_answer(lease=lease, actor=personas["alice"], answer="agreed", answered_on=D(2016, 1, 6))
    before = _db()
    with pytest.raises(ValidationError) as exc:
        legal_step_open(lease=lease, actor=personas["gina"], stage="research")
    assert list(exc.value.message_dict) == ["stage"]
    assert _db() == before


def test_each_judicial_stage_only_after_the_previous_one_is_done(targets, personas):
    lease, gina = _refused(targets["GC-0001"], personas), personas["gina"]
    before = _db()
    with pytest.raises(ValidationError, match="调研"):
        legal_step_open(lease=lease, actor=gina, stage="filing")
    assert _db() == before
    research = legal_step_open(lease=lease, actor=gina, stage="research", due_on=D(2016, 3, 1))
    before = _db()
    with pytest.raises(ValidationError) as exc:
        legal_step_open(lease=lease, actor=gina, stage="filing")  # research opened, not done
    assert list(exc.value.message_dict) == ["stage"]
    with pytest.raises(ValidationError, match="already"):
        legal_step_open(lease=lease, actor=gina, stage="research")
    with pytest.raises(ValidationError):
        legal_step_open(lease=lease, actor=gina, stage="appeal")
    assert _db() == before
    legal_step_done(step=research, actor=gina, done_on=D(2016, 2, 20))
    assert legal_step_open(lease=lease, actor=gina, stage="filing").stage == "filing"


@pytest.mark.parametrize(("done_on", "field", "words"), [
    (D(2016, 1, 19), "done_on", "2016-01-20"),  # before the refusal
    (TODAY + datetime.timedelta(days=1), "done_on", "future"),
    (None, "done_on", "date"),
])
def test_bad_done_dates_are_refused(targets, personas, done_on, field, words):
    lease = _refused(targets["GC-0001"], personas)
    step = legal_step_open(lease=lease, actor=personas["gina"], stage="research")
    before = _db()
    with pytest.raises(ValidationError) as exc:
        legal_step_done(step=step, actor=personas["gina"], done_on=done_on, court="某法院")
    assert list(exc.value.message_dict) == [field] and words in exc.value.messages[0]
    assert _db() == before


def test_a_stage_is_not_done_before_the_previous_one_and_not_twice(targets, personas):
    lease, gina = _refused(targets["GC-0001"], personas), personas["gina"]
    research = legal_step_open(lease=lease, actor=gina, stage="research")
    legal_step_done(step=research, actor=gina, done_on=D(2016, 3, 1))
    filing = legal_step_open(lease=lease, actor=gina, stage="filing")
    before = _db()
    with pytest.raises(ValidationError, match="2016-03-01"):
        legal_step_done(step=filing, actor=gina, done_on=D(2016, 2, 28))
    with pytest.raises(ValidationError, match="already"):
        legal_step_done(step=research, actor=gina, done_on=D(2016, 3, 2))
    with pytest.raises(ValidationError) as exc:
        legal_step_open(lease=lease, actor=gina, stage="suit", due_on=D(2016, 2, 1))
    assert _db() == before
    assert exc.value.message_dict.keys() == {"stage"}  # filing is not done yet: that comes first


def test_a_due_date_before_the_previous_step_is_refused(targets, personas):
    lease = _refused(targets["GC-0001"], personas)
    before = _db()
    with pytest.raises(ValidationError) as exc:
        legal_step_open(lease=lease, actor=personas["gina"], stage="research", due_on=D(2016, 1, 1))
    assert list(exc.value.message_dict) == ["due_on"]
    assert _db() == before


def test_a_lease_without_lessee_is_refused_naming_the_field(targets, personas):
    before = _db()
    with pytest.raises(ValidationError) as exc:
        lease_record(target=targets["GC-0001"], actor=personas["alice"], lessee="  ")
    assert list(exc.value.message_dict) == ["lessee"]
    assert str(Lease._meta.get_field("lessee").verbose_name) in exc.value.messages[0]
    assert _db() == before


# --- who may record ----------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["alice", "carol", "dan"])
def test_street_office_and_rights_unit_keep_the_leases(targets, personas, persona):
    lease = _lease(targets["GC-0001"], personas[persona])
    lease_notice(lease=lease, actor=personas[persona], sent_on=D(2016, 1, 5))
    assert Lease.objects.get(pk=lease.pk).notice_sent_on == D(2016, 1, 5)


@pytest.mark.parametrize("persona", ["bob", "erin", "lee", "gina", "jin", "olive"])
def test_others_may_not_keep_leases(targets, personas, persona):
    lease = _lease(targets["GC-0001"], personas["alice"])
    before = _db()
    with pytest.raises(RemediationError):
        lease_record(target=targets["GC-0001"], actor=personas[persona], lessee="李四")
    with pytest.raises(RemediationError):
        lease_notice(lease=lease, actor=personas[persona], sent_on=D(2016, 1, 5))
    assert _db() == before


def test_the_legal_group_records_judicial_steps_and_other_groups_do_not(targets, personas, units):
    lease = _refused(targets["GC-0001"], personas)
    petitions_group = group_member(units, "G07")
    before = _db()
    for user in (petitions_group, personas["lee"], personas["erin"], personas["bob"]):
        with pytest.raises(RemediationError):
            legal_step_open(lease=lease, actor=user, stage="research")
    assert _db() == before
    step = legal_step_open(lease=lease, actor=personas["gina"], stage="research")
    with pytest.raises(RemediationError):
        legal_step_done(step=step, actor=petitions_group, done_on=D(2016, 3, 1))
    legal_step_done(step=step, actor=personas["dan"], done_on=D(2016, 3, 1))
    assert LegalStep.objects.get(pk=step.pk).done_on == D(2016, 3, 1)


def _open_in_child(lease_pk, username):
    import time

    from taizhang.remediation import legal

    real_clean = legal.clean

    def slow_clean(obj):
        time.sleep(0.3)  # between the check and the insert: without the lock both would insert
        real_clean(obj)

    legal.clean = slow_clean
    try:
        legal_step_open(lease=Lease.objects.get(pk=lease_pk), actor=get_user_model().objects.get(username=username),
                        stage="research")
    except ValidationError:
        return "refused"
    return "opened"


@pytest.mark.django_db(transaction=True)
def test_two_people_opening_the_same_stage_at_once_open_it_once(targets, personas):
    lease = _refused(targets["GC-0001"], personas)
    answers = race("tests.remediation.test_legal:_open_in_child", [(lease.pk, "gina"), (lease.pk, "carol")])
    assert answers == ["opened", "refused"]
    assert LegalStep.objects.filter(lease=lease).count() == 1


# --- overdue -----------------------------------------------------------------------------

def test_a_step_past_its_due_date_is_overdue_until_done(targets, personas):
    lease = _refused(targets["GC-0001"], personas)
    step = legal_step_open(lease=lease, actor=personas["gina"], stage="research", due_on=D(2016, 6, 14))
    assert step.overdue is True
    step = legal_step_done(step=step, actor=personas["gina"], done_on=D(2016, 6, 15))
    assert step.overdue is False
    later = legal_step_open(lease=lease, actor=personas["gina"], stage="filing", due_on=TODAY)
    assert later.overdue is False  # due today is not late yet


# --- pages -------------------------------------------------------------------------------

def _steps(targets, personas):
    """An overdue research step in 古城, a filing step due later in 古城, a research step in 鲁谷."""
    gc = _refused(targets["GC-0001"], personas)
    research = legal_step_open(lease=gc, actor=personas["gina"], stage="research", due_on=D(2016, 3, 1))
    gc2 = _refused(targets["GC-0002"], personas)
    done = legal_step_open(lease=gc2, actor=personas["gina"], stage="research", due_on=D(2016, 2, 10))
    legal_step_done(step=done, actor=personas["gina"], done_on=D(2016, 2, 9))
    filing = legal_step_open(lease=gc2, actor=personas["gina"], stage="filing", due_on=D(2016, 9, 1))
    lg = lease_record(target=targets["LG-0001"], actor=personas["bob"], lessee="王五")
    lease_notice(lease=lg, actor=personas["bob"], sent_on=D(2016, 1, 5))
    lease_answer(lease=lg, actor=personas["bob"], answer="refused", answered_on=D(2016, 1, 6))
    lg_step = legal_step_open(lease=lg, actor=personas["gina"], stage="research", due_on=D(2016, 7, 1))
    return {"research": research, "done": done, "filing": filing, "lg": lg_step}


def test_the_target_page_shows_leases_steps_and_the_overdue_flag(client, targets, personas):
    steps = _steps(targets, personas)
    client.force_login(personas["alice"])
    page = client.get("/work/targets/%d/legal/" % targets["GC-0001"].pk).content.decode()
    assert 'id="lease-%d"' % steps["research"].lease_id in page and 'id="legal-overdue"' in page
    assert 'id="legal-step-%d" class="overdue"' % steps["research"].pk in page
    work = client.get("/work/targets/%d/" % targets["GC-0001"].pk).content.decode()
    assert 'hx-get="/work/targets/%d/legal/"' % targets["GC-0001"].pk in work


def test_the_list_is_sorted_by_due_date_and_filters_by_stage_and_overdue(client, targets, personas):
    steps = _steps(targets, personas)
    client.force_login(personas["gina"])
    listed = [s.pk for s in client.get("/work/legal/").context["page"]]
    assert listed == [steps[k].pk for k in ("done", "research", "lg", "filing")]
    overdue = client.get("/work/legal/", {"overdue": "on"}).context["page"]
    assert [s.pk for s in overdue] == [steps["research"].pk]
    filing = client.get("/work/legal/", {"stage": "filing"}).context["page"]
    assert [s.pk for s in filing] == [steps["filing"].pk]
    partial = client.get("/work/legal/", {"stage": "filing"}, headers={"HX-Request": "true"})
    assert b"<html" not in partial.content and b'id="results"' in partial.content


@pytest.mark.parametrize(("persona", "expected"), [
    ("carol", {"research", "done", "filing", "lg"}), ("lee", {"research", "done", "filing", "lg"}),
    ("alice", {"research", "done", "filing"}), ("bob", {"lg"}), ("dan", {"research", "done", "filing"}),
])
def test_the_list_shows_only_steps_on_targets_the_user_sees(client, targets, personas, persona, expected):
    steps = _steps(targets, personas)
    client.force_login(personas[persona])
    listed = {s.pk for s in client.get("/work/legal/").context["page"]}
    assert listed == {steps[k].pk for k in expected}


@pytest.mark.parametrize("leases", [1, 8])
def test_the_list_query_count_does_not_grow_with_rows(client, targets, personas, django_assert_num_queries, leases):
    for i in range(leases):
        lease = _refused(targets["GC-0001"], personas)
        legal_step_open(lease=lease, actor=personas["gina"], stage="research", due_on=D(2016, 3, 1 + i))
    client.force_login(personas["alice"])
    # session, user, memberships, campaigns, count, the page of steps with their targets and streets,
    # the header's unread notifications
    with django_assert_num_queries(7):
        assert client.get("/work/legal/").status_code == 200


def test_the_home_page_links_the_list(client, targets, personas):
    client.force_login(personas["gina"])
    assert b'href="/work/legal/"' in client.get("/").content


def test_recording_through_the_page_with_htmx_returns_the_section(client, targets, personas):
    target = targets["GC-0001"]
    client.force_login(personas["alice"])
    response = client.post("/work/targets/%d/leases/" % target.pk, {"lessee": "张三", "kind": "building"},
                           headers={"HX-Request": "true"})
    assert b"<html" not in response.content and b'id="legal-body"' in response.content
    lease = Lease.objects.get(target=target)
    before = _db()
    refused = client.post("/work/leases/%d/answer/" % lease.pk, {"answer": "refused", "day": "2016-01-20"},
                          headers={"HX-Request": "true"})
    assert "message error" in refused.content.decode() and _db() == before
    client.post("/work/leases/%d/notice/" % lease.pk, {"day": "2016-01-05"})
    response = client.post("/work/leases/%d/answer/" % lease.pk, {"answer": "refused", "day": "2016-01-20"},
                           follow=True)
    assert response.redirect_chain[-1][0] == "/work/targets/%d/legal/" % target.pk
    assert Lease.objects.get(pk=lease.pk).answer == "refused"


def test_the_legal_group_opens_and_closes_steps_through_the_page(client, targets, personas):
    lease = _refused(targets["GC-0001"], personas)
    client.force_login(personas["gina"])
    client.post("/work/leases/%d/steps/" % lease.pk, {"stage": "research", "due_on": "2016-03-01"})
    step = LegalStep.objects.get()
    client.post("/work/legal-steps/%d/done/" % step.pk, {"done_on": "2016-02-25", "court": "石景山区人民法院",
                                                         "case_number": "", "result": "可起诉"})
    step.refresh_from_db()
    assert (step.done_on, step.court, step.result) == (D(2016, 2, 25), "石景山区人民法院", "可起诉")


def test_a_refusal_through_the_page_names_the_field_and_changes_nothing(client, targets, personas):
    lease = _refused(targets["GC-0001"], personas)
    client.force_login(personas["gina"])
    before = _db()
    response = client.post("/work/leases/%d/steps/" % lease.pk, {"stage": "filing"}, follow=True)
    assert str(LegalStep._meta.get_field("stage").verbose_name) in response.content.decode()
    response = client.post("/work/leases/%d/steps/" % lease.pk, {"stage": "research", "due_on": "not a day"},
                           follow=True)
    assert str(LegalStep._meta.get_field("due_on").verbose_name) in response.content.decode()
    assert _db() == before


def test_a_role_without_the_right_gets_a_message_and_nothing_changes(client, targets, personas):
    lease = _lease(targets["GC-0001"], personas["alice"])
    client.force_login(personas["gina"])  # legal group: judicial steps only
    before = _db()
    response = client.post("/work/leases/%d/notice/" % lease.pk, {"day": "2016-01-05"}, follow=True)
    assert response.status_code == 200 and _db() == before
    page = client.get("/work/targets/%d/legal/" % targets["GC-0001"].pk).content.decode()
    assert "/work/leases/%d/notice/" % lease.pk not in page


def _urls(targets, personas):
    lease = _refused(targets["GC-0001"], personas)
    step = legal_step_open(lease=lease, actor=personas["gina"], stage="research")
    pk = targets["GC-0001"].pk
    return {
        "get": ["/work/targets/%d/legal/" % pk],
        "post": [("/work/targets/%d/leases/" % pk, {"lessee": "x", "kind": "land"}),
                 ("/work/leases/%d/notice/" % lease.pk, {"day": "2016-01-05"}),
                 ("/work/leases/%d/answer/" % lease.pk, {"answer": "agreed", "day": "2016-01-05"}),
                 ("/work/leases/%d/exposure/" % lease.pk, {"day": "2016-03-05"}),
                 ("/work/leases/%d/steps/" % lease.pk, {"stage": "filing"}),
                 ("/work/legal-steps/%d/done/" % step.pk, {"done_on": "2016-03-01"})],
    }


def test_other_street_gets_404_on_every_legal_url_and_nothing_changes(client, targets, personas):
    urls = _urls(targets, personas)
    client.force_login(personas["bob"])
    before = _db()
    for url in urls["get"]:
        assert client.get(url).status_code == 404
    for url, data in urls["post"]:
        assert client.post(url, data).status_code == 404, url
    assert _db() == before


def test_anonymous_goes_to_login_on_every_legal_url(client, targets, personas):
    urls = _urls(targets, personas)
    before = _db()
    for url in urls["get"] + ["/work/legal/"]:
        assert client.get(url)["Location"].startswith("/accounts/login/")
    for url, data in urls["post"]:
        assert client.post(url, data)["Location"].startswith("/accounts/login/"), url
    assert _db() == before


def test_a_user_without_a_role_gets_404(client, targets, personas):
    client.force_login(personas["olive"])
    assert client.get("/work/legal/").status_code == 404
    assert client.get("/work/targets/%d/legal/" % targets["GC-0001"].pk).status_code == 404


def test_legal_pages_refuse_get_on_writes(client, targets, personas):
    client.force_login(personas["alice"])
    assert client.get("/work/targets/%d/leases/" % targets["GC-0001"].pk).status_code == 405
