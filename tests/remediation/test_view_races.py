"""Each write view raced by two real processes posting at once, through the whole request (the
writes whose services are raced elsewhere: steps, approvals, acceptance, opening a judicial
step, petitions, imports). Every answer is the page the view goes back to with a message, never
a server error; what both wrote is kept, or one wins and the other is told; the change log
still replays to what the rows hold.
"""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from taizhang.accounts.models import Membership
from taizhang.core.changelog import Break, changelog_replay, changelog_verify
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update
from taizhang.remediation.legal import lease_answer, lease_notice, lease_record, legal_step_open
from taizhang.remediation.models import (
    Inspection,
    Lease,
    LegalStep,
    Outcome,
    Petition,
    PilotLesson,
    Plan,
    Policy,
    Verification,
)
from taizhang.remediation.petitions import petition_record
from taizhang.remediation.plans import plan_approve, plan_create, policy_create
from taizhang.remediation.verification import verification_record
from tests.racing import race
from tests.remediation.test_acceptance import _closed
from tests.remediation.test_plans import _plan_post

pytestmark = pytest.mark.django_db(transaction=True)
DAY = datetime.date(2015, 12, 1)


def _post_in_child(session_key, url, data):
    """POST as the session's user; the answer's status and the kinds of message the page then shows."""
    client = Client(SERVER_NAME="localhost")
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    response = client.post(url, data)
    if response.status_code != 302:
        return str(response.status_code)
    page = client.get(response["Location"])
    return " ".join([str(response.status_code), *re.findall(r'class="message (\w+)"', page.content.decode())])


def _race(url, *posts):
    """Each (username, data) posted to `url` at once by its own process; the sorted answers."""
    sessions = []
    for username, _data in posts:
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        sessions.append(client.session.session_key)
    answers = race("tests.remediation.test_view_races:_post_in_child",
                   [(key, url, data) for key, (_name, data) in zip(sessions, posts, strict=True)])
    # Whatever happened, the log says what the rows hold and its chain is whole.
    assert list(changelog_replay()) == []
    assert not any(isinstance(item, Break) for item in changelog_verify())
    return answers


def _entries(object_type, action=None):
    entries = ChangeLogEntry.objects.filter(object_type=object_type).order_by("id")
    return list(entries.filter(action=action) if action else entries)


def _chained(entries):
    """Each update starts from what the one before it left: no write was lost."""
    return all(later.before == earlier.after for earlier, later in zip(entries, entries[1:], strict=False))


ONE_WINS = ["302 error", "302 success"]
BOTH = ["302 success", "302 success"]


# The work page: verification, people and money, pilots

def test_two_verifications_at_once_are_both_kept(targets, personas):
    data = {"resident_population": "50", "tenants-TOTAL_FORMS": "0", "tenants-INITIAL_FORMS": "0"}
    answers = _race("/work/targets/%d/verify/" % targets["GC-0001"].pk, ("alice", data), ("dan", data))
    assert answers == BOTH and Verification.objects.count() == 2


def test_both_sides_confirming_at_once_correct_the_ledger_once(targets, personas):
    target = targets["GC-0001"]
    verification = verification_record(target=target, actor=personas["alice"], facts={"resident_population": 7})
    answers = _race("/work/verifications/%d/confirm/" % verification.pk, ("alice", {}), ("dan", {}))
    assert answers == BOTH
    verification.refresh_from_db()
    target.refresh_from_db()
    assert verification.confirmed and (target.resident_population, target.version) == (7, 2)
    assert len(_entries("ledger.target", "update")) == 1


def test_the_same_side_confirming_twice_at_once_confirms_once(targets, personas):
    verification = verification_record(target=targets["GC-0001"], actor=personas["alice"], facts={})
    answers = _race("/work/verifications/%d/confirm/" % verification.pk, ("alice", {}), ("carol", {}))
    assert answers == ONE_WINS
    assert len(_entries("remediation.verification", "update")) == 1


def test_people_and_money_saved_twice_at_once_keep_both_in_order(targets, personas):
    def figures(funds):
        return {"verification-%s" % f: "1" for f in ("tenants_cleared", "people_moved", "people_employed",
                                                     "demolished_area", "land_recovered")} | {
            "verification-funds_paid": funds}
    answers = _race("/work/targets/%d/outcomes/verification/" % targets["GC-0001"].pk,
                    ("alice", figures("100")), ("carol", figures("200")))
    assert answers == BOTH
    outcome = Outcome.objects.get()
    entries = _entries("remediation.outcome")
    assert [e.action for e in entries] == ["create", "update"] and _chained(entries)
    assert str(outcome.funds_paid) in ("100.00", "200.00")


