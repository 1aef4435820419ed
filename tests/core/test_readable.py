"""Change-log entries as people read them (core.readable): headings from the models' verbose
names and values by label, unit, day and name, in the page's language; entries of older
forms still read."""

import datetime
import io

import pytest
from django.utils import translation
from PIL import Image

from taizhang.core.changelog import Change, changelog_append
from taizhang.core.models import ChangeLogEntry
from taizhang.core.readable import readable
from taizhang.ledger.services import target_update
from taizhang.remediation.acceptance import acceptance_record
from taizhang.remediation.legal import lease_answer, lease_notice, lease_record, legal_step_open
from taizhang.remediation.outcomes import outcome_record
from taizhang.remediation.photos import photo_add
from taizhang.remediation.plans import plan_approve, plan_create, plan_submit, policy_create
from taizhang.remediation.verification import verification_confirm, verification_record
from taizhang.remediation.workflow import target_step

D = datetime.date


def _read(object_type, language, **filters):
    """{heading: (before, after)} of the latest entry of `object_type`, read in `language`."""
    entry = ChangeLogEntry.objects.filter(object_type=object_type, **filters).last()
    with translation.override(language):
        item = readable([entry], campaign_id=None)[0]
    return item.kind, {heading: (before, after) for heading, before, after in item.diffs}


def test_a_targets_flags_pilot_area_day_and_state_read_as_labels_in_both_languages(targets, personas):
    target = targets["GC-0001"]
    target_update(target=target, actor=personas["alice"], changes={
        "flags": ["safety_hazard", "instability"], "is_pilot": True, "rented_floor_area": "900",
        "registered_on": D(2016, 1, 2)})
    target_step(target=target, to="on_hold", actor=personas["carol"], comment="暂缓", hold_reason="等待协调",
                hold_review_on=D(2016, 3, 1))
    kind, zh = _read("ledger.target", "zh-hans", action="update", after__is_pilot=True, after__state="registered")
    assert kind == "整治对象"
    assert zh["重点情形"] == ("", "不稳定因素、重大安全隐患")
    assert zh["试点"] == ("否", "是")
    assert zh["出租房屋面积（㎡）"] == ("800.00㎡", "900.00㎡")
    assert zh["登记日期"] == ("2015年11月20日", "2016年1月2日")
    kind, en = _read("ledger.target", "en", action="update", after__is_pilot=True, after__state="registered")
    assert kind == "Target"
    assert en["Situation flags"] == ("", "instability、major safety hazard")
    assert en["Pilot"] == ("no", "yes")
    assert en["Rented floor area (m²)"] == ("800.00 m²", "900.00 m²")
    assert en["Registered on"] == ("Nov. 20, 2015", "Jan. 2, 2016")
    # The step: states by their labels, the hold's source too.
    _kind, held = _read("ledger.target", "zh-hans", after__state="on_hold")
    assert held["状态"] == ("待核查", "暂缓") and held["暂缓前状态"] == ("", "待核查")
    assert held["暂缓复核日期"] == ("", "2016年3月1日")
    _kind, held = _read("ledger.target", "en", after__state="on_hold")
    assert held["State"] == ("registered", "on hold") and held["Review hold on"] == ("", "March 1, 2016")


def test_no_internal_value_or_field_name_reaches_a_target_page(client, targets, personas):
    target_update(target=targets["GC-0001"], actor=personas["alice"],
                  changes={"flags": ["safety_hazard"], "is_pilot": True, "rented_floor_area": "900"})
    client.force_login(personas["alice"])
    page = client.get(targets["GC-0001"].get_absolute_url()).content.decode()
    history = page.split('id="history"', 1)[1]
    for internal in ("safety_hazard", "False", "True", "rented_floor_area", "registered"):
        assert internal not in history, internal
    assert "重大安全隐患" in history and "900.00㎡" in history


def test_a_verification_reads_its_land_rights_tenants_and_who_confirmed(targets, personas):
    alice = personas["alice"]
    alice.first_name, alice.last_name = "爱丽", "王"
    alice.save()
    verification = verification_record(
        target=targets["GC-0001"], actor=alice, facts={"land_rights": "collective", "rented_floor_area": "800.5"},
        tenants=[{"name": "张三", "kind": "person", "people": 4, "lease_ends_on": D(2017, 1, 1)},
                 {"name": "鑫鑫废品站", "kind": "business", "people": 1}])
    kind, zh = _read("remediation.verification", "zh-hans")
    assert kind == "核查"
    assert zh["土地权属"] == ("", "集体土地")
    assert zh["出租房屋面积（㎡）"] == ("", "800.50㎡")
    assert zh["承租户"] == ("", "张三（个人，4 人，租约至 2017年1月1日）\n鑫鑫废品站（商户，1 人）")
    _kind, en = _read("remediation.verification", "en")
    assert en["Tenants"] == ("", "张三 (individual, 4 people, lease ends Jan. 1, 2017)\n"
                                 "鑫鑫废品站 (business, 1 person)")
    verification_confirm(verification=verification, actor=alice)
    _kind, zh = _read("remediation.verification", "zh-hans")
    assert zh == {"街道确认人": ("", "爱丽 王")}
    _kind, en = _read("remediation.verification", "en")
    assert en == {"Confirmed for the street by": ("", "爱丽 王")}


