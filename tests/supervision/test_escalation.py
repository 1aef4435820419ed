"""The orders' sweep: reminders before and after the deadline, each once however often the
sweep runs, caught up after a missed day, and referral to 纪检监察 by each of the preset's rules."""

import datetime

import pytest
from django.utils import timezone

from taizhang.core.changelog import changelog_replay
from taizhang.core.models import ChangeLogEntry, Delivery, Notification
from taizhang.core.sweeps import sweep_run
from taizhang.supervision.escalation import orders_sweep
from taizhang.supervision.models import Order, OrderEvent, Referral, Reminder
from taizhang.supervision.orders import extension_ask, extension_decide, order_answer, order_step
from tests.racing import race
from tests.supervision.conftest import TODAY

pytestmark = pytest.mark.usefixtures("english")
State = Order.State
DEADLINE = TODAY + datetime.timedelta(days=10)


def _sweep(today, day):
    today.set(day)
    return orders_sweep(now=timezone.now())


def _reminders(user, order):
    return list(Notification.objects.filter(recipient=user, kind="order.remind", url=order.get_absolute_url())
                .order_by("id").values_list("title", flat=True))


def test_the_receiving_unit_is_reminded_before_the_deadline_once_each_day_the_preset_says(order, personas, today):
    alice = personas["alice"]
    assert _sweep(today, DEADLINE - datetime.timedelta(days=4)) == {"reminded": 0, "referred": 0}
    assert _sweep(today, DEADLINE - datetime.timedelta(days=3)) == {"reminded": 1, "referred": 0}
    assert _sweep(today, DEADLINE - datetime.timedelta(days=3)) == {"reminded": 0, "referred": 0}
    assert _reminders(alice, order) == ["Order 石治乱督〔2016〕1号 is due on 2016-03-11."]
    _sweep(today, DEADLINE - datetime.timedelta(days=1))
    assert len(_reminders(alice, order)) == 2
    assert _reminders(personas["bob"], order) == [] and _reminders(personas["carol"], order) == []
    order.refresh_from_db()
    assert order.reminders == 0  # reminders before the deadline are not chases (催办)
    assert [e.kind for e in order.trail.all()].count(OrderEvent.Kind.REMINDER) == 2
    assert list(changelog_replay()) == []


def test_a_missed_day_is_caught_up_with_one_message(order, personas, today):
    result = _sweep(today, DEADLINE + datetime.timedelta(days=3))
    assert result == {"reminded": 1, "referred": 0}
    assert sorted(order.reminder_log.values_list("key", flat=True)) == ["after:1@2016-03-11", "after:3@2016-03-11"]
    assert _reminders(personas["alice"], order) == [
        "Order 石治乱督〔2016〕1号 was due on 2016-03-11 and is not done: please deal with it now (催办)."]
    order.refresh_from_db()
    assert order.reminders == 2
    assert ChangeLogEntry.objects.filter(object_type="supervision.reminder").count() == 2


def test_three_chases_refer_the_order_to_discipline_inspection(order, personas, today):
    for days in (1, 3):
        _sweep(today, DEADLINE + datetime.timedelta(days=days))
    assert _sweep(today, DEADLINE + datetime.timedelta(days=7)) == {"reminded": 1, "referred": 1}
    order.refresh_from_db()
    assert order.state == State.REFERRED and order.referral.referred_by is None
    assert order.referral.reason == "Reminded 3 times after its deadline (2016-03-11) and still not done."
    told = Notification.objects.filter(kind="order.referred").values_list("recipient__username", flat=True)
    assert {"jin", "alice", "carol"} <= set(told) and "bob" not in told
    # Referred, the order is no longer chased, nor referred again.
    assert _sweep(today, DEADLINE + datetime.timedelta(days=20)) == {"reminded": 0, "referred": 0}


def test_days_overdue_refer_an_order_the_chases_did_not(order, personas, today, campaign):
    campaign.rules["supervision"] = {"remind_after_days": [30], "refer_after_overdue_days": 10}
    campaign.save(update_fields=["rules"])
    assert _sweep(today, DEADLINE + datetime.timedelta(days=9))["referred"] == 0
    assert _sweep(today, DEADLINE + datetime.timedelta(days=10))["referred"] == 1
    order.refresh_from_db()
    assert order.referral.reason == "10 days past its deadline (2016-03-11)."


def test_an_order_overdue_after_its_extensions_is_referred(order, personas, today):
    alice, carol = personas["alice"], personas["carol"]
    order_step(actor=alice, order=order, to=State.SIGNED)
    for extra in (5, 10):
        asked = extension_ask(actor=alice, order=order, deadline=DEADLINE + datetime.timedelta(days=extra), reason="x")
        extension_decide(actor=carol, extension=asked, grant=True)
    order.refresh_from_db()
    assert _sweep(today, order.deadline)["referred"] == 0
    assert _sweep(today, order.deadline + datetime.timedelta(days=1)) == {"reminded": 1, "referred": 1}
    order.refresh_from_db()
    assert order.referral.reason == "Extended 2 times and overdue again since 2016-03-21."


