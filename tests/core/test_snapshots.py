"""One snapshot declaration per model (core.snapshots): what each model's services log is
exactly its declaration's snapshot of the record as stored, tied to the record's target."""

import datetime
import io

import pytest
from PIL import Image

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.models import ChangeLogEntry
from taizhang.core.snapshots import declaration_of
from taizhang.ledger.importing import target_import
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_lock, target_update
from taizhang.remediation.acceptance import acceptance_record, inspection_record
from taizhang.remediation.legal import lease_answer, lease_notice, lease_record, legal_step_done, legal_step_open
from taizhang.remediation.models import Acceptance, Inspection
from taizhang.remediation.outcomes import outcome_record
from taizhang.remediation.petitions import petition_handle, petition_record
from taizhang.remediation.photos import photo_add
from taizhang.remediation.pilots import lesson_record, pilot_mark
from taizhang.remediation.plans import plan_approve, plan_create, plan_submit, policy_create, policy_update
from taizhang.remediation.verification import verification_confirm, verification_record
from taizhang.remediation.workflow import target_step
from tests.conftest import gc_row, make_xlsx

D = datetime.date
S = Target.State


def assert_logged_as_declared(record, *, target: Target | None):
    """The record's latest entry holds exactly its declaration's snapshot of the record as
    stored now, and names the target it belongs to."""
    declared = declaration_of(type(record))
    stored = type(record).objects.get(pk=record.pk)
    if isinstance(stored, Target):
        stored = target_lock(stored.pk)  # with the labels its snapshot names
    entry = ChangeLogEntry.objects.filter(object_type=declared.object_type, object_id=str(record.pk)).last()
    assert entry is not None, "no entry for %r" % record
    assert entry.after == declared.snapshot(stored)
    assert set(entry.after) == set(declared.fields)
    assert entry.target_id == (target.pk if target else None)
    if entry.before is not None:
        assert set(entry.before) == set(declared.fields)


def test_target_services_log_its_declaration(targets, personas):
    target = targets["GC-0001"]
    assert_logged_as_declared(target, target=target)  # created
    target_update(target=target, actor=personas["alice"], changes={"land_area": "1300.5", "flags": ["instability"]})
    assert_logged_as_declared(target, target=target)
    entry = ChangeLogEntry.objects.last()
    assert entry.after["land_area"] == "1300.50" and entry.after["street"] == "古城街道"
    assert {"held_from", "hold_reason", "hold_review_on"} <= set(entry.after)


def test_a_workflow_step_logs_the_targets_declaration_with_its_hold(targets, personas):
    target = targets["GC-0001"]
    target_step(target=target, to=S.ON_HOLD, actor=personas["carol"], comment="暂缓",
                hold_reason="等待区里协调", hold_review_on=D(2016, 3, 1))
    assert_logged_as_declared(target, target=target)
    assert ChangeLogEntry.objects.last().after["hold_review_on"] == "2016-03-01"


def test_an_import_logs_the_targets_declaration_for_new_and_changed_rows(targets, personas, campaign):
    rows = [gc_row("GC-0101", 责任单位="古城新成立的合作社"), gc_row("GC-0001", 名称="GC-0001大院", 居住人口=150,
                                                              类型="低端产业聚集人群大院", 所属系统="集体经济系统",
                                                              占地面积=1200, 登记日期=D(2015, 11, 20))]
    target_import(campaign=campaign, user=personas["alice"], data=make_xlsx(rows), filename="台账.xlsx")
    new = Target.objects.get(code="GC-0101")
    assert_logged_as_declared(new, target=new)
    assert_logged_as_declared(targets["GC-0001"], target=targets["GC-0001"])
    assert ChangeLogEntry.objects.filter(object_id=str(targets["GC-0001"].pk)).last().action == "update"
    assert_logged_as_declared(OrgUnit.objects.get(name="古城新成立的合作社"), target=None)