def test_two_choosing_the_same_pilot_at_once_change_the_target_once(targets, personas):
    target = targets["GC-0001"]
    answers = _race("/work/targets/%d/pilot/" % target.pk, ("alice", {"is_pilot": "1"}), ("carol", {"is_pilot": "1"}))
    assert not [a for a in answers if "error" in a or not a.startswith("302")], answers
    target.refresh_from_db()
    assert (target.is_pilot, target.version) == (True, 2)


def test_two_lessons_at_once_are_both_kept(targets, personas):
    target = targets["GC-0001"]
    target_update(target=target, actor=None, changes={"is_pilot": True})
    answers = _race("/work/targets/%d/lessons/" % target.pk, ("alice", {"title": "先谈", "text": "入户"}),
                    ("carol", {"title": "后拆", "text": "依法"}))
    assert answers == BOTH and PilotLesson.objects.count() == 2


# Plans and the policy library

def test_two_first_drafts_at_once_make_one_plan(targets, personas):
    answers = _race("/work/targets/%d/plans/new/" % targets["GC-0001"].pk, ("alice", _plan_post()),
                    ("carol", _plan_post()))
    assert answers == ONE_WINS and Plan.objects.count() == 1


def _draft(target, personas):
    return plan_create(target=target, actor=personas["alice"], planned_on=DAY, means=["legal"],
                       steps=[{"description": "起诉", "means": "legal"}])


def test_two_edits_of_a_plan_at_once_are_applied_one_after_the_other(targets, personas):
    plan = _draft(targets["GC-0001"], personas)
    # As the edit page posts it: its step is one of the form's initial forms.
    edit = {"steps-INITIAL_FORMS": "1"}
    answers = _race("/work/plans/%d/edit/" % plan.pk, ("alice", _plan_post(summary="甲", **edit)),
                    ("carol", _plan_post(summary="乙", **edit)))
    assert answers == BOTH
    plan.refresh_from_db()
    assert plan.summary in ("甲", "乙") and plan.steps.count() == 1
    assert _chained(_entries("remediation.plan", "update"))


def test_two_submissions_at_once_submit_once(targets, personas):
    plan = _draft(targets["GC-0001"], personas)
    answers = _race("/work/plans/%d/submit/" % plan.pk, ("alice", {}), ("carol", {}))
    assert answers == ONE_WINS
    assert Plan.objects.get().status == Plan.Status.SUBMITTED
    assert len(_entries("remediation.plan", "update")) == 1


def test_two_new_versions_at_once_make_one(targets, personas):
    target = targets["GC-0001"]
    plan_approve(plan=_draft(target, personas), actor=personas["carol"])
    answers = _race("/work/targets/%d/plans/next/" % target.pk, ("alice", {}), ("carol", {}))
    assert answers == ONE_WINS and list(Plan.objects.values_list("version", flat=True).order_by("version")) == [1, 2]


def test_two_policies_added_at_once_are_both_kept(campaign, units, personas):
    answers = _race("/work/policies/new/", ("carol", {"title": "合同法"}), ("gina", {"title": "物权法"}))
    assert answers == BOTH and Policy.objects.count() == 2


def test_two_edits_of_a_policy_at_once_are_applied_one_after_the_other(campaign, units, personas):
    policy = policy_create(campaign=campaign, actor=None, title="合同法")
    answers = _race("/work/policies/%d/edit/" % policy.pk, ("carol", {"title": "合同法（一）"}),
                    ("gina", {"title": "合同法（二）"}))
    assert answers == BOTH
    entries = _entries("remediation.policy", "update")
    assert len(entries) == 2 and _chained(entries)


# The legal path and petitions

def test_two_leases_at_once_are_both_kept(targets, personas):
    data = {"lessee": "张三", "kind": "building"}
    answers = _race("/work/targets/%d/leases/" % targets["GC-0001"].pk, ("alice", data), ("dan", data))
    assert answers == BOTH and Lease.objects.count() == 2


def _lease(targets, personas, *, answered=False):
    lease = lease_record(target=targets["GC-0001"], actor=personas["alice"], lessee="王五")
    if answered:
        lease_notice(lease=lease, actor=personas["alice"], sent_on=DAY)
        lease_answer(lease=Lease.objects.get(pk=lease.pk), actor=personas["alice"], answer="refused",
                     answered_on=DAY)
    return Lease.objects.get(pk=lease.pk)


