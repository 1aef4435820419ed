"""A target's history holds the changes to everything that belongs to it, each entry tied to the
target (`ChangeLogEntry.target_id`) and shown on its page named by its kind, readably."""

import datetime
import io

import pytest
from PIL import Image

from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.models import Target
from taizhang.remediation.acceptance import acceptance_record, inspection_record
from taizhang.remediation.legal import lease_answer, lease_notice, lease_record, legal_step_done, legal_step_open
from taizhang.remediation.outcomes import outcome_record
from taizhang.remediation.petitions import petition_handle, petition_record
from taizhang.remediation.photos import photo_add
from taizhang.remediation.pilots import lesson_record, pilot_mark
from taizhang.remediation.plans import plan_approve, plan_create, plan_submit, plan_update, policy_create
from taizhang.remediation.verification import verification_confirm, verification_record
from taizhang.remediation.workflow import target_step

D = datetime.date
# object type -> what the target's page calls it, in Chinese and in English
KINDS = {
    "remediation.verification": ("核查", "Verification"),
    "remediation.plan": ("整治方案", "Plan"),
    "remediation.lease": ("租赁合同", "Lease"),
    "remediation.legalstep": ("司法环节", "Legal step"),
    "remediation.petition": ("信访件", "Petition"),
    "remediation.acceptance": ("验收", "Acceptance"),
    "remediation.inspection": ("复查", "Re-inspection"),
    "remediation.photo": ("照片", "Photo"),
    "remediation.outcome": ("人员与经费", "People and money"),
    "remediation.pilotlesson": ("试点经验教训", "Pilot lesson"),
}


@pytest.fixture
def whole_history(campaign, units, targets, personas, settings, tmp_path):
    """GC-0001 taken through every kind of record that belongs to a target."""
    settings.MEDIA_ROOT = tmp_path
    target, alice, carol, dan, gina = (targets["GC-0001"], personas["alice"], personas["carol"], personas["dan"],
                                       personas["gina"])
    verification = verification_record(target=target, actor=alice, facts={"resident_population": 95},
                                       tenants=[{"name": "张三", "kind": "person", "people": 4}])
    verification_confirm(verification=verification, actor=alice)
    verification_confirm(verification=verification, actor=dan)
    law = policy_create(campaign=campaign, actor=None, title="中华人民共和国合同法")
    plan = plan_create(target=target, actor=alice, planned_on=D(2015, 12, 1), means=["persuasion", "legal"], steps=[
        {"description": "约谈产权人", "means": "persuasion", "owner": units["U-GC"], "due_on": D(2015, 12, 10)}])
    # The plan's steps change with the plan: a step added is an entry of the plan.
    plan = plan_update(plan=plan, actor=alice, planned_on=D(2015, 12, 1), means=["persuasion", "legal"], steps=[
        {"description": "约谈产权人", "means": "persuasion", "owner": units["U-GC"], "due_on": D(2015, 12, 10)},
        {"description": "解除租赁合同", "means": "legal", "owner": units["U-GC"], "due_on": D(2016, 1, 15),
         "policies": [law.pk]}])
    plan_submit(plan=plan, actor=alice)
    plan_approve(plan=plan, actor=carol)
    lease = lease_record(target=target, actor=alice, lessee="李四", ends_on=D(2017, 1, 1))
    lease_notice(lease=lease, actor=alice, sent_on=D(2016, 1, 5))
    lease = lease_answer(lease=lease, actor=alice, answer="refused", answered_on=D(2016, 1, 20))
    step = legal_step_open(lease=lease, actor=gina, stage="research", due_on=D(2016, 3, 1))
    legal_step_done(step=step, actor=gina, done_on=D(2016, 2, 20), result="可以起诉")
    petition = petition_record(target=target, actor=alice, petitioner="赵六", channel="visit", content="院内群租",
                               received_on=D(2016, 3, 1))
    petition_handle(petition=petition, actor=alice, status="replied", reply="已约谈", replied_on=D(2016, 3, 5))
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "JPEG")
    photo_add(target=target, actor=alice, name="现场.jpg", data=out.getvalue(), verification=verification)
    outcome_record(target=target, actor=alice, stage="acceptance", values={"people_moved": 4, "funds_paid": "1000.5"})
    pilot_mark(target=target, actor=alice, is_pilot=True)
    target.refresh_from_db()
    lesson_record(target=target, actor=alice, title="先谈后拆", text="先约谈产权人")
    target.refresh_from_db()
    target_step(target=target, to=Target.State.VERIFIED, actor=alice)
    target_step(target=target, to=Target.State.PLAN_APPROVED, actor=carol)
    target_step(target=target, to=Target.State.IN_REMEDIATION, actor=alice)
    target_step(target=target, to=Target.State.COMPLETION_REPORTED, actor=alice, comment="已完成整治")
    acceptance_record(target=target, actor=carol, decision="passed", tenants_cleared=True,
                      structures_demolished=True, demolished_area="350.5", site_cleaned=True, land_returned=True)
    target.refresh_from_db()
    inspection_record(target=target, actor=alice, passed=True, findings="无反弹")
    return target


def test_every_kind_that_belongs_to_a_target_records_the_target(whole_history):
    logged = ChangeLogEntry.objects.filter(object_type__in=KINDS)
    assert set(logged.values_list("object_type", flat=True)) == set(KINDS)
    for entry in logged:
        assert entry.target_id == whole_history.pk, (entry.object_type, entry.object_id)
    # The plan's entries carry its steps, the second step added by an update.
    plans = ChangeLogEntry.objects.filter(object_type="remediation.plan").order_by("id")
    assert [len(e.after["steps"]) for e in plans] == [1, 2, 2, 2]


@pytest.mark.parametrize(("language", "column"), [("zh-hans", 0), ("en", 1)])
def test_the_target_page_shows_every_kind_named_and_readable(client, whole_history, targets, personas,
                                                             language, column):
    client.force_login(personas["alice"])
    client.cookies["taizhang_language"] = language
    response = client.get(whole_history.get_absolute_url())
    kinds = {item.kind for item in response.context["history"]}
    assert {names[column] for names in KINDS.values()} <= kinds
    page = response.content.decode().split('id="history"', 1)[1]
    for names in KINDS.values():
        assert "%s: " % names[column] in page
    step = ("2. 解除租赁合同（法治，古城杨庄股份经济合作社，2016年1月15日前完成，《中华人民共和国合同法》）"
            if column == 0 else
            "2. 解除租赁合同 (legal (法治), 古城杨庄股份经济合作社, due Jan. 15, 2016, 《中华人民共和国合同法》)")
    assert step in page
    # No stored code shows (in English a label may be the same word as its code: "refused").
    for internal in ("U-GC", "None", "True", "False", *(("persuasion", "refused", "research") if column == 0 else ())):
        assert internal not in page, internal
    # Another target's page shows none of it.
    other = client.get(targets["GC-0003"].get_absolute_url()).context["history"]
    assert {item.entry.object_type for item in other} == {"ledger.target"}
