"""Supervision orders (督办单): issuing, the steps, answers, extensions, referral and what
纪检监察 records; each refusal names what is wrong and changes nothing."""

import datetime

import pytest

from taizhang.accounts.models import Membership
from taizhang.core.changelog import changelog_replay
from taizhang.core.errors import ConflictError
from taizhang.core.models import ChangeLogEntry
from taizhang.core.transitions import TransitionRefused
from taizhang.supervision.models import Accountability, Extension, Order, OrderEvent
from taizhang.supervision.orders import (
    SupervisionError,
    accountability_record,
    extension_ask,
    extension_decide,
    order_answer,
    order_refer,
    order_reissue,
    order_step,
)
from tests.supervision.conftest import TODAY, issue

pytestmark = pytest.mark.usefixtures("english")
State = Order.State


def _state():
    """What a refused write must leave alone."""
    return (list(Order.objects.order_by("pk").values()), OrderEvent.objects.count(), Extension.objects.count(),
            ChangeLogEntry.objects.count())


def _refused(call, message):
    before = _state()
    with pytest.raises((SupervisionError, TransitionRefused), match=message):
        call()
    assert _state() == before


def test_an_order_is_numbered_in_the_presets_format_per_year(order, personas, units, today):
    assert order.number == "石治乱督〔2016〕1号" and order.state == State.ISSUED
    assert issue(personas["carol"], units, receiver="LG").number == "石治乱督〔2016〕2号"
    today.set(datetime.date(2017, 1, 3))
    assert issue(personas["carol"], units, deadline=datetime.date(2017, 1, 20)).number == "石治乱督〔2017〕1号"
    entry = ChangeLogEntry.objects.filter(object_type="supervision.order", object_id=str(order.pk)).get()
    assert entry.after["targets"] == sorted(order.targets.values_list("pk", flat=True))
    assert entry.after["receiver"] and list(changelog_replay()) == []


def test_a_working_group_issues_for_its_group_not_for_the_office(personas, units, today):
    assert issue(personas["gina"], units, issuer="G08").issuer == units["G08"]
    _refused(lambda: issue(personas["gina"], units), "you do not issue orders for")
    _refused(lambda: issue(personas["gina"], units, issuer="G08", receiver="G08"), "another unit than the one issuing")
    _refused(lambda: issue(personas["alice"], units, issuer="GC", receiver="LG"), "HQ office or a working group")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"deadline": TODAY - datetime.timedelta(days=1)}, "Deadline: 2016-02-29 is in the past"),
    ({"receiver": "OFFICE"}, "is not a street, system, rights unit or working group"),
    ({"receiver": "HQ"}, "is not a street, system, rights unit or working group"),
    ({"subject": "  "}, "Subject: this field is required"),
    ({"subject": "督" * 201}, "Subject: at most 200 characters"),
    ({"text": "a\x00b"}, "cannot be stored"),
    ({"priority": "sometime"}, "Priority: “sometime” is not one of the choices"),
])
def test_bad_orders_are_refused_naming_the_field(personas, units, today, kwargs, message):
    _refused(lambda: issue(personas["carol"], units, **kwargs), message)


def test_an_order_is_about_targets_within_the_receivers_reach(personas, units, targets, today):
    _refused(lambda: issue(personas["carol"], units, targets=[targets["GC-0001"], targets["LG-0001"]]),
             "Targets: LG-0001 are not “古城街道”'s")
    order = issue(personas["carol"], units, receiver="U-GC", targets=[targets["GC-0001"]])
    assert list(order.targets.all()) == [targets["GC-0001"]]
    _refused(lambda: issue(personas["carol"], units, receiver="U-GC", targets=[targets["GC-0003"]]), "GC-0003")


def test_a_target_of_no_campaign_of_the_issuers_is_refused(personas, units, targets, today):
    _refused(lambda: issue(personas["carol"], units, targets=[10**9]), "not in this campaign or not yours to see")


