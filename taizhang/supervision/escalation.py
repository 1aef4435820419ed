"""The orders' sweep: reminders before and after each deadline, and referral to 纪检监察 by the
preset's rule, run on its own by the worker (core.sweeps) and safe to run again at any time.

A reminder is a row keyed by the order, which of the preset's days it is and the deadline it
counts from: a run inserts only the keys missing (the key is unique, so a second run at once
inserts nothing more), and tells people of the newest it inserted for each order (a run after
a missed day catches every reminder up, without sending each stale one). The notification's own
key is the reminder's, so it too goes out once. An order is referred when its overdue
reminders reach `refer_after_reminders`, when it is overdue after `refer_after_extensions`
extensions, or `refer_after_overdue_days` days past its deadline: whichever comes first.
"""

import datetime
from collections import defaultdict

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.campaigns.models import Campaign
from taizhang.campaigns.webhooks import webhook_urls
from taizhang.core.changelog import changelog_append, changelog_batch
from taizhang.core.db import atomic
from taizhang.core.errors import ServiceError
from taizhang.core.notifications import notify

from .models import Order, OrderEvent, Reminder
from .notices import people
from .orders import order_refer
from .snapshots import REMINDER

State = Order.State
# Orders waiting on their receiving unit: reminded, and referred when the rule says.
WAITING = (State.ISSUED, State.SIGNED, State.IN_PROGRESS)
CHUNK = 500


def due(order: Order, rules: dict, today: datetime.date) -> list[tuple[str, str, datetime.date]]:
    """(key, kind, day) of every reminder of `order` due by `today`: each of the preset's days
    before the deadline from that day until the deadline, each day after it from that day on."""
    found = []
    for days in rules["remind_before_days"]:
        day = order.deadline - datetime.timedelta(days=days)
        if day <= today <= order.deadline:
            found.append(("before:%d@%s" % (days, order.deadline.isoformat()), Reminder.Kind.BEFORE, day))
    for days in rules["remind_after_days"]:
        day = order.deadline + datetime.timedelta(days=days)
        if day <= today:
            found.append(("after:%d@%s" % (days, order.deadline.isoformat()), Reminder.Kind.AFTER, day))
    return found


def referral_reason(order: Order, rules: dict, today: datetime.date) -> str | None:
    """Why the rule refers `order` today, or None."""
    overdue = (today - order.deadline).days
    if order.reminders >= rules["refer_after_reminders"]:
        return _("Reminded %(n)d times after its deadline (%(day)s) and still not done.") % {
            "n": order.reminders, "day": order.deadline.isoformat()}
    if overdue > 0 and order.extensions >= rules["refer_after_extensions"]:
        return _("Extended %(n)d times and overdue again since %(day)s.") % {
            "n": order.extensions, "day": order.deadline.isoformat()}
    if overdue >= rules["refer_after_overdue_days"]:
        return _("%(n)d days past its deadline (%(day)s).") % {"n": overdue, "day": order.deadline.isoformat()}
    return None


def orders_sweep(*, now=None) -> dict:
    """Send every reminder due and refer every order the rule refers; returns the counts."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    waiting = Order.objects.filter(state__in=WAITING).order_by("pk")
    pks = list(waiting.filter(deadline__lte=_latest_reminder_horizon(today)).values_list("pk", flat=True))
    sent = 0
    for start in range(0, len(pks), CHUNK):
        sent += _remind(pks[start:start + CHUNK], now, today)
    referred = 0
    for order in waiting.filter(referral__isnull=True, deadline__lt=today).select_related("campaign", "receiver"):
        reason = referral_reason(order, order.campaign.supervision_rules(), today)
        if reason is None:
            continue
        try:
            order_refer(actor=None, order=order, reason=reason)
        except ServiceError:
            # Referred (or moved on) by someone else since it was read: decided under its lock.
            continue
        referred += 1
    return {"reminded": sent, "referred": referred}


def _latest_reminder_horizon(today: datetime.date) -> datetime.date:
    """No order due later than this has a reminder due today: the presets' longest lead."""
    lead = max((max(c.supervision_rules()["remind_before_days"] or [0]) for c in Campaign.objects.all()), default=0)
    return today + datetime.timedelta(days=lead)


@atomic
def _remind(pks: list[int], now, today: datetime.date) -> int:
    """One chunk of orders: their missing reminders inserted, logged, put in their trails and
    sent (the newest per order), and each order's count of overdue reminders brought up to date."""
    orders = list(Order.objects.filter(pk__in=pks, state__in=WAITING).select_for_update(of=("self",))
                  .select_related("campaign", "receiver"))
    known = set(Reminder.objects.filter(order__in=orders).values_list("order_id", "key"))
    rules = {}
    new = []
    for order in orders:
        if order.campaign_id not in rules:
            rules[order.campaign_id] = order.campaign.supervision_rules()
        new += [Reminder(order=order, key=key, kind=kind, due_on=day, sent_at=now)
                for key, kind, day in due(order, rules[order.campaign_id], today) if (order.pk, key) not in known]
    if not new:
        return 0
    # ON CONFLICT DO NOTHING: a run at the same moment that inserted a key first is not an error.
    Reminder.objects.bulk_create(new, ignore_conflicts=True)
    inserted = list(Reminder.objects.filter(order__in=orders, sent_at=now, key__in={r.key for r in new})
                    .select_related("order"))
    newest = {}
    for reminder in sorted(inserted, key=lambda r: r.due_on):
        newest[reminder.order_id] = reminder
    with changelog_batch():
        changelog_append(changes=[REMINDER.created(r) for r in inserted], actor=None, reason=_("order reminded"))
    OrderEvent.objects.bulk_create(OrderEvent(
        order_id=r.order_id, kind=OrderEvent.Kind.REMINDER, from_state=r.order.state, to_state=r.order.state,
        at=now, comment=_reminder_text(r)) for r in newest.values())
    chases = (Reminder.objects.filter(order=OuterRef("pk"), kind=Reminder.Kind.AFTER).order_by()
              .values("order").annotate(n=Count("pk")).values("n"))
    Order.objects.filter(pk__in=list(newest)).update(reminders=Coalesce(Subquery(chases), 0))
    _send(orders, newest)
    return len(newest)


def _reminder_text(reminder: Reminder) -> str:
    order = reminder.order
    if reminder.kind == Reminder.Kind.BEFORE:
        return _("Order %(number)s is due on %(day)s.") % {"number": order.number, "day": order.deadline.isoformat()}
    return _("Order %(number)s was due on %(day)s and is not done: please deal with it now (催办).") % {
        "number": order.number, "day": order.deadline.isoformat()}


def _send(orders: list[Order], newest: dict[int, Reminder]) -> None:
    by_unit = defaultdict(list)
    for order in orders:
        if order.pk in newest:
            by_unit[order.receiver_id].append(order)
    receivers = {unit_id: people([unit_id], Action.ORDER_RECEIVE) for unit_id in by_unit}
    for unit_id, unit_orders in by_unit.items():
        for order in unit_orders:
            reminder = newest[order.pk]
            notify(recipients=receivers[unit_id], kind="order.remind", title=_reminder_text(reminder),
                   url=order.get_absolute_url(), key="order:%d:remind:%s" % (order.pk, reminder.key),
                   webhooks=webhook_urls([order.receiver]))
