"""The bulk forms of the remediation services (a sitting's worth in one call, as the demo's story
takes them): the same checks and the same change-log entries as one call per target, all or none,
a refusal naming the target it is about."""

import json
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction

from taizhang.core.models import ChangeLogEntry
from taizhang.core.transitions import TransitionRefused
from taizhang.ledger.models import Target
from taizhang.remediation import acceptance, outcomes, plans, verification
from taizhang.remediation.checks import RemediationError
from taizhang.remediation.models import Inspection, Plan, TransitionEvent
from taizhang.remediation.workflow import target_step, targets_step
from tests.conftest import ledger_state

pytestmark = pytest.mark.usefixtures("english")
S = Target.State
CHECKED = {"tenants_cleared": True, "structures_demolished": True, "demolished_area": Decimal("350.50"),
           "site_cleaned": True, "land_returned": True}


def _put(targets, state):
    for target in targets:
        Target.objects.filter(pk=target.pk).update(state=state)
        target.refresh_from_db()


def _entries(since: int) -> Counter:
    """The entries written since `since`, as their content goes (ids and times aside)."""
    rows = ChangeLogEntry.objects.filter(id__gt=since).values_list(
        "object_type", "action", "reason", "actor_name", "before", "after")
    return Counter((t, a, r, n, json.dumps(b, sort_keys=True), json.dumps(f, sort_keys=True))
                   for t, a, r, n, b, f in rows)


def _same_as_one_by_one(bulk, one_by_one):
    """Run `bulk` and roll it back, then `one_by_one`: the same entries, the same end state."""
    start = ChangeLogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with transaction.atomic():
        bulk()
        written, states = _entries(start), sorted(Target.objects.values_list("code", "state", "flags"))
        transaction.set_rollback(True)
    one_by_one()
    each = _entries(start)
    assert each == written, ("only together:", list(written - each), "only one by one:", list(each - written))
    assert sorted(Target.objects.values_list("code", "state", "flags")) == states
    return written


def _reported(targets, personas):
    _put(targets, S.IN_REMEDIATION)
    for target in targets:
        target_step(target=target, to=S.COMPLETION_REPORTED, actor=personas["carol"])


def test_steps_taken_together_are_taken_as_one_by_one(targets, personas):
    pair = [targets["GC-0001"], targets["GC-0003"]]
    _put(pair, S.PLAN_APPROVED)
    written = _same_as_one_by_one(
        lambda: targets_step(targets=pair, to=S.IN_REMEDIATION, actor=personas["alice"]),
        lambda: [target_step(target=Target.objects.get(pk=t.pk), to=S.IN_REMEDIATION, actor=personas["alice"])
                 for t in pair])
    assert sum(written.values()) == 2
    assert TransitionEvent.objects.filter(to_state=S.IN_REMEDIATION).count() == 2


def test_steps_taken_together_bring_the_callers_objects_up_to_date(targets, personas):
    pair = [targets["GC-0001"], targets["GC-0003"]]
    _put(pair, S.PLAN_APPROVED)
    targets_step(targets=pair, to=S.IN_REMEDIATION, actor=personas["alice"])
    assert [(t.state, t.version, t.street.code) for t in pair] == [(S.IN_REMEDIATION, 2, "GC")] * 2


def test_a_step_refused_for_one_target_names_it_and_moves_none(targets, personas):
    pair = [targets["GC-0001"], targets["LG-0001"]]  # alice works in 古城, not in 鲁谷
    _put(pair, S.PLAN_APPROVED)
    before = ledger_state()
    with pytest.raises(TransitionRefused) as caught:
        targets_step(targets=pair, to=S.IN_REMEDIATION, actor=personas["alice"])
    assert str(caught.value).startswith("LG-0001 ")
    assert "may not take this step" in str(caught.value)
    assert ledger_state() == before and not TransitionEvent.objects.exists()


def test_acceptances_together_are_as_one_by_one(targets, personas):
    trio = [targets["GC-0001"], targets["GC-0003"], targets["LG-0001"]]
    _reported(trio, personas)
    items = [dict(CHECKED, target=trio[0], decision="passed"), dict(CHECKED, target=trio[1], decision="passed"),
             {"target": trio[2], "decision": "failed", "reasons": "仍有两户租户未清退"}]
    _same_as_one_by_one(
        lambda: acceptance.acceptances_record(actor=personas["carol"], items=items),
        lambda: [acceptance.acceptance_record(actor=personas["carol"], **dict(item, target=Target.objects.get(
            pk=item["target"].pk))) for item in items])
    assert [Target.objects.get(pk=t.pk).state for t in trio] == [S.CLOSED, S.CLOSED, S.IN_REMEDIATION]
    assert Inspection.objects.count() == 12


def test_an_acceptance_refused_for_one_target_names_it_and_writes_nothing(targets, personas):
    pair = [targets["GC-0001"], targets["GC-0003"]]
    _reported(pair[:1], personas)
    before = ledger_state()
    with pytest.raises(RemediationError) as caught:
        acceptance.acceptances_record(actor=personas["carol"], items=[
            dict(CHECKED, target=t, decision="passed") for t in pair])
    assert str(caught.value).startswith("GC-0003: Acceptance needs a target in")
    assert ledger_state() == before