def test_a_plan_reads_its_means_steps_units_policies_and_approver(campaign, units, targets, personas):
    law = policy_create(campaign=campaign, actor=None, title="中华人民共和国合同法")
    plan = plan_create(target=targets["GC-0001"], actor=personas["alice"], planned_on=D(2015, 12, 1),
                       means=["legal", "persuasion"], steps=[
                           {"description": "解除租赁合同", "means": "legal", "owner": units["U-GC"],
                            "due_on": D(2016, 1, 15), "policies": [law.pk]}])
    kind, zh = _read("remediation.plan", "zh-hans")
    assert kind == "整治方案"
    assert zh["手段"] == ("", "法治、思想")
    assert zh["步骤"] == ("", "1. 解除租赁合同（法治，古城杨庄股份经济合作社，2016年1月15日前完成，"
                              "《中华人民共和国合同法》）")
    assert zh["状态"] == ("", "草稿") and zh["方案日期"] == ("", "2015年12月1日")
    _kind, en = _read("remediation.plan", "en")
    assert en["Means"] == ("", "legal (法治)、persuasion (思想)")
    assert en["Steps"][1] == ("1. 解除租赁合同 (legal (法治), 古城杨庄股份经济合作社, due Jan. 15, 2016, "
                              "《中华人民共和国合同法》)")
    plan_submit(plan=plan, actor=personas["alice"])
    plan_approve(plan=plan, actor=personas["carol"])
    _kind, zh = _read("remediation.plan", "zh-hans")
    assert zh == {"状态": ("已提交", "已批准"), "批准人": ("", "carol")}


def test_a_lease_and_its_legal_step_read_their_choices_and_the_lease_by_its_lessee(targets, personas):
    lease = lease_record(target=targets["GC-0001"], actor=personas["alice"], lessee="李四", ends_on=D(2017, 1, 1))
    lease_notice(lease=lease, actor=personas["alice"], sent_on=D(2016, 1, 5))
    lease = lease_answer(lease=lease, actor=personas["alice"], answer="refused", answered_on=D(2016, 1, 20))
    _kind, zh = _read("remediation.lease", "zh-hans")
    assert zh["答复"] == ("尚未答复", "拒绝") and zh["答复日期"] == ("", "2016年1月20日")
    legal_step_open(lease=lease, actor=personas["gina"], stage="research", due_on=D(2016, 3, 1))
    kind, zh = _read("remediation.legalstep", "zh-hans")
    assert kind == "司法环节" and zh["租赁合同"] == ("", "李四") and zh["阶段"] == ("", "调研")
    kind, en = _read("remediation.legalstep", "en")
    assert kind == "Legal step" and en["Lease"] == ("", "李四") and en["Stage"] == ("", "research (调研)")


def test_amounts_read_with_their_units_and_counts_as_numbers(targets, personas):
    outcome_record(target=targets["GC-0001"], actor=personas["alice"], stage="acceptance",
                   values={"people_moved": 4, "funds_paid": "1000.5", "land_recovered": "300"})
    _kind, zh = _read("remediation.outcome", "zh-hans")
    assert zh["已拨付经费（元）"] == ("", "1000.50元")
    assert zh["收回土地面积（㎡）"] == ("", "300.00㎡")
    assert zh["疏解人口"] == ("", "4") and zh["统计时点"] == ("", "验收时")
    _kind, en = _read("remediation.outcome", "en")
    assert en["Funds paid (元)"] == ("", "1000.50 yuan")


def test_an_acceptance_reads_its_checks_as_yes_or_no_and_who_decided(targets, personas):
    from taizhang.ledger.models import Target

    target = targets["GC-0001"]
    Target.objects.filter(pk=target.pk).update(state="completion_reported")
    target.refresh_from_db()
    acceptance_record(target=target, actor=personas["carol"], decision="failed", reasons="未清退",
                      tenants_cleared=False, structures_demolished=True, demolished_area="350.5")
    kind, zh = _read("remediation.acceptance", "zh-hans")
    assert kind == "验收"
    assert zh["验收结论"] == ("", "不通过") and zh["验收人"] == ("", "carol")
    assert zh["违法建设已拆除"] == ("", "是") and zh["拆除面积（㎡）"] == ("", "350.50㎡")
    assert zh["清退承租户"] == ("", "否")


