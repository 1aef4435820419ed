"""Every write view answers every service refusal the same way: a message on the page it goes
back to, and nothing changed. A refusal a view did not name (someone else's edit meanwhile,
raised by the ledger under a remediation service) included: the one family, core.errors."""

import datetime

import pytest
from django.urls import reverse

from taizhang.core.errors import ConflictError
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.services import TargetConflict
from taizhang.remediation.legal import lease_answer, lease_notice, lease_record, legal_step_open
from taizhang.remediation.models import Lease
from taizhang.remediation.petitions import petition_record
from taizhang.remediation.plans import plan_create, policy_create
from taizhang.remediation.verification import verification_record
from tests.ledger.test_contention import HOLD
from tests.remediation.test_plans import _plan_post

DAY = datetime.date(2015, 12, 1)
OUTCOME = {"verification-%s" % f: "1" for f in ("tenants_cleared", "people_moved", "people_employed", "funds_paid",
                                                 "demolished_area", "land_recovered")}
ACCEPTED = {"decision": "passed", "tenants_cleared": "on", "site_cleaned": "on", "land_returned": "on",
            "structures_demolished": "on", "demolished_area": "300"}

# (view, the module whose name for the service is patched, that name, the URL, what is posted)
WRITES = [
    ("step", "views", "target_step", "/work/targets/{t}/step/", {"to": "on_hold", **HOLD}),
    ("verify", "views", "verification_record", "/work/targets/{t}/verify/",
     {"resident_population": "5", "tenants-TOTAL_FORMS": "0", "tenants-INITIAL_FORMS": "0"}),
    ("confirm", "views", "verification_confirm", "/work/verifications/{v}/confirm/", {}),
    ("outcome_save", "views", "outcome_record", "/work/targets/{t}/outcomes/verification/", OUTCOME),
    ("pilot_toggle", "views", "pilot_mark", "/work/targets/{t}/pilot/", {"is_pilot": "1"}),
    ("lesson_add", "views", "lesson_record", "/work/targets/{t}/lessons/", {"title": "经验", "text": "先谈后拆"}),
    ("plan_create", "plan_views", "plan_create", "/work/targets/{t2}/plans/new/", _plan_post()),
    ("plan_edit", "plan_views", "plan_update", "/work/plans/{p}/edit/", _plan_post()),
    ("plan_submit", "plan_views", "plan_submit", "/work/plans/{p}/submit/", {}),
    ("plan_approve", "plan_views", "plan_approve", "/work/plans/{p}/approve/", {}),
    ("plan_new_version", "plan_views", "plan_new_version", "/work/targets/{t}/plans/next/", {}),
    ("policy_create", "plan_views", "policy_create", "/work/policies/new/", {"title": "合同法"}),
    ("policy_edit", "plan_views", "policy_update", "/work/policies/{pol}/edit/", {"title": "合同法（修订）"}),
    ("lease_add", "legal_views", "lease_record", "/work/targets/{t}/leases/", {"lessee": "张三", "kind": "building"}),
    ("lease_notice", "legal_views", "lease_notice", "/work/leases/{l}/notice/", {"day": "2015-12-02"}),
    ("lease_answer", "legal_views", "lease_answer", "/work/leases/{l}/answer/", {"day": "2015-12-03",
                                                                                 "answer": "refused"}),
    ("lease_exposure", "legal_views", "lease_expose", "/work/leases/{l}/exposure/", {"day": "2015-12-04"}),
    ("legal_step_open", "legal_views", "legal_step_open", "/work/leases/{l}/steps/", {"stage": "filing"}),
    ("legal_step_done", "legal_views", "legal_step_done", "/work/legal-steps/{s}/done/", {"done_on": "2015-12-05"}),
    ("petition_add", "petition_views", "petition_record", "/work/targets/{t}/petitions/",
     {"petitioner": "李四", "channel": "visit", "received_on": "2015-12-01", "content": "噪音"}),
    ("petition_handle", "petition_views", "petition_handle", "/work/petitions/{pe}/handle/", {"status": "handling"}),
    ("petition_risk", "petition_views", "petition_flag", "/work/petitions/{pe}/risk/", {"stability_risk": "on"}),
    ("acceptance", "acceptance_views", "acceptance_record", "/work/targets/{t}/acceptance/", ACCEPTED),
    ("reinspect", "acceptance_views", "inspection_record", "/work/targets/{t}/reinspect/", {"passed": "1"}),
]


@pytest.fixture
def records(campaign, targets, personas):
    """One of every record a write view works on, on 古城's targets."""
    target, office = targets["GC-0001"], personas["carol"]
    lease = lease_record(target=target, actor=office, lessee="王五")
    lease_notice(lease=lease, actor=office, sent_on=DAY)
    lease_answer(lease=Lease.objects.get(pk=lease.pk), actor=office, answer="refused", answered_on=DAY)
    step = legal_step_open(lease=Lease.objects.get(pk=lease.pk), actor=office, stage="research")
    return {
        "t": target.pk, "t2": targets["GC-0002"].pk, "l": lease.pk, "s": step.pk,
        "v": verification_record(target=target, actor=office, facts={"resident_population": 5}).pk,
        "p": plan_create(target=target, actor=office, planned_on=DAY, means=["legal"],
                         steps=[{"description": "起诉", "means": "legal"}]).pk,
        "pol": policy_create(campaign=campaign, actor=None, title="合同法").pk,
        "pe": petition_record(target=target, actor=office, petitioner="赵六", channel="visit", content="噪音",
                              received_on=DAY).pk,
    }


def _message(client, response):
    """The page the view goes back to, and the message on it."""
    assert response.status_code in (200, 302), response.status_code
    page = client.get(response["Location"]) if response.status_code == 302 else response
    return page.content.decode()


@pytest.mark.parametrize(("view", "module", "service", "url", "data"), WRITES, ids=[w[0] for w in WRITES])
def test_every_write_view_answers_a_refusal_with_a_message_and_changes_nothing(
        client, monkeypatch, records, personas, view, module, service, url, data):
    from importlib import import_module

    def refuse(**kwargs):
        # What target_update raises when the target changed meanwhile, under any remediation service.
        raise TargetConflict("Someone else changed this record meanwhile; reload and try again.")

    monkeypatch.setattr(import_module("taizhang.remediation." + module), service, refuse)
    client.force_login(personas["carol"])
    entries = ChangeLogEntry.objects.count()
    response = client.post(url.format(**records), data, HTTP_ACCEPT_LANGUAGE="en")
    html = _message(client, response)
    assert "Someone else changed this record meanwhile" in html and 'class="message error"' in html
    assert ChangeLogEntry.objects.count() == entries


def test_unlocking_answers_a_refusal_with_a_message(client, monkeypatch, personas):
    from taizhang.accounts import views

    def refuse(**kwargs):
        raise ConflictError("Someone else unlocked this account meanwhile.")

    monkeypatch.setattr(views, "account_unlock", refuse)
    client.force_login(personas["carol"])
    response = client.post(reverse("accounts:unlock", args=[personas["alice"].pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Someone else unlocked this account meanwhile." in _message(client, response)
