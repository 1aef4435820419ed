"""One compound, one policy (一院一策): plan versions, approval, templates and the plan pages."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError

from taizhang.campaigns.models import OrgUnit
from taizhang.campaigns.presets import PresetError, parse_preset, preset_load
from taizhang.core.models import ChangeLogEntry
from taizhang.core.transitions import TransitionRefused
from taizhang.ledger.models import Target
from taizhang.remediation.checks import RemediationError
from taizhang.remediation.models import Plan, PlanStep
from taizhang.remediation.models.plans import Means
from taizhang.remediation.plan_forms import owner_choices
from taizhang.remediation.plans import (
    owner_units,
    plan_approve,
    plan_create,
    plan_new_version,
    plan_submit,
    plan_template,
    plan_update,
    policy_create,
)
from taizhang.remediation.verification import verification_confirm, verification_record
from taizhang.remediation.workflow import target_step
from tests.conftest import PRESET
from tests.racing import race

S = Plan.Status
DAY = datetime.date(2015, 12, 1)


def _plan(target, actor, *, steps=None, planned_on=DAY, means=("persuasion", "legal"), summary=""):
    if steps is None:
        steps = [{"description": "约谈产权人", "means": "persuasion", "due_on": DAY + datetime.timedelta(days=10)},
                 {"description": "解除租赁合同", "means": "legal", "due_on": DAY + datetime.timedelta(days=30)}]
    return plan_create(target=target, actor=actor, planned_on=planned_on, means=list(means), summary=summary,
                       steps=steps)


def _db():
    """Everything a refused plan write must leave alone."""
    return (list(Plan.objects.order_by("pk").values_list("pk", "version", "status", "planned_on", "means")),
            list(PlanStep.objects.order_by("pk").values_list("pk", "plan_id", "description", "due_on")),
            ChangeLogEntry.objects.count())


def _policy(campaign, title="中华人民共和国合同法", **fields):
    return policy_create(campaign=campaign, actor=None, title=title, **fields)


# Plans: recording

def test_street_staff_drafts_v1_with_means_steps_owner_and_policies(campaign, units, targets, personas):
    law = _policy(campaign)
    plan = _plan(targets["GC-0001"], personas["alice"], steps=[
        {"description": "解除租赁合同", "means": "legal", "owner": units["U-GC"], "due_on": datetime.date(2016, 1, 15),
         "policies": [law.pk]}])
    assert (plan.version, plan.status, plan.means, plan.created_by) == (1, S.DRAFT, ["persuasion", "legal"],
                                                                        personas["alice"])
    step = plan.steps.get()
    assert (step.description, step.owner, list(step.policies.all())) == ("解除租赁合同", units["U-GC"], [law])
    entry = ChangeLogEntry.objects.get(object_type="remediation.plan", object_id=str(plan.pk))
    assert entry.after["steps"][0]["policies"] == [law.pk] and entry.actor == personas["alice"]


@pytest.mark.parametrize("name, code", [("alice", "GC-0001"), ("carol", "LG-0001")])
def test_street_and_office_record_plans(targets, personas, name, code):
    assert _plan(targets[code], personas[name]).version == 1


@pytest.mark.parametrize("name", ["bob", "dan", "erin", "lee", "gina", "jin", "olive"])
def test_other_roles_may_not_record_a_plan(targets, personas, name):
    before = _db()
    with pytest.raises(RemediationError):
        _plan(targets["GC-0001"], personas[name])
    assert _db() == before


def test_a_step_due_before_the_plan_date_is_refused_and_nothing_changes(targets, personas):
    before = _db()
    with pytest.raises(ValidationError) as exc:
        _plan(targets["GC-0001"], personas["alice"], steps=[
            {"description": "约谈产权人", "due_on": DAY - datetime.timedelta(days=1)}])
    assert "2015-11-30" in str(exc.value.message_dict["steps"])
    assert _db() == before


def test_a_plan_without_means_is_refused_and_nothing_changes(targets, personas):
    before = _db()
    with pytest.raises(ValidationError) as exc:
        _plan(targets["GC-0001"], personas["alice"], means=())
    assert "means" in exc.value.message_dict
    assert _db() == before


def test_unknown_means_and_a_step_means_outside_the_plan_are_refused(targets, personas):
    before = _db()
    with pytest.raises(ValidationError) as exc:
        _plan(targets["GC-0001"], personas["alice"], means=("bribery",))
    assert "means" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _plan(targets["GC-0001"], personas["alice"], means=("persuasion",),
              steps=[{"description": "起诉", "means": "legal"}])
    assert "steps" in exc.value.message_dict
    with pytest.raises(ValidationError):
        _plan(targets["GC-0001"], personas["alice"], steps=[{"description": "  ", "means": "legal"}])
    assert _db() == before


def test_owner_and_policies_must_belong_to_the_campaign(campaign, targets, personas):
    other, _created = preset_load(text=PRESET.read_text(encoding="utf-8").replace(
        'slug = "shijingshan-2015"', 'slug = "other-2016"'))
    foreign_unit = OrgUnit.objects.get(campaign=other, code="GC")
    foreign_law = _policy(other)
    before = _db()
    for step in ({"description": "清退商户", "owner": foreign_unit},
                 {"description": "清退商户", "policies": [foreign_law.pk]}):
        with pytest.raises(ValidationError):
            _plan(targets["GC-0001"], personas["alice"], steps=[step])
    assert _db() == before


# Plans: submission, approval, versions

def test_approving_a_draft_that_has_no_steps_is_refused_and_nothing_changes(targets, personas):
    plan = _plan(targets["GC-0001"], personas["carol"], steps=[])
    before = _db()
    with pytest.raises(RemediationError, match="step|步骤"):
        plan_approve(plan=plan, actor=personas["carol"])
    with pytest.raises(RemediationError):
        plan_submit(plan=plan, actor=personas["carol"])
    assert _db() == before


def test_only_the_hq_office_approves(targets, personas):
    plan = _plan(targets["GC-0001"], personas["alice"])
    plan_submit(plan=plan, actor=personas["alice"])
    before = _db()
    for name in ("alice", "dan", "lee", "gina", "erin", "bob"):
        with pytest.raises(RemediationError):
            plan_approve(plan=plan, actor=personas[name])
    assert _db() == before
    plan = plan_approve(plan=plan, actor=personas["carol"])
    assert (plan.status, plan.approved_by) == (S.APPROVED, personas["carol"]) and plan.approved_at is not None


def test_an_approved_version_is_immutable(units, targets, personas):
    plan = _plan(targets["GC-0001"], personas["alice"])
    plan_approve(plan=plan, actor=personas["carol"])
    before = _db()
    with pytest.raises(RemediationError, match="v1|1"):
        plan_update(plan=plan, actor=personas["carol"], planned_on=DAY, means=["legal"],
                    steps=[{"description": "改一下", "means": "legal"}])
    for action in (plan_submit, plan_approve):
        with pytest.raises(RemediationError):
            action(plan=plan, actor=personas["carol"])
    assert _db() == before


def test_editing_a_submitted_version_returns_it_to_draft(units, targets, personas):
    plan = _plan(targets["GC-0001"], personas["alice"])
    plan_submit(plan=plan, actor=personas["alice"])
    with pytest.raises(RemediationError):
        plan_submit(plan=plan, actor=personas["alice"])
    plan = plan_update(plan=plan, actor=personas["carol"], planned_on=DAY, means=["economic"], summary="补偿腾退",
                       steps=[{"description": "签订补偿协议", "means": "economic", "owner": units["U-GC"]}])
    assert (plan.status, plan.means, plan.summary) == (S.DRAFT, ["economic"], "补偿腾退")
    assert list(plan.steps.values_list("description", "order")) == [("签订补偿协议", 1)]
    entry = ChangeLogEntry.objects.filter(object_type="remediation.plan").latest("id")
    assert entry.before["status"] == S.SUBMITTED and len(entry.before["steps"]) == 2


def test_a_rights_unit_may_not_edit_or_submit_the_streets_plan(units, targets, personas):
    plan = _plan(targets["GC-0001"], personas["alice"])
    plan_submit(plan=plan, actor=personas["alice"])
    before = _db()
    with pytest.raises(RemediationError):
        plan_update(plan=plan, actor=personas["dan"], planned_on=DAY, means=["economic"],
                    steps=[{"description": "签订补偿协议", "means": "economic", "owner": units["U-GC"]}])
    with pytest.raises(RemediationError):
        plan_new_version(target=targets["GC-0001"], actor=personas["dan"])
    assert _db() == before and Plan.objects.get().status == S.SUBMITTED


def test_editing_with_a_step_due_before_the_plan_date_changes_nothing(targets, personas):
    plan = _plan(targets["GC-0001"], personas["alice"])
    before = _db()
    with pytest.raises(ValidationError):
        plan_update(plan=plan, actor=personas["alice"], planned_on=datetime.date(2016, 2, 1), means=["legal"],
                    steps=[{"description": "起诉", "means": "legal", "due_on": datetime.date(2016, 1, 1)}])
    assert _db() == before


def test_a_new_version_copies_the_latest_and_its_approval_supersedes_v1(units, campaign, targets, personas):
    law = _policy(campaign)
    target = targets["GC-0001"]
    v1 = _plan(target, personas["alice"], steps=[
        {"description": "解除租赁合同", "means": "legal", "owner": units["U-GC"], "policies": [law]}])
    plan_approve(plan=v1, actor=personas["carol"])
    v2 = plan_new_version(target=target, actor=personas["alice"])
    assert (v2.version, v2.status, v2.means, v2.planned_on) == (2, S.DRAFT, v1.means, v1.planned_on)
    step = v2.steps.get()
    assert (step.description, step.owner, list(step.policies.all())) == ("解除租赁合同", units["U-GC"], [law])
    assert step.pk != v1.steps.get().pk
    plan_approve(plan=v2, actor=personas["carol"])
    v1.refresh_from_db()
    assert (v1.status, Plan.objects.get(pk=v2.pk).status) == (S.SUPERSEDED, S.APPROVED)
    with pytest.raises(RemediationError):
        plan_update(plan=v1, actor=personas["carol"], planned_on=DAY, means=["legal"])
    assert ChangeLogEntry.objects.filter(object_type="remediation.plan", object_id=str(v1.pk),
                                         after__status=S.SUPERSEDED).exists()


def test_no_second_open_version(targets, personas):
    target = targets["GC-0001"]
    _plan(target, personas["alice"])
    before = _db()
    with pytest.raises(RemediationError, match="v?1"):
        plan_new_version(target=target, actor=personas["alice"])
    with pytest.raises(RemediationError):
        _plan(target, personas["carol"])
    assert _db() == before


def test_a_new_version_needs_a_plan_to_copy(targets, personas):
    with pytest.raises(RemediationError):
        plan_new_version(target=targets["GC-0001"], actor=personas["alice"])
    assert Plan.objects.count() == 0


def _approve_in_child(pk, username):
    from django.contrib.auth import get_user_model

    try:
        plan_approve(plan=Plan.objects.get(pk=pk), actor=get_user_model().objects.get(username=username))
    except RemediationError:
        return "refused"
    return "approved"


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_exactly_one_wins(targets, personas):
    plan = _plan(targets["GC-0001"], personas["alice"])
    answers = race("tests.remediation.test_plans:_approve_in_child", [(plan.pk, "carol"), (plan.pk, "carol")])
    assert answers == ["approved", "refused"]
    assert ChangeLogEntry.objects.filter(object_type="remediation.plan", after__status=S.APPROVED).count() == 1


# The workflow condition

def _verified(target, personas):
    verification = verification_record(target=target, actor=personas["alice"], facts={})
    verification_confirm(verification=verification, actor=personas["alice"])
    verification_confirm(verification=verification, actor=personas["dan"])
    target_step(target=target, to=Target.State.VERIFIED, actor=personas["alice"])


def test_plan_approved_step_needs_an_approved_plan_and_approval_does_not_move_the_target(targets, personas):
    target = targets["GC-0001"]
    _verified(target, personas)
    plan = _plan(target, personas["alice"])
    plan_submit(plan=plan, actor=personas["alice"])
    with pytest.raises(TransitionRefused, match="一院一策"):
        target_step(target=target, to=Target.State.PLAN_APPROVED, actor=personas["carol"])
    plan_approve(plan=plan, actor=personas["carol"])
    target.refresh_from_db()
    assert target.state == Target.State.VERIFIED  # the office takes the step itself
    target_step(target=target, to=Target.State.PLAN_APPROVED, actor=personas["carol"])
    target.refresh_from_db()
    assert target.state == Target.State.PLAN_APPROVED


def test_a_superseded_version_alone_does_not_count(targets, personas):
    target = targets["GC-0001"]
    _verified(target, personas)
    plan = _plan(target, personas["alice"])
    Plan.objects.filter(pk=plan.pk).update(status=S.SUPERSEDED)
    with pytest.raises(TransitionRefused):
        target_step(target=target, to=Target.State.PLAN_APPROVED, actor=personas["carol"])


# Templates from the preset

def test_the_preset_has_a_template_for_every_target_type_with_known_means(campaign):
    templates = campaign.rules["plan_templates"]
    assert {t["target_type"] for t in templates} == set(campaign.target_types.values_list("code", flat=True))
    for template in templates:
        assert template["steps"] and set(template["means"]) <= set(Means.values)


def test_a_target_is_offered_its_types_template(units, targets):
    compound = plan_template(targets["GC-0001"])
    assert "解除房屋和土地租赁合同" in compound["steps"] and "personal" in compound["means"]
    scrap_type = units["GC"].campaign.target_types.get(code="scrap")
    Target.objects.filter(pk=targets["GC-0003"].pk).update(target_type=scrap_type)
    scrap = plan_template(Target.objects.get(pk=targets["GC-0003"].pk))
    assert any("无照经营" in s for s in scrap["steps"])


TEMPLATE = '\n[[plan_templates]]\ntarget_type = "compound"\nmeans = ["legal"]\nsteps = ["清退商户"]\n'


def _preset_with(template: str) -> str:
    """The built-in preset with its plan templates replaced by `template`."""
    return PRESET.read_text(encoding="utf-8").split("\n# 一院一策的方案模板")[0] + template


def test_a_preset_template_is_stored_with_the_rules():
    assert parse_preset(_preset_with(TEMPLATE))["rules"]["plan_templates"] == [
        {"target_type": "compound", "means": ["legal"], "steps": ["清退商户"]}]


@pytest.mark.parametrize("change, key", [
    (lambda t: t.replace('"compound"', '"factory"'), "plan_templates[0].target_type"),
    (lambda t: t + t, "plan_templates[1].target_type"),
    (lambda t: t.replace('["清退商户"]', "[]"), "plan_templates[0].steps"),
    (lambda t: t.replace('["清退商户"]', '["清退商户", 3]'), "plan_templates[0].steps[1]"),
    (lambda t: t.replace('["legal"]', '"legal"'), "plan_templates[0].means"),
    (lambda t: t.replace('steps = ["清退商户"]\n', ""), "plan_templates[0].steps"),
])
def test_a_bad_plan_template_is_refused_naming_the_key(change, key):
    with pytest.raises(PresetError, match=key.replace("[", r"\[").replace("]", r"\]")):
        parse_preset(_preset_with(change(TEMPLATE)))


# Pages

def _login(client, personas, name):
    client.force_login(personas[name])
    return client


def _plan_post(**overrides):
    data = {"planned_on": "2015-12-01", "means": ["persuasion", "legal"], "summary": "",
            "steps-TOTAL_FORMS": "2", "steps-INITIAL_FORMS": "0", "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "100",
            "steps-0-description": "约谈产权人", "steps-0-means": "persuasion", "steps-0-due_on": "2015-12-10",
            "steps-1-description": "", "steps-1-means": "", "steps-1-owner": "", "steps-1-due_on": ""}
    data.update(overrides)
    return data


def test_the_create_page_offers_the_template_of_the_targets_type(client, targets, personas):
    page = _login(client, personas, "alice").get("/work/targets/%d/plans/new/" % targets["GC-0001"].pk)
    html = page.content.decode()
    assert page.status_code == 200 and "解除房屋和土地租赁合同" in html and "入户宣传" in html
    assert re.search(r'name="means" value="personal"[^>]*checked', html)
    assert 'name="steps-INITIAL_FORMS" value="8"' in html  # the compound template's eight steps


def test_street_user_drafts_and_submits_and_the_office_approves_on_the_pages(client, campaign, units, targets,
                                                                             personas):
    law = _policy(campaign)
    target = targets["GC-0001"]
    response = _login(client, personas, "alice").post("/work/targets/%d/plans/new/" % target.pk, _plan_post(**{
        "steps-0-owner": str(units["U-GC"].pk), "steps-0-policies": [str(law.pk)]}))
    assert response.status_code == 302
    plan = Plan.objects.get()
    step = plan.steps.get()
    assert (step.owner, list(step.policies.all()), plan.means) == (units["U-GC"], [law], ["persuasion", "legal"])
    client.post("/work/plans/%d/submit/" % plan.pk)
    assert Plan.objects.get().status == S.SUBMITTED
    client.post("/work/plans/%d/approve/" % plan.pk)  # alice: refused
    assert Plan.objects.get().status == S.SUBMITTED
    _login(client, personas, "carol").post("/work/plans/%d/approve/" % plan.pk)
    assert Plan.objects.get().status == S.APPROVED
    section = client.get("/work/targets/%d/plans/" % target.pk, headers={"HX-Request": "true"})
    assert b'id="plan-v1"' in section.content and b"<html" not in section.content
    assert law.title.encode() in section.content


def test_a_page_post_with_a_step_due_before_the_plan_date_shows_why_and_saves_nothing(client, targets, personas):
    before = _db()
    response = _login(client, personas, "alice").post(
        "/work/targets/%d/plans/new/" % targets["GC-0001"].pk, _plan_post(**{"steps-0-due_on": "2015-11-20"}))
    assert response.status_code == 200 and "2015-11-20" in response.content.decode()
    response = client.post("/work/targets/%d/plans/new/" % targets["GC-0001"].pk, _plan_post(means=[]))
    assert response.status_code == 200 and b'class="bad"' in response.content
    assert _db() == before


def test_editing_an_approved_version_on_the_page_is_refused(client, targets, personas):
    plan = _plan(targets["GC-0001"], personas["alice"])
    plan_approve(plan=plan, actor=personas["carol"])
    before = _db()
    _login(client, personas, "alice")
    page = client.get("/work/plans/%d/edit/" % plan.pk, follow=True)
    assert page.redirect_chain and 'class="message error"' in page.content.decode()
    client.post("/work/plans/%d/edit/" % plan.pk, _plan_post())
    assert _db() == before


def test_a_new_version_from_the_page_opens_its_edit_form(client, targets, personas):
    plan = _plan(targets["GC-0001"], personas["alice"])
    plan_approve(plan=plan, actor=personas["carol"])
    response = _login(client, personas, "alice").post("/work/targets/%d/plans/next/" % targets["GC-0001"].pk)
    v2 = Plan.objects.get(version=2)
    assert response["Location"] == "/work/plans/%d/edit/" % v2.pk
    page = client.get(response["Location"])
    assert "约谈产权人" in page.content.decode()
    response = client.post(response["Location"], _plan_post(**{"steps-0-description": "入户宣传"}))
    assert list(Plan.objects.get(pk=v2.pk).steps.values_list("description", flat=True)) == ["入户宣传"]


def test_the_plans_section_query_count_does_not_grow_with_versions(client, campaign, targets, personas,
                                                                   django_assert_num_queries):
    law = _policy(campaign)
    target = targets["GC-0001"]
    steps = [{"description": "解除租赁合同", "means": "legal", "policies": [law.pk]}]
    plan_approve(plan=_plan(target, personas["alice"], steps=steps), actor=personas["carol"])
    _login(client, personas, "carol")
    url = "/work/targets/%d/plans/" % target.pk
    client.get(url)  # warm the session and the campaign
    with django_assert_num_queries(9) as one:  # 9 with the header's unread notifications
        client.get(url)
    for _i in range(2):
        plan_approve(plan=plan_new_version(target=target, actor=personas["alice"]), actor=personas["carol"])
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200


PLAN_PAGES = [("get", "/work/targets/{t}/plans/"), ("get", "/work/targets/{t}/plans/new/"),
              ("post", "/work/targets/{t}/plans/new/"), ("post", "/work/targets/{t}/plans/next/"),
              ("get", "/work/plans/{p}/edit/"), ("post", "/work/plans/{p}/edit/"),
              ("post", "/work/plans/{p}/submit/"), ("post", "/work/plans/{p}/approve/")]


@pytest.mark.parametrize("method, url", PLAN_PAGES)
def test_other_street_gets_404_on_every_plan_url(client, targets, personas, method, url):
    plan = _plan(targets["GC-0001"], personas["alice"])
    before = _db()
    _login(client, personas, "bob")
    response = getattr(client, method)(url.format(t=targets["GC-0001"].pk, p=plan.pk), _plan_post())
    assert response.status_code == 404
    assert _db() == before


@pytest.mark.parametrize("method, url", PLAN_PAGES)
def test_anonymous_goes_to_login_on_every_plan_url(client, targets, personas, method, url):
    plan = _plan(targets["GC-0001"], personas["alice"])
    response = getattr(client, method)(url.format(t=targets["GC-0001"].pk, p=plan.pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ["dan", "erin", "lee", "gina"])
def test_readers_see_the_plans_but_may_not_open_the_forms(client, targets, personas, name):
    plan = _plan(targets["GC-0001"], personas["alice"])
    plan_submit(plan=plan, actor=personas["alice"])
    _login(client, personas, name)
    page = client.get("/work/targets/%d/plans/" % targets["GC-0001"].pk)
    assert page.status_code == 200 and b"plan-v1" in page.content and b"approve-plan" not in page.content
    assert b"/work/plans/%d/edit/" % plan.pk not in page.content and b"new-version" not in page.content
    assert client.get("/work/targets/%d/plans/new/" % targets["GC-0001"].pk).status_code == 403
    assert client.get("/work/plans/%d/edit/" % plan.pk).status_code == 403
    before = _db()
    assert client.post("/work/plans/%d/edit/" % plan.pk, _plan_post()).status_code == 403
    client.post("/work/plans/%d/submit/" % plan.pk)
    client.post("/work/targets/%d/plans/next/" % targets["GC-0001"].pk)
    assert _db() == before and Plan.objects.get().status == S.SUBMITTED


def test_the_work_page_lazy_loads_the_plans_section(client, targets, personas):
    page = _login(client, personas, "alice").get("/work/targets/%d/" % targets["GC-0001"].pk)
    assert 'hx-get="/work/targets/%d/plans/"' % targets["GC-0001"].pk in page.content.decode()


def test_the_owner_list_groups_units_by_kind_and_the_rights_units_by_system_sorted(campaign, units):
    for code, name, system in (("U-Z", "八角西园峪股份经济合作社", "JT"), ("U-A", "首钢小峪建材分公司", "SG"),
                               ("U-B", "八宝山后槐营股份经济合作社", "JT")):
        OrgUnit.objects.create(campaign=campaign, kind=OrgUnit.Kind.RIGHTS_UNIT, code=code, name=name,
                               parent=units[system], sort=0 if code == "U-Z" else 9)
    groups = dict(owner_choices(owner_units(campaign))[1:])
    assert list(groups) == ["指挥部办公室", "专项工作组", "街道分指", "所属系统",
                            "地权/产权单位 · 集体经济系统", "地权/产权单位 · 国资系统", "地权/产权单位 · 首钢系统"]
    # The streets in the preset's order.
    assert [name for _pk, name in groups["街道分指"]][:3] == ["八宝山街道", "老山街道", "八角街道"]
    assert [name for _pk, name in groups["地权/产权单位 · 集体经济系统"]] == [
        "八宝山后槐营股份经济合作社", "八角西园峪股份经济合作社", "古城杨庄股份经济合作社"]


def test_the_plan_form_offers_a_box_that_narrows_the_owner_list(client, targets, personas):
    html = _login(client, personas, "alice").get("/work/targets/%d/plans/new/" % targets["GC-0001"].pk).content.decode()
    assert 'data-filter="输入文字筛选单位…"' in html and "/static/taizhang/narrow.js" in html