@pytest.mark.parametrize(("path", "data", "answered"), [
    ("notice", {"day": "2015-12-02"}, False),
    ("exposure", {"day": "2015-12-02"}, True),
])
def test_a_lease_step_recorded_twice_at_once_is_recorded_once(targets, personas, path, data, answered):
    lease = _lease(targets, personas, answered=answered)
    answers = _race("/work/leases/%d/%s/" % (lease.pk, path), ("alice", data), ("dan", data))
    assert answers == ONE_WINS
    assert len(_entries("remediation.lease", "update")) == (2 if answered else 0) + 1


def test_two_answers_to_a_notice_at_once_record_one(targets, personas):
    lease = lease_record(target=targets["GC-0001"], actor=personas["alice"], lessee="王五")
    lease_notice(lease=lease, actor=personas["alice"], sent_on=DAY)
    answers = _race("/work/leases/%d/answer/" % lease.pk, ("alice", {"day": "2015-12-03", "answer": "refused"}),
                    ("dan", {"day": "2015-12-03", "answer": "agreed"}))
    assert answers == ONE_WINS
    assert Lease.objects.get().answer in ("refused", "agreed") and len(_entries("remediation.lease", "update")) == 2


def test_a_judicial_step_done_twice_at_once_is_done_once(targets, personas):
    lease = _lease(targets, personas, answered=True)
    step = legal_step_open(lease=lease, actor=personas["alice"], stage="research")
    answers = _race("/work/legal-steps/%d/done/" % step.pk, ("alice", {"done_on": "2015-12-05"}),
                    ("gina", {"done_on": "2015-12-06"}))
    assert answers == ONE_WINS
    assert LegalStep.objects.get().done_on in (datetime.date(2015, 12, 5), datetime.date(2015, 12, 6))


def _petition(targets, personas, **fields):
    return petition_record(target=targets["GC-0001"], actor=personas["alice"], petitioner="赵六", channel="visit",
                           content="噪音", received_on=DAY, **fields)


def test_a_petition_closed_twice_at_once_is_closed_once(targets, personas):
    petition = _petition(targets, personas)
    answers = _race("/work/petitions/%d/handle/" % petition.pk, ("alice", {"status": "closed"}),
                    ("carol", {"status": "closed"}))
    assert answers == ONE_WINS
    assert Petition.objects.get().status == "closed" and len(_entries("remediation.petition", "update")) == 1


def test_a_petition_flagged_twice_at_once_flags_the_target_once(targets, personas):
    petition = _petition(targets, personas)
    answers = _race("/work/petitions/%d/risk/" % petition.pk, ("alice", {"stability_risk": "on"}),
                    ("carol", {"stability_risk": "on"}))
    assert answers == BOTH
    target = Target.objects.get(pk=targets["GC-0001"].pk)
    assert "petition_risk" in target.flags and len(_entries("ledger.target", "update")) == 1


# Re-inspections; unlocking an account

def test_two_reinspections_at_once_fill_two_visits(targets, personas):
    target = targets["GC-0001"]
    _closed(target, personas)
    answers = _race("/work/targets/%d/reinspect/" % target.pk, ("alice", {"passed": "1"}), ("carol", {"passed": "1"}))
    assert answers == BOTH
    done = Inspection.objects.filter(target=target, done_on__isnull=False)
    assert sorted(done.values_list("inspector__username", flat=True)) == ["alice", "carol"]


def test_two_offices_unlocking_one_account_at_once_unlock_it_once(units, personas):
    second = get_user_model().objects.create_user("otto")
    Membership.objects.create(user=second, unit=units["OFFICE"], role=Membership.Role.OFFICE)
    AccessAttempt.objects.create(username="alice", ip_address="203.0.113.9", user_agent="x",
                                 failures_since_start=settings.AXES_FAILURE_LIMIT, attempt_time=timezone.now())
    url = "/accounts/unlock/%d/" % personas["alice"].pk
    answers = _race(url, ("carol", {}), ("otto", {}))
    assert answers == ONE_WINS
    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert len(_entries("accounts.lockout")) == 1


# The ledger's correction form (ledger/targets/<id>/edit/)

def test_two_corrections_of_one_target_at_once_one_is_saved_the_other_told(targets, personas):
    """Both forms carry the version they were opened at: one is saved, the other comes back as
    typed with the conflict named (409), and the log still replays to what the row holds."""
    from taizhang.ledger.forms import target_initial

    target = targets["GC-0001"]
    data = {name: value for name, value in target_initial(target).items() if value is not None and value is not False}
    data.pop("flags", None)
    answers = _race("/ledger/targets/%d/edit/" % target.pk, ("alice", data | {"name": "甲大院"}),
                    ("carol", data | {"name": "乙大院"}))
    assert answers == ["302 success", "409"]
    target.refresh_from_db()
    assert target.name in ("甲大院", "乙大院") and target.version == 2
    assert len(_entries("ledger.target", "update")) == 1
