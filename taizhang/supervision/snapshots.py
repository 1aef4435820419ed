"""What the change log records of orders and the records hanging off them (core.snapshots).
An order concerns several targets, or none: its entries belong to its campaign's log."""

from django.utils.translation import gettext_lazy as _

from taizhang.campaigns.models import OrgUnit
from taizhang.core.snapshots import Field, declare, naming, related
from taizhang.ledger.models import Target

from .models import Accountability, Attachment, Extension, Order, OrderEvent, Referral, Reminder


def _targets(order: Order) -> list[int]:
    prefetched = getattr(order, "_prefetched_objects_cache", {}).get("targets")
    if prefetched is not None:
        return sorted(t.pk for t in prefetched)
    return sorted(order.targets.values_list("pk", flat=True))


@naming
def _show_targets(pks: list[int], names) -> str:
    return "、".join(names.of(Target, pk) for pk in pks)


ORDER = declare(
    "supervision.order", Order,
    ("number", "issuer", "issued_by", "receiver", "subject", "text", "deadline", "priority", "state", "extensions",
     "targets"),
    target=None, campaign="campaign_id", describe=lambda order: order.number,
    special={"targets": Field(_targets, whole=True, show=_show_targets)},
    headings={"targets": _("targets"), "issued_by": _("signed by")})
# What a history page calls the fields the models leave unnamed.
_ORDER = {"order": _("supervision order")}

ORDER_EVENT = declare(
    "supervision.orderevent", OrderEvent, ("order", "kind", "comment"), target=None, campaign="order__campaign_id",
    describe=lambda event: str(event.order), shows={"order": related(Order, label="number")}, headings=_ORDER)
ATTACHMENT = declare(
    "supervision.attachment", Attachment, ("event", "name", "content_type", "size", "sha256"), target=None,
    campaign="event__order__campaign_id", describe=lambda attachment: str(attachment.event.order),
    headings={"event": _("answer"), "content_type": _("file type"), "sha256": "SHA-256"})
EXTENSION = declare(
    "supervision.extension", Extension, ("order", "reason", "deadline_asked", "status", "note"), target=None,
    campaign="order__campaign_id", describe=lambda extension: str(extension.order),
    shows={"order": related(Order, label="number")}, headings=_ORDER)
REFERRAL = declare(
    "supervision.referral", Referral, ("order", "reason", "closed_at"), target=None, campaign="order__campaign_id",
    describe=lambda referral: str(referral.order), shows={"order": related(Order, label="number")}, headings=_ORDER)
ACCOUNTABILITY = declare(
    "supervision.accountability", Accountability, ("referral", "person", "unit", "outcome", "reason"), target=None,
    campaign="referral__order__campaign_id", describe=lambda record: str(record.referral.order),
    shows={"unit": related(OrgUnit)}, headings={"referral": _("referral")})
REMINDER = declare(
    "supervision.reminder", Reminder, ("order", "key", "kind", "due_on"), target=None, campaign="order__campaign_id",
    describe=lambda reminder: str(reminder.order), shows={"order": related(Order, label="number")},
    headings={**_ORDER, "key": _("which reminder")})


def stored_orders(ids: list[str]) -> dict[str, dict]:
    """{order id: the stored order as its entries snapshot it}: the log replayed against them."""
    orders = Order.objects.filter(pk__in=[int(i) for i in ids]).prefetch_related("targets")
    return {str(order.pk): ORDER.snapshot(order) for order in orders}


def stored_order_ids() -> set[str]:
    return {str(pk) for pk in Order.objects.values_list("pk", flat=True)}