def test_the_whole_path_signed_answered_confirmed(order, personas, today):
    alice, carol = personas["alice"], personas["carol"]
    _refused(lambda: order_step(actor=carol, order=order, to=State.SIGNED), "Your role may not take this step")
    order_step(actor=alice, order=order, to=State.SIGNED)
    order_answer(actor=alice, order=order, text="已约谈产权单位")
    assert order.state == State.IN_PROGRESS
    _refused(lambda: order_step(actor=alice, order=order, to=State.DONE), "cannot go from")
    order_answer(actor=alice, order=order, text="腾退完毕", done=True)
    assert order.state == State.ANSWERED
    _refused(lambda: order_step(actor=alice, order=order, to=State.DONE), "Your role may not take this step")
    order_step(actor=carol, order=order, to=State.DONE)
    order.refresh_from_db()
    assert order.state == State.DONE and order.closed_at is not None
    trail = [(e.kind, e.to_state) for e in order.trail.all()]
    assert trail == [("step", "issued"), ("step", "signed"), ("feedback", "signed"), ("step", "in_progress"),
                     ("feedback", "in_progress"), ("step", "answered"), ("step", "done")]
    _refused(lambda: order_answer(actor=alice, order=order, text="补充"), "it takes no answer now")
    assert list(changelog_replay()) == []


def test_a_member_of_both_units_cannot_confirm_their_own_units_work(order, personas, units, today):
    carol = personas["carol"]
    Membership.objects.create(user=carol, unit=units["GC"], role=Membership.Role.STREET)
    carol = carol.__class__.objects.get(pk=carol.pk)  # memberships are read once per user object
    order_step(actor=carol, order=order, to=State.SIGNED)
    order_answer(actor=carol, order=order, text="完成", done=True)
    _refused(lambda: order_step(actor=carol, order=order, to=State.DONE), "Your role may not take this step")


def test_sending_back_needs_a_reason_and_a_sent_back_order_is_issued_again_or_withdrawn(
        order, personas, units, today):
    alice, carol = personas["alice"], personas["carol"]
    _refused(lambda: order_step(actor=alice, order=order, to=State.RETURNED), "needs a reason")
    order_step(actor=alice, order=order, to=State.RETURNED, reason="不属本街道职责")
    assert order.state == State.RETURNED
    _refused(lambda: order_reissue(actor=carol, order=order, receiver=units["LG"]), "GC-0001、GC-0003 are not")
    order.targets.clear()
    later = TODAY + datetime.timedelta(days=20)
    order_reissue(actor=carol, order=order, receiver=units["LG"], deadline=later, reason="改由鲁谷办理")
    assert (order.state, order.receiver, order.deadline) == (State.ISSUED, units["LG"], later)
    # The new deadline is the step's own write: its entry goes from the old one to it.
    entry = ChangeLogEntry.objects.filter(object_type="supervision.order").latest("id")
    assert (entry.before["deadline"], entry.after["deadline"]) == ((TODAY + datetime.timedelta(days=10)).isoformat(),
                                                                   later.isoformat())
    order_step(actor=personas["bob"], order=order, to=State.SIGNED)
    order_answer(actor=personas["bob"], order=order, text="完成", done=True)
    _refused(lambda: order_step(actor=carol, order=order, to=State.IN_PROGRESS), "needs a reason")
    order_step(actor=carol, order=order, to=State.IN_PROGRESS, reason="照片不全")
    assert order.state == State.IN_PROGRESS