def test_an_extension_moves_the_reminders_with_the_deadline(order, personas, today):
    alice = personas["alice"]
    order_step(actor=alice, order=order, to=State.SIGNED)
    _sweep(today, DEADLINE - datetime.timedelta(days=3))
    asked = extension_ask(actor=alice, order=order, deadline=DEADLINE + datetime.timedelta(days=10), reason="x")
    extension_decide(actor=personas["carol"], extension=asked, grant=True)
    assert _sweep(today, DEADLINE + datetime.timedelta(days=7)) == {"reminded": 1, "referred": 0}
    assert sorted(order.reminder_log.values_list("key", flat=True)) == ["before:3@2016-03-11", "before:3@2016-03-21"]


def test_orders_waiting_on_the_issuer_or_finished_are_not_chased(order, personas, today):
    alice = personas["alice"]
    order_step(actor=alice, order=order, to=State.SIGNED)
    order_answer(actor=alice, order=order, text="完成", done=True)
    assert _sweep(today, DEADLINE + datetime.timedelta(days=30)) == {"reminded": 0, "referred": 0}


def test_a_units_group_robot_gets_the_reminder(order, personas, today, units):
    units["GC"].webhook_url = "https://oapi.dingtalk.com/robot/send?access_token=abc"
    units["GC"].save(update_fields=["webhook_url"])
    order.receiver.refresh_from_db()
    _sweep(today, DEADLINE - datetime.timedelta(days=3))
    assert Delivery.objects.filter(destination=units["GC"].webhook_url, key__startswith="order:").count() == 1


def test_the_worker_runs_it_as_the_orders_sweep(order, personas, today):
    today.set(DEADLINE - datetime.timedelta(days=3))
    run = sweep_run("orders", now=timezone.now())
    assert (run.state, run.summary) == (run.State.OK, {"reminded": 1, "referred": 0})


def _sweep_in_child(day: str, what: str = "reminded") -> int:
    moment = timezone.make_aware(datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(9)))
    return orders_sweep(now=moment)[what]


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_remind_each_order_once(personas, units, targets):
    from tests.supervision.conftest import issue

    day = datetime.date.today() + datetime.timedelta(days=2)
    made = [issue(personas["carol"], units, deadline=day + datetime.timedelta(days=3)) for _n in range(20)]
    answers = race("tests.supervision.test_escalation:_sweep_in_child", [(day.isoformat(),), (day.isoformat(),)])
    assert sum(answers) == 20, answers
    assert Reminder.objects.count() == 20
    assert Notification.objects.filter(kind="order.remind").count() == 20  # alice, once per order
    assert all(o.trail.filter(kind=OrderEvent.Kind.REMINDER).count() == 1 for o in made)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_refer_each_order_once(personas, units, targets, campaign):
    from tests.supervision.conftest import issue

    campaign.rules["supervision"] = {"remind_after_days": [30], "refer_after_overdue_days": 1}
    campaign.save(update_fields=["rules"])
    due = datetime.date.today() + datetime.timedelta(days=1)
    made = [issue(personas["carol"], units, deadline=due) for _n in range(10)]
    day = (due + datetime.timedelta(days=1)).isoformat()
    answers = race("tests.supervision.test_escalation:_sweep_in_child", [(day, "referred"), (day, "referred")])
    assert sum(answers) == 10, answers
    assert Referral.objects.count() == 10
    assert all(Order.objects.get(pk=o.pk).state == State.REFERRED for o in made)
    assert Notification.objects.filter(kind="order.referred", recipient=personas["jin"]).count() == 10
    assert list(changelog_replay()) == []


def _confirm_in_child(order_pk: int, username: str) -> str:
    from django.contrib.auth import get_user_model

    from taizhang.core.errors import ServiceError
    from taizhang.supervision.orders import order_step

    order = Order.objects.get(pk=order_pk)
    try:
        order_step(actor=get_user_model().objects.get(username=username), order=order, to=State.DONE)
    except ServiceError as exc:
        return "refused: %s" % type(exc).__name__
    return "done"


@pytest.mark.django_db(transaction=True)
def test_two_issuers_confirming_at_once_close_it_once(personas, units, targets):
    from taizhang.accounts.models import Membership
    from taizhang.supervision.orders import order_answer
    from tests.conftest import _persona
    from tests.supervision.conftest import issue

    _persona("carl", units, "OFFICE", Membership.Role.OFFICE)
    order = issue(personas["carol"], units, deadline=datetime.date.today() + datetime.timedelta(days=5))
    order_step(actor=personas["alice"], order=order, to=State.SIGNED)
    order_answer(actor=personas["alice"], order=order, text="完成", done=True)
    answers = race("tests.supervision.test_escalation:_confirm_in_child", [(order.pk, "carol"), (order.pk, "carl")])
    assert answers == ["done", "refused: TransitionConflict"]
    assert order.trail.filter(to_state=State.DONE).count() == 1
    assert ChangeLogEntry.objects.filter(object_type="supervision.order", after__state="done").count() == 1
    assert list(changelog_replay()) == []