def test_a_preset_load_logs_the_campaigns_declaration(campaign):
    assert_logged_as_declared(Campaign.objects.get(pk=campaign.pk), target=None)
    # The file it came from is the why, not part of the campaign.
    assert ChangeLogEntry.objects.get(object_type="campaigns.campaign").reason == "从 shijingshan-2015.toml 加载预设"


def test_verification_services_log_its_declaration(targets, personas):
    target = targets["GC-0001"]
    verification = verification_record(target=target, actor=personas["alice"],
                                        facts={"resident_population": 95, "rented_floor_area": "800.5"},
                                        tenants=[{"name": "张三", "kind": "person", "people": 4}])
    assert_logged_as_declared(verification, target=target)
    verification_confirm(verification=verification, actor=personas["alice"])
    assert_logged_as_declared(verification, target=target)
    after = ChangeLogEntry.objects.filter(object_type="remediation.verification").last().after
    assert after["rented_floor_area"] == "800.50" and after["tenants"][0]["name"] == "张三"


def test_lease_and_legal_step_services_log_their_declarations(targets, personas):
    target, alice, gina = targets["GC-0001"], personas["alice"], personas["gina"]
    lease = lease_record(target=target, actor=alice, lessee="张三", ends_on=D(2017, 1, 1))
    assert_logged_as_declared(lease, target=target)
    lease_notice(lease=lease, actor=alice, sent_on=D(2016, 1, 5))
    lease = lease_answer(lease=lease, actor=alice, answer="refused", answered_on=D(2016, 1, 20))
    assert_logged_as_declared(lease, target=target)
    step = legal_step_open(lease=lease, actor=gina, stage="research", due_on=D(2016, 3, 1))
    assert_logged_as_declared(step, target=target)
    legal_step_done(step=step, actor=gina, done_on=D(2016, 2, 20), result="可以起诉")
    assert_logged_as_declared(step, target=target)


def test_petition_services_log_its_declaration(targets, personas):
    target = targets["GC-0001"]
    petition = petition_record(target=target, actor=personas["alice"], petitioner="赵六", channel="visit",
                               content="院内群租", received_on=D(2016, 3, 1))
    assert_logged_as_declared(petition, target=target)
    petition_handle(petition=petition, actor=personas["alice"], status="replied", reply="已约谈",
                    replied_on=D(2016, 3, 5))
    assert_logged_as_declared(petition, target=target)


def test_plan_and_policy_services_log_their_declarations(campaign, units, targets, personas):
    target = targets["GC-0001"]
    law = policy_create(campaign=campaign, actor=None, title="中华人民共和国合同法", issued_on=D(1999, 3, 15))
    assert_logged_as_declared(law, target=None)
    policy_update(policy=law, actor=personas["carol"], changes={"number": "第15号"})
    assert_logged_as_declared(law, target=None)
    plan = plan_create(target=target, actor=personas["alice"], planned_on=D(2015, 12, 1), means=["legal"], steps=[
        {"description": "解除租赁合同", "means": "legal", "owner": units["U-GC"], "due_on": D(2016, 1, 15),
         "policies": [law.pk]}])
    assert_logged_as_declared(plan, target=target)
    plan_submit(plan=plan, actor=personas["alice"])
    plan_approve(plan=plan, actor=personas["carol"])
    assert_logged_as_declared(plan, target=target)
    assert ChangeLogEntry.objects.filter(object_type="remediation.plan").last().after["steps"][0]["owner"] == "U-GC"


def test_acceptance_and_inspection_services_log_their_declarations(targets, personas):
    target = targets["GC-0001"]
    Target.objects.filter(pk=target.pk).update(state=S.IN_REMEDIATION)
    target.refresh_from_db()
    target_step(target=target, to=S.COMPLETION_REPORTED, actor=personas["alice"], comment="已完成整治")
    acceptance_record(target=target, actor=personas["carol"], decision="passed", tenants_cleared=True,
                      structures_demolished=True, demolished_area="350.5", site_cleaned=True, land_returned=True)
    assert_logged_as_declared(Acceptance.objects.get(target=target), target=target)
    scheduled = Inspection.objects.filter(target=target).order_by("due_on").first()
    assert_logged_as_declared(scheduled, target=target)
    inspection = inspection_record(target=target, actor=personas["alice"], passed=True, findings="无反弹")
    assert_logged_as_declared(inspection, target=target)