def test_a_photo_reads_its_size_and_kind(targets, personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "JPEG")
    photo_add(target=targets["GC-0001"], actor=personas["alice"], name="现场.jpg", data=out.getvalue())
    kind, zh = _read("remediation.photo", "zh-hans")
    assert kind == "照片" and zh["文件类型"] == ("", "image/jpeg") and zh["文件大小"][1].endswith("字节")
    kind, en = _read("remediation.photo", "en")
    assert kind == "Photo" and en["File size"][1].endswith("bytes")


def test_an_org_unit_reads_its_kind_by_label(units):
    from taizhang.campaigns.snapshots import ORG_UNIT

    changelog_append(changes=[ORG_UNIT.created(units["GC"])])
    kind, zh = _read("campaigns.orgunit", "zh-hans")
    assert kind == "组织单位" and zh["类别"] == ("", "街道分指")


def test_entries_of_older_forms_still_read(targets, personas):
    """As entries were written before the declarations, or by a declaration since changed:
    amounts unquantized or as text, a day not in ISO form, a code no longer a choice, a user
    since deleted, child rows in another shape, keys no longer declared, a type no longer
    declared. Each reads as it was stored; none breaks the page."""
    target = targets["GC-0001"]
    changelog_append(changes=[
        Change("remediation.outcome", "901", "旧", "update", {"funds_paid": "1000.5", "people_moved": "4"},
               {"funds_paid": "2000", "people_moved": "5"}, target_id=target.pk),
        Change("remediation.petition", "902", "旧", "update",
               {"target": "GC-0001", "received_on": "2016/3/1", "channel": "fax", "stability_risk": 0},
               {"target": "GC-0001", "received_on": "2016-03-02", "channel": "visit", "stability_risk": 1},
               target_id=target.pk),
        Change("remediation.plan", "903", "旧", "update", {"approved_by": None, "steps": ["约谈", "拆除"]},
               {"approved_by": 99999, "steps": [{"description": "约谈"}]}, target_id=target.pk),
        Change("ledger.target", str(target.pk), str(target), "update", {"flags": "safety_hazard", "is_pilot": 0},
               {"flags": ["gone_flag"], "is_pilot": 1}, target_id=target.pk),
        Change("remediation.retired", "1", "旧记录", "update", {"old": [1, 2]}, {"old": {"a": True}},
               target_id=target.pk),
    ])
    entries = list(ChangeLogEntry.objects.order_by("-id")[:5])
    with translation.override("zh-hans"):
        retired, own, plan, petition, outcome = readable(entries)
    assert dict((h, (b, a)) for h, b, a in outcome.diffs) == {
        "已拨付经费（元）": ("1000.5元", "2000元"), "疏解人口": ("4", "5")}
    petition_read = {h: (b, a) for h, b, a in petition.diffs}
    assert petition_read["信访方式"] == ("fax", "来访")
    assert petition_read["受理日期"] == ("2016/3/1", "2016年3月2日")
    assert petition_read["稳定风险"] == ("否", "是")
    assert "整治对象" not in petition_read  # the same before and after: not a change
    plan_read = {h: (b, a) for h, b, a in plan.diffs}
    assert plan_read["批准人"] == ("", "用户 #99999")
    assert plan_read["步骤"] == ("约谈、拆除", "1. 约谈")
    own_read = {h: (b, a) for h, b, a in own.diffs}
    assert own_read["重点情形"] == ("重大安全隐患", "gone_flag")
    assert (retired.kind, retired.diffs) == ("remediation.retired", [("old", "1、2", "a: 是")])


def test_a_page_of_entries_looks_names_up_in_one_query_per_model(targets, personas, units, campaign,
                                                                 django_assert_num_queries):
    from taizhang.remediation.verification import verification_record as record

    for name in ("alice", "carol"):
        for code in ("GC-0001", "GC-0002"):
            verification = record(target=targets[code], actor=personas[name], facts={"notes": name})
            verification_confirm(verification=verification, actor=personas[name])
    entries = list(ChangeLogEntry.objects.order_by("-id")[:40])
    with django_assert_num_queries(1):  # the users, once
        items = readable(entries, campaign_id=campaign.pk)
    confirmed = [d for item in items for d in item.diffs if d[0] == "街道确认人"]
    assert sorted(after for _h, _b, after in confirmed) == ["alice", "alice", "carol", "carol"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_declared_field_has_a_heading_in_the_language(language):
    """No heading falls back to a field's internal name (rented_floor_area, street_confirmed_by),
    and in Chinese none is left in English."""
    from taizhang.core.snapshots import declarations

    with translation.override(language):
        for serializer in declarations():
            headings = [serializer.kind, *(serializer.heading(name) for name in serializer.fields)]
            for heading in headings:
                assert "_" not in heading, (serializer.object_type, heading)
                if language == "zh-hans" and heading != "SHA-256":
                    assert not heading.isascii(), (serializer.object_type, heading)
