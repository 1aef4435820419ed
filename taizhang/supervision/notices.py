"""Who is told what about an order, through core's notifications (in-app, e-mail by choice,
and each unit's group robot): the receiving unit of a new order and of a decided extension,
the issuing unit of an answer and of an asked extension, 纪检监察 and both units of a referral."""

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.models import Membership
from taizhang.accounts.permissions import ALLOWED, Action
from taizhang.campaigns.models import OrgUnit
from taizhang.campaigns.webhooks import webhook_urls
from taizhang.core.notifications import Notice, kind_register, notify, notify_many

from .models import Order

KINDS = {
    "order.issued": gettext_lazy("A supervision order to my unit"),
    "order.remind": gettext_lazy("Reminders of a supervision order's deadline"),
    "order.answered": gettext_lazy("Answers to an order my unit issued"),
    "order.extension": gettext_lazy("Extensions asked and decided"),
    "order.referred": gettext_lazy("Orders referred to discipline inspection"),
}


def register() -> None:
    for code, label in KINDS.items():
        kind_register(code, label, email_default=code in ("order.issued", "order.remind", "order.referred"))


def people(unit_ids, action: Action) -> list:
    """The active members of these units in a role `action` allows."""
    return list({user.pk: user for users in people_by_unit(unit_ids, action).values() for user in users}.values())


def people_by_unit(unit_ids, action: Action) -> dict[int, list]:
    """{unit id: its active members in a role `action` allows}, in one query."""
    found = defaultdict(dict)
    for m in Membership.objects.filter(unit_id__in=list(unit_ids), role__in=ALLOWED[action].roles,
                                       user__is_active=True).select_related("user"):
        found[m.unit_id][m.user_id] = m.user
    return {unit_id: list(users.values()) for unit_id, users in found.items()}


def discipline(campaign_id: int) -> list:
    members = Membership.objects.filter(unit__campaign_id=campaign_id, role__in=ALLOWED[Action.REFERRAL_RECORD].roles,
                                        user__is_active=True).select_related("user")
    return list({m.user_id: m.user for m in members}.values())


def tell_receiver(order: Order, kind: str, title: str, key: str, body: str = "") -> int:
    return notify(recipients=people([order.receiver_id], Action.ORDER_RECEIVE), kind=kind, title=title, body=body,
                  url=order.get_absolute_url(), key=key, webhooks=webhook_urls([order.receiver]))


def tell_issuer(order: Order, kind: str, title: str, key: str, body: str = "") -> int:
    return notify(recipients=people([order.issuer_id], Action.ORDER_ISSUE), kind=kind, title=title, body=body,
                  url=order.get_absolute_url(), key=key, webhooks=webhook_urls([order.issuer]))


def issued(order: Order, event_id: int) -> None:
    tell_receiver(order, "order.issued", _("Supervision order %(number)s: %(subject)s, due %(day)s") % {
        "number": order.number, "subject": order.subject, "day": order.deadline.isoformat()},
        key="order:%d:issued:%d" % (order.pk, event_id), body=order.text)


def answered(order: Order, event_id: int, done: bool) -> None:
    title = (_("%(unit)s reports order %(number)s done: please confirm") if done
             else _("%(unit)s answered order %(number)s")) % {"unit": order.receiver.name, "number": order.number}
    tell_issuer(order, "order.answered", title, key="order:%d:answer:%d" % (order.pk, event_id))


def extension_asked(order: Order, extension) -> None:
    tell_issuer(order, "order.extension", _("%(unit)s asks to extend order %(number)s to %(day)s") % {
        "unit": order.receiver.name, "number": order.number, "day": extension.deadline_asked.isoformat()},
        key="extension:%d:asked" % extension.pk, body=extension.reason)


def extension_decided(order: Order, extension) -> None:
    title = (_("Order %(number)s: extension to %(day)s granted") if extension.status == "granted"
             else _("Order %(number)s: extension to %(day)s refused")) % {
        "number": order.number, "day": extension.deadline_asked.isoformat()}
    tell_receiver(order, "order.extension", title, key="extension:%d:decided" % extension.pk, body=extension.note)


def referred(orders: list[Order], referrals: list, *, now=None) -> None:
    """纪检监察, and both units of each order, told of its referral."""
    inspectors = {pk: discipline(pk) for pk in {order.campaign_id for order in orders}}
    units = people_by_unit({u for o in orders for u in (o.issuer_id, o.receiver_id)}, Action.ORDER_RECEIVE)
    # Read once for all of them (the sweep refers hundreds at once).
    receivers = OrgUnit.objects.in_bulk({order.receiver_id for order in orders})
    notify_many([Notice(
        recipients=tuple(inspectors[order.campaign_id] + units.get(order.issuer_id, []) + units.get(order.receiver_id,
                                                                                                    [])),
        kind="order.referred", key="referral:%d" % referral.pk, body=referral.reason, url=order.get_absolute_url(),
        title=_("Order %(number)s (%(unit)s) is referred to discipline inspection") % {
            "number": order.number, "unit": receivers[order.receiver_id].name},
        webhooks=tuple(webhook_urls([receivers[order.receiver_id]])))
        for order, referral in zip(orders, referrals, strict=True)], now=now)