def test_outcome_services_log_its_declaration(targets, personas):
    target = targets["GC-0001"]
    outcome = outcome_record(target=target, actor=personas["alice"], stage="acceptance",
                             values={"people_moved": 4, "funds_paid": "1000.5"})
    assert_logged_as_declared(outcome, target=target)
    assert ChangeLogEntry.objects.last().after["funds_paid"] == "1000.50"


def test_pilot_lesson_services_log_its_declaration(targets, personas):
    target = targets["GC-0001"]
    pilot_mark(target=target, actor=personas["alice"], is_pilot=True)
    target.refresh_from_db()
    lesson = lesson_record(target=target, actor=personas["alice"], title="先谈后拆", text="先约谈产权人")
    assert_logged_as_declared(lesson, target=target)


def test_photo_services_log_its_declaration(targets, personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "JPEG")
    photo = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="现场.jpg", data=out.getvalue())
    assert_logged_as_declared(photo, target=targets["GC-0001"])


@pytest.mark.parametrize("object_type", [
    "ledger.target", "campaigns.campaign", "campaigns.orgunit", "remediation.verification", "remediation.lease",
    "remediation.legalstep", "remediation.petition", "remediation.plan", "remediation.policy",
    "remediation.acceptance", "remediation.inspection", "remediation.outcome", "remediation.pilotlesson",
    "remediation.photo"])
def test_every_logged_model_is_declared(object_type):
    from taizhang.core.snapshots import serializer_for

    assert serializer_for(object_type) is not None


def test_entries_kept_before_the_target_column_get_it_from_their_record_and_still_verify(targets, personas):
    from importlib import import_module

    from django.apps import apps

    from taizhang.core.changelog import Break, changelog_verify

    target = targets["GC-0001"]
    petition = petition_record(target=target, actor=personas["alice"], petitioner="赵六", channel="visit",
                               content="院内群租", received_on=D(2016, 3, 1))
    policy_create(campaign=target.campaign, actor=None, title="中华人民共和国合同法")
    expected = dict(ChangeLogEntry.objects.values_list("id", "target_id"))
    ChangeLogEntry.objects.update(target_id=None)  # as every entry was before core 0004
    import_module("taizhang.ledger.migrations.0006_entry_targets").forwards(apps, None)
    import_module("taizhang.remediation.migrations.0003_entry_targets").forwards(apps, None)
    assert dict(ChangeLogEntry.objects.values_list("id", "target_id")) == expected
    assert ChangeLogEntry.objects.get(object_type="remediation.petition").target_id == target.pk == petition.target_id
    assert not any(isinstance(item, Break) for item in changelog_verify())


@pytest.mark.parametrize("places", [0, 2, 6, 7])
def test_a_decimal_read_back_as_a_float_is_written_as_its_decimal_quantized(places):
    # Stored decimals come back from SQLite as floats by the tens of thousands in an import; the
    # short way for them must write what Decimal(repr(value)).quantize() has written from the start.
    import random
    import struct
    from decimal import Decimal

    from taizhang.core.snapshots import quantized

    step = Decimal(1).scaleb(-places)
    rng = random.Random(places)
    values = [0.0, -0.0, 12.5, 100.0, 116.225437, -39.9, 2.675, 0.125, 1e-5, 1.5e-7, 1e15 + 0.5, 1e16, 1e22,
              123456789012.345, 9999999.9999995, float("inf"), float("nan")]
    values += [round(rng.uniform(-1e6, 1e6), rng.randint(0, 9)) for _ in range(2000)]
    values += [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(500)]
    convert = quantized(places)
    for value in values:
        try:
            expected = str(Decimal(repr(value)).quantize(step))
        except ArithmeticError as exc:  # inf, nan and numbers past the context's precision
            with pytest.raises(type(exc)):
                convert(value)
        else:
            assert convert(value) == expected, repr(value)
