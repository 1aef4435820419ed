"""Who is told what about an order, through core's notifications (in-app, e-mail by choice,
and each unit's group robot): the receiving unit of a new order and of a decided extension,
the issuing unit of an answer and of an asked extension, 纪检监察 and both units of a referral."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.models import Membership
from taizhang.accounts.permissions import ALLOWED, Action
from taizhang.campaigns.webhooks import webhook_urls
from taizhang.core.notifications import kind_register, notify

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
    members = (Membership.objects.filter(unit_id__in=list(unit_ids), role__in=ALLOWED[action].roles,
                                         user__is_active=True).select_related("user"))
    return list({m.user_id: m.user for m in members}.values())


def discipline(campaign) -> list:
    members = Membership.objects.filter(unit__campaign=campaign, role__in=ALLOWED[Action.REFERRAL_RECORD].roles,
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


def referred(order: Order, referral) -> None:
    title = _("Order %(number)s (%(unit)s) is referred to discipline inspection") % {
        "number": order.number, "unit": order.receiver.name}
    key = "referral:%d" % referral.pk
    recipients = discipline(order.campaign) + people([order.issuer_id, order.receiver_id], Action.ORDER_RECEIVE)
    notify(recipients=recipients, kind="order.referred", title=title, body=referral.reason,
           url=order.get_absolute_url(), key=key, webhooks=webhook_urls([order.receiver]))