def test_re_inspections_together_are_as_one_by_one(targets, personas):
    pair = [targets["GC-0001"], targets["LG-0001"]]
    _reported(pair, personas)
    acceptance.acceptances_record(actor=personas["carol"], items=[dict(CHECKED, target=t, decision="passed")
                                                                  for t in pair])
    items = [{"target": pair[0], "passed": True, "findings": ""},
             {"target": pair[1], "passed": False, "findings": "又有人搭建彩钢房出租"}]
    _same_as_one_by_one(
        lambda: acceptance.inspections_record(actor=personas["carol"], items=items),
        lambda: [acceptance.inspection_record(actor=personas["carol"], **dict(item, target=Target.objects.get(
            pk=item["target"].pk))) for item in items])
    assert [Target.objects.get(pk=t.pk).state for t in pair] == [S.CLOSED, S.REBOUND]
    assert not Inspection.objects.filter(target=pair[1], done_on__isnull=True).exists()


def test_a_re_inspection_refused_for_one_target_names_its_field_and_writes_nothing(targets, personas):
    pair = [targets["GC-0001"], targets["LG-0001"]]
    _reported(pair, personas)
    acceptance.acceptances_record(actor=personas["carol"], items=[dict(CHECKED, target=t, decision="passed")
                                                                  for t in pair])
    before = ledger_state()
    with pytest.raises(Exception) as caught:
        acceptance.inspections_record(actor=personas["carol"], items=[
            {"target": pair[0], "passed": True}, {"target": pair[1], "passed": False, "findings": " "}])
    assert caught.value.message_dict == {"findings": ["LG-0001: A failed re-inspection needs its findings."]}
    assert ledger_state() == before


def _plan(target, actor):
    return {"target": target, "planned_on": target.registered_on, "means": ["legal"], "summary": "",
            "steps": [{"description": "解除租赁合同", "means": "legal"}]}


def test_plans_drafted_submitted_and_approved_together_are_as_one_by_one(targets, personas):
    pair = [targets["GC-0001"], targets["GC-0003"]]
    alice, carol = personas["alice"], personas["carol"]

    def together():
        made = plans.plans_create(actor=alice, items=[_plan(t, alice) for t in pair])
        plans.plans_approve(plans=plans.plans_submit(plans=made, actor=alice), actor=carol)

    def one_by_one():
        for target in pair:
            plan = plans.plan_create(actor=alice, **_plan(target, alice))
            plans.plan_approve(plan=plans.plan_submit(plan=plan, actor=alice), actor=carol)

    written = _same_as_one_by_one(together, one_by_one)
    assert sum(n for (t, *_rest), n in written.items() if t == "remediation.plan") == 6
    assert list(Plan.objects.values_list("status", flat=True)) == ["approved", "approved"]


def test_a_plan_approved_with_one_already_approved_names_it_and_approves_none(targets, personas):
    pair = [targets["GC-0001"], targets["GC-0003"]]
    made = plans.plans_create(actor=personas["alice"], items=[_plan(t, personas["alice"]) for t in pair])
    plans.plan_approve(plan=made[1], actor=personas["carol"])
    with pytest.raises(RemediationError) as caught:
        plans.plans_approve(plans=made, actor=personas["carol"])
    assert str(caught.value) == "GC-0003 %s v1: Version 1 is approved and cannot be approved." % pair[1].name
    assert list(Plan.objects.order_by("target__code").values_list("status", flat=True)) == ["draft", "approved"]


def test_verifications_recorded_and_confirmed_together_are_as_one_by_one(targets, personas):
    pair = [targets["GC-0001"], targets["GC-0002"]]  # both of dan's unit
    facts = [{"resident_population": 150}, {"hazards": "群租"}]
    tenants = [[{"name": "王某某", "people": 3}], []]

    def together():
        made = verification.verifications_record(actor=personas["alice"], items=[
            {"target": t, "facts": f, "tenants": n} for t, f, n in zip(pair, facts, tenants, strict=True)])
        verification.verifications_confirm(verifications=made, actor=personas["alice"])
        verification.verifications_confirm(verifications=made, actor=personas["dan"])

    def one_by_one():
        for target, f, n in zip(pair, facts, tenants, strict=True):
            target = Target.objects.get(pk=target.pk)  # as stored: the rolled-back call changed the object
            made = verification.verification_record(target=target, actor=personas["alice"], facts=f, tenants=n)
            verification.verification_confirm(verification=made, actor=personas["alice"])
            verification.verification_confirm(verification=made, actor=personas["dan"])

    _same_as_one_by_one(together, one_by_one)
    assert list(Target.objects.filter(pk__in=[t.pk for t in pair]).order_by("code").values_list(
        "resident_population", "hazards")) == [(150, ""), (120, "群租")]


def test_a_confirmation_refused_for_one_verification_confirms_none(targets, personas):
    pair = [targets["GC-0001"], targets["GC-0002"]]
    made = verification.verifications_record(actor=personas["alice"], items=[
        {"target": t, "facts": {}} for t in pair])
    verification.verification_confirm(verification=made[1], actor=personas["alice"])
    before = ledger_state()
    with pytest.raises(RemediationError) as caught:
        verification.verifications_confirm(verifications=made, actor=personas["alice"])
    assert str(caught.value).endswith(": This verification is already confirmed by your side.")
    assert ledger_state() == before
    made[0].refresh_from_db()
    assert made[0].street_confirmed_at is None


def test_people_and_money_recorded_together_are_as_one_by_one(targets, personas):
    pair = [targets["GC-0001"], targets["GC-0003"]]
    items = [{"target": t, "stage": "acceptance", "values": {"people_moved": n, "funds_paid": Decimal(n * 1000)}}
             for t, n in zip(pair, (12, 30), strict=True)]
    _same_as_one_by_one(lambda: outcomes.outcomes_record(actor=personas["alice"], items=items),
                        lambda: [outcomes.outcome_record(actor=personas["alice"], **item) for item in items])