def test_extensions_are_asked_before_the_deadline_within_the_presets_limit(order, personas, today):
    alice, carol = personas["alice"], personas["carol"]
    later = order.deadline + datetime.timedelta(days=5)
    _refused(lambda: extension_ask(actor=alice, order=order, deadline=later, reason="x"), "no extension can be asked")
    order_step(actor=alice, order=order, to=State.SIGNED)
    _refused(lambda: extension_ask(actor=carol, order=order, deadline=later, reason="x"), "Only the unit the order")
    _refused(lambda: extension_ask(actor=alice, order=order, deadline=later, reason=" "), "Reason: this field")
    _refused(lambda: extension_ask(actor=alice, order=order, deadline=order.deadline, reason="x"),
             "must be after the present deadline")
    first = extension_ask(actor=alice, order=order, deadline=later, reason="租户未搬离")
    _refused(lambda: extension_ask(actor=alice, order=order, deadline=later, reason="x"), "already waiting")
    _refused(lambda: extension_decide(actor=alice, extension=first, grant=True), "Only the unit that issued")
    _refused(lambda: extension_decide(actor=carol, extension=first, grant=False), "needs a reason")
    extension_decide(actor=carol, extension=first, grant=True)
    order.refresh_from_db()
    assert (order.deadline, order.extensions) == (later, 1)
    with pytest.raises(ConflictError, match="decided meanwhile"):
        extension_decide(actor=carol, extension=first, grant=False, note="no")
    second = extension_ask(actor=alice, order=order, deadline=later + datetime.timedelta(days=5), reason="再延")
    extension_decide(actor=carol, extension=second, grant=True)
    _refused(lambda: extension_ask(actor=alice, order=order, deadline=later + datetime.timedelta(days=30),
                                   reason="三延"), "has had 2 extensions, the most the campaign allows")
    assert list(changelog_replay()) == []


def test_an_extension_asked_after_the_deadline_is_refused(order, personas, today):
    order_step(actor=personas["alice"], order=order, to=State.SIGNED)
    today.set(order.deadline + datetime.timedelta(days=1))
    _refused(lambda: extension_ask(actor=personas["alice"], order=order,
                                   deadline=order.deadline + datetime.timedelta(days=9), reason="迟了"),
             r"The deadline \(2016-03-11\) has passed")


def test_a_refused_extension_leaves_the_deadline(order, personas, today):
    order_step(actor=personas["alice"], order=order, to=State.SIGNED)
    asked = extension_ask(actor=personas["alice"], order=order, deadline=order.deadline + datetime.timedelta(days=3),
                          reason="x")
    extension_decide(actor=personas["carol"], extension=asked, grant=False, note="理由不充分")
    order.refresh_from_db()
    assert (order.extensions, order.deadline) == (0, TODAY + datetime.timedelta(days=10))
    assert order.trail.filter(kind=OrderEvent.Kind.EXTENSION_REFUSED, comment="理由不充分").exists()


def test_referral_and_what_discipline_inspection_records(order, personas, units, today):
    carol, jin, alice = personas["carol"], personas["jin"], personas["alice"]
    _refused(lambda: order_refer(actor=carol, order=order, reason=""), "this field is required")
    _refused(lambda: order_refer(actor=alice, order=order, reason="x"), "Your role may not take this step")
    referral = order_refer(actor=carol, order=order, reason="多次督办未落实")
    assert order.state == State.REFERRED and order.referred_at is not None
    _refused(lambda: order_refer(actor=carol, order=order, reason="again"), "already referred")

    def record(actor=jin, outcome="约谈", reason="推进迟缓"):
        return accountability_record(actor=actor, referral=referral, person=alice, unit=units["GC"], outcome=outcome,
                                     reason=reason)

    _refused(lambda: record(actor=carol), "Only discipline inspection")
    _refused(lambda: record(outcome="罚款"), "“罚款” is not one of 约谈、通报批评、诫勉、问责")
    _refused(lambda: record(reason=" "), "Reason: this field is required")
    assert record().outcome == "约谈"
    _refused(lambda: record(outcome=Accountability.NO_FAULT), "already recorded")
    # The referred order can still be reported done and closed.
    order_answer(actor=alice, order=order, text="已整改", done=True)
    order_step(actor=carol, order=order, to=State.DONE)
    assert list(changelog_replay()) == []


@pytest.mark.parametrize(("day", "colour"), [
    (TODAY, "green"), (TODAY + datetime.timedelta(days=7), "yellow"), (TODAY + datetime.timedelta(days=10), "yellow"),
    (TODAY + datetime.timedelta(days=11), "red"),
])
def test_an_orders_colour_follows_the_time_left(order, day, colour):
    assert order.colour(day, yellow_within_days=3) == colour


def test_a_finished_order_is_grey(order, personas):
    order_step(actor=personas["carol"], order=order, to=State.WITHDRAWN)
    assert order.colour(TODAY + datetime.timedelta(days=30), yellow_within_days=3) == "grey"
