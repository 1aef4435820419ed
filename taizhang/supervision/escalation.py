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

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.campaigns.models import Campaign
from taizhang.campaigns.webhooks import webhook_urls
from taizhang.core.bulk import insert_rows
from taizhang.core.changelog import changelog_append, changelog_batch
from taizhang.core.db import atomic
from taizhang.core.errors import ServiceError
from taizhang.core.notifications import Notice, notify_many

from .models import Order, OrderEvent, Reminder
from .notices import people_by_unit
from .orders import order_refer, orders_refer
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
    due_now = []
    rules = campaign_rules()
    for order in waiting.filter(referral__isnull=True, deadline__lt=today).select_related("issuer", "receiver"):
        reason = referral_reason(order, rules[order.campaign_id], today)
        if reason is not None:
            due_now.append((order, reason))
    referred = 0
    for start in range(0, len(due_now), CHUNK):
        referred += _refer(due_now[start:start + CHUNK])
    return {"reminded": sent, "referred": referred}


def _refer(due_now: list[tuple[Order, str]]) -> int:
    """Refer a chunk of orders together; should another run have referred one meanwhile (the
    chunk is refused whole, naming it), each is then referred alone, skipping those taken."""
    orders, reasons = [o for o, _r in due_now], [r for _o, r in due_now]
    try:
        orders_refer(actor=None, orders=orders, reasons=reasons)
        return len(orders)
    except ServiceError:
        pass
    referred = 0
    for order, reason in due_now:
        try:
            order_refer(actor=None, order=order, reason=reason)
        except ServiceError:  # referred, or moved on, by someone else since it was read
            continue
        referred += 1
    return referred


def campaign_rules() -> dict[int, dict]:
    """Each campaign's supervision rules, read once (not once per order: they are JSON)."""
    return {campaign.pk: campaign.supervision_rules() for campaign in Campaign.objects.only("pk", "rules")}


def _latest_reminder_horizon(today: datetime.date) -> datetime.date:
    """No order due later than this has a reminder due today: the presets' longest lead."""
    lead = max((max(rules["remind_before_days"] or [0]) for rules in campaign_rules().values()), default=0)
    return today + datetime.timedelta(days=lead)


@atomic
def _remind(pks: list[int], now, today: datetime.date) -> int:
    """One chunk of orders: their missing reminders inserted, logged, put in their trails and
    sent (the newest per order), and each order's count of overdue reminders brought up to date."""
    orders = list(Order.objects.filter(pk__in=pks, state__in=WAITING).select_for_update(of=("self",))
                  .select_related("receiver"))
    known = set(Reminder.objects.filter(order__in=orders).values_list("order_id", "key"))
    rules = campaign_rules()
    new = []
    for order in orders:
        new += [Reminder(order=order, key=key, kind=kind, due_on=day, sent_at=now)
                for key, kind, day in due(order, rules[order.campaign_id], today) if (order.pk, key) not in known]
    if not new:
        return 0
    # The orders' locks make a second run wait, then see these rows: no key is inserted twice.
    # ON CONFLICT DO NOTHING all the same, and only what is found inserted is told of after.
    # Written by core.bulk: thousands of rows a run through the ORM's compiler took seconds.
    insert_rows(Reminder, [{"order": r.order_id, "key": r.key, "kind": r.kind, "due_on": r.due_on} for r in new],
                ["order", "key", "kind", "due_on"], constants={"sent_at": now}, ignore_conflicts=True)
    by_order = {order.pk: order for order in orders}
    inserted = list(Reminder.objects.filter(order__in=orders, sent_at=now, key__in={r.key for r in new}))
    newest = {}
    for reminder in sorted(inserted, key=lambda r: r.due_on):
        reminder.order = by_order[reminder.order_id]
        newest[reminder.order_id] = reminder
    with changelog_batch():
        changelog_append(changes=[REMINDER.created(r) for r in inserted], actor=None, reason=_("order reminded"))
    insert_rows(OrderEvent, [{"order": r.order_id, "from_state": r.order.state, "to_state": r.order.state,
                              "comment": _reminder_text(r)} for r in newest.values()],
                ["order", "from_state", "to_state", "comment"],
                constants={"kind": OrderEvent.Kind.REMINDER, "actor": None, "at": now})
    chases = (Reminder.objects.filter(order=OuterRef("pk"), kind=Reminder.Kind.AFTER).order_by()
              .values("order").annotate(n=Count("pk")).values("n"))
    Order.objects.filter(pk__in=list(newest)).update(reminders=Coalesce(Subquery(chases), 0))
    _send(orders, newest, now)
    return len(newest)


def _reminder_text(reminder: Reminder) -> str:
    order = reminder.order
    if reminder.kind == Reminder.Kind.BEFORE:
        return _("Order %(number)s is due on %(day)s.") % {"number": order.number, "day": order.deadline.isoformat()}
    return _("Order %(number)s was due on %(day)s and is not done: please deal with it now (催办).") % {
        "number": order.number, "day": order.deadline.isoformat()}


def _send(orders: list[Order], newest: dict[int, Reminder], now) -> None:
    """The newest reminder of each order told to its receiving unit, in one go."""
    receivers = people_by_unit({order.receiver_id for order in orders if order.pk in newest}, Action.ORDER_RECEIVE)
    link = reverse("supervision:order", args=[0])  # reversed once: thousands of orders go at once
    notify_many([Notice(recipients=tuple(receivers.get(order.receiver_id, ())), kind="order.remind",
                        title=_reminder_text(newest[order.pk]), url=link.replace("/0/", "/%d/" % order.pk),
                        key="order:%d:remind:%s" % (order.pk, newest[order.pk].key),
                        webhooks=tuple(webhook_urls([order.receiver])))
                 for order in orders if order.pk in newest], now=now)
