"""The workflow: who may take which step, what each needs, holds, and the timeline."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from taizhang.core.coordinates import CoordinateSystem
from taizhang.core.models import ChangeLogEntry
from taizhang.core.transitions import TransitionRefused
from taizhang.ledger.models import Target
from taizhang.remediation.checks import RemediationError
from taizhang.remediation.models import TransitionEvent, Verification
from taizhang.remediation.verification import verification_confirm, verification_record
from taizhang.remediation.workflow import target_step
from tests.racing import race

S = Target.State


def _state(target):
    """Everything a refused step must leave alone."""
    target.refresh_from_db()
    return target.state, target.version, TransitionEvent.objects.count(), ChangeLogEntry.objects.count()


def _verified(target, personas, **facts):
    verification = verification_record(target=target, actor=personas["alice"], facts=facts)
    verification_confirm(verification=verification, actor=personas["alice"])
    verification_confirm(verification=verification, actor=personas["dan"])
    return verification


def test_a_point_copied_from_a_gcj02_map_corrects_the_ledger_in_its_own_system(targets, personas):
    target = targets["GC-0001"]
    _verified(target, personas, longitude=Decimal("116.180000"), latitude=Decimal("39.910000"),
              coordinate_system=CoordinateSystem.GCJ02)
    target.refresh_from_db()
    assert (target.longitude, target.latitude, target.coordinate_system) == (
        Decimal("116.180000"), Decimal("39.910000"), CoordinateSystem.GCJ02)
    # The same numbers read by a phone (WGS-84) are another point: the system changes with them.
    _verified(target, personas, longitude=Decimal("116.180000"), latitude=Decimal("39.910000"))
    target.refresh_from_db()
    assert target.coordinate_system == CoordinateSystem.WGS84


@pytest.mark.parametrize(("facts", "message"), [
    ({"longitude": Decimal("116.18"), "coordinate_system": CoordinateSystem.GCJ02},
     "The point is given in GCJ-02, the ledger's in WGS-84: give its longitude and latitude both"),
    ({"longitude": Decimal("39.91"), "latitude": Decimal("116.18"), "coordinate_system": CoordinateSystem.BD09},
     "swapped"),
    ({"longitude": Decimal("117.5"), "latitude": Decimal("39.91"), "coordinate_system": CoordinateSystem.GCJ02},
     "117.500000, 39.910000 lies outside the district"),
])
def test_a_point_that_cannot_be_where_it_is_said_is_refused_and_nothing_recorded(targets, personas, facts, message):
    target = targets["GC-0001"]
    before = (_state(target), Verification.objects.count())
    with translation.override("en"), pytest.raises(RemediationError, match=message):
        verification_record(target=target, actor=personas["alice"], facts=facts)
    assert (_state(target), Verification.objects.count()) == before


def test_verified_needs_a_confirmed_verification(targets, personas):
    target = targets["GC-0001"]
    before = _state(target)
    with pytest.raises(TransitionRefused, match="核查|verification"):
        target_step(target=target, to=S.VERIFIED, actor=personas["alice"])
    assert _state(target) == before


def test_a_verification_counts_once_both_parties_confirm_and_corrects_the_ledger(targets, personas):
    target = targets["GC-0001"]
    verification = verification_record(target=target, actor=personas["alice"],
                                       facts={"resident_population": 95, "rented_floor_area": Decimal("800.00")},
                                       tenants=[{"name": "张三", "kind": "person", "people": 4}])
    verification_confirm(verification=verification, actor=personas["alice"])
    target.refresh_from_db()
    assert target.resident_population == 120  # one side only: nothing counts yet
    with pytest.raises(TransitionRefused):
        target_step(target=target, to=S.VERIFIED, actor=personas["alice"])
    verification_confirm(verification=verification, actor=personas["dan"])
    target.refresh_from_db()
    assert target.resident_population == 95
    event = target_step(target=target, to=S.VERIFIED, actor=personas["alice"], comment="现场核查完毕")
    target.refresh_from_db()
    assert (target.state, event.from_state, event.actor) == (S.VERIFIED, S.REGISTERED, personas["alice"])
    assert ChangeLogEntry.objects.filter(object_id=str(target.pk), reason="现场核查完毕").exists()


def test_a_verification_confirmed_twice_by_one_side_is_refused(targets, personas):
    verification = verification_record(target=targets["GC-0001"], actor=personas["alice"], facts={})
    verification_confirm(verification=verification, actor=personas["alice"])
    count = ChangeLogEntry.objects.count()
    with pytest.raises(RemediationError):
        verification_confirm(verification=verification, actor=personas["carol"])  # office is the street side too
    assert ChangeLogEntry.objects.count() == count


def test_only_the_parties_confirm(targets, personas):
    verification = verification_record(target=targets["GC-0001"], actor=personas["alice"], facts={})
    for name in ("erin", "lee", "bob"):
        with pytest.raises(RemediationError):
            verification_confirm(verification=verification, actor=personas[name])
    verification.refresh_from_db()
    assert verification.street_confirmed_at is None and verification.holder_confirmed_at is None


def test_negative_verified_area_is_refused(targets, personas):
    with pytest.raises(ValidationError):
        verification_record(target=targets["GC-0001"], actor=personas["alice"],
                            facts={"rented_floor_area": Decimal("-1")})
    assert Verification.objects.count() == 0


def test_roles_outside_the_target_cannot_record_or_step(targets, personas):
    target = targets["GC-0001"]
    with pytest.raises(RemediationError):
        verification_record(target=target, actor=personas["bob"], facts={})
    _verified(target, personas)
    before = _state(target)
    for name in ("bob", "erin", "lee", "dan"):
        with pytest.raises(TransitionRefused):
            target_step(target=target, to=S.VERIFIED, actor=personas[name])
    assert _state(target) == before


def test_plan_approval_is_refused_without_an_approved_plan(targets, personas):
    target = targets["GC-0001"]
    _verified(target, personas)
    target_step(target=target, to=S.VERIFIED, actor=personas["alice"])
    before = _state(target)
    with pytest.raises(TransitionRefused, match="一院一策"):
        target_step(target=target, to=S.PLAN_APPROVED, actor=personas["carol"])
    assert _state(target) == before


def test_a_step_the_workflow_does_not_have_is_refused(targets, personas):
    target = targets["GC-0001"]
    before = _state(target)
    with pytest.raises(TransitionRefused):
        target_step(target=target, to=S.CLOSED, actor=personas["carol"])
    assert _state(target) == before


def test_hold_needs_a_reason_and_a_date_and_resumes_where_it_was(targets, personas):
    target = targets["GC-0001"]
    before = _state(target)
    with pytest.raises(TransitionRefused):
        target_step(target=target, to=S.ON_HOLD, actor=personas["carol"], hold_reason="")
    assert _state(target) == before
    target_step(target=target, to=S.ON_HOLD, actor=personas["carol"], hold_reason="产权纠纷诉讼中",
                hold_review_on=datetime.date(2016, 3, 1))
    target.refresh_from_db()
    assert (target.state, target.held_from, target.hold_reason) == (S.ON_HOLD, S.REGISTERED, "产权纠纷诉讼中")
    target_step(target=target, to=S.REGISTERED, actor=personas["carol"])
    target.refresh_from_db()
    assert (target.state, target.held_from, target.hold_review_on) == (S.REGISTERED, "", None)


def _step_in_child(pk, username):
    from django.contrib.auth import get_user_model

    try:
        target_step(target=Target.objects.get(pk=pk), to=S.ON_HOLD,
                    actor=get_user_model().objects.get(username=username), hold_reason="并发测试",
                    hold_review_on=datetime.date(2016, 1, 1))
    except TransitionRefused:
        return "refused"
    return "moved"


@pytest.mark.django_db(transaction=True)
def test_two_people_stepping_at_once_exactly_one_wins(targets, personas):
    target = targets["GC-0001"]
    answers = race("tests.remediation.test_workflow:_step_in_child", [(target.pk, "carol"), (target.pk, "carol")])
    assert answers == ["moved", "refused"]
    assert TransitionEvent.objects.filter(target=target).count() == 1
    target.refresh_from_db()
    assert (target.state, target.version) == (S.ON_HOLD, 2)


def test_the_callers_target_reflects_the_step_without_reloading(targets, personas):
    target = targets["GC-0001"]
    target_step(target=target, to=S.ON_HOLD, actor=personas["carol"], hold_reason="待定",
                hold_review_on=datetime.date(2016, 3, 1))
    stored = Target.objects.get(pk=target.pk)
    assert (target.state, target.version, target.held_from) == (stored.state, stored.version, stored.held_from)
