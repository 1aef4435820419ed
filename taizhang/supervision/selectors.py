"""Reading orders: every list starts from the orders the user may see (the access rule's
`unit_records_q`: the commander, the office and 纪检监察 all of the campaign's, anyone else
those sent from or to a unit they belong to)."""

import datetime

from django.db import models
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import unit_records_q

from .models import FINISHED, Order, OrderEvent, Referral


def orders_visible(user, campaign) -> QuerySet:
    return Order.objects.filter(unit_records_q(user, campaign, Action.ORDERS_SEE_ALL, ("issuer_id", "receiver_id")))


def colour_q(colour: str, today: datetime.date, yellow_within_days: int) -> Q:
    """Filter over orders of one colour on `today` (Order.colour, as a query)."""
    finished = Q(state__in=FINISHED)
    if colour == Order.Colour.GREY:
        return finished
    yellow_from = today + datetime.timedelta(days=yellow_within_days)
    if colour == Order.Colour.RED:
        return ~finished & Q(deadline__lt=today)
    if colour == Order.Colour.YELLOW:
        return ~finished & Q(deadline__gte=today, deadline__lte=yellow_from)
    return ~finished & Q(deadline__gt=yellow_from)


def colour_counts(orders: QuerySet, today: datetime.date, yellow_within_days: int) -> dict[str, int]:
    """How many of `orders` are of each colour, in one query."""
    return orders.order_by().aggregate(**{
        colour: Count("pk", filter=colour_q(colour, today, yellow_within_days)) for colour in Order.Colour.values})


def referrals_visible(user, campaign) -> QuerySet:
    """Referrals to 纪检监察 of the orders the user may see."""
    return Referral.objects.filter(order__in=orders_visible(user, campaign))


class Timeliness(models.TextChoices):
    """How an order went for its receiving unit: done on time (reported done by its deadline,
    extensions counted), done late, overdue and still open, or under way within its time."""

    ON_TIME = "on_time", _("on time")
    LATE = "late", _("done late")
    OVERDUE = "overdue", _("overdue")
    UNDER_WAY = "under_way", _("under way")


def with_timeliness(orders: QuerySet, today: datetime.date) -> list[Order]:
    """`orders`, each with `.timeliness` (Timeliness) and `.answered_at` (when it was last
    reported done), in one query."""
    answered = (OrderEvent.objects.filter(order=OuterRef("pk"), to_state=Order.State.ANSWERED, kind="step")
                .order_by("-at").values("at")[:1])
    found = list(orders.annotate(answered_at=Subquery(answered)).select_related("issuer", "receiver"))
    for order in found:
        if order.state == Order.State.DONE and order.answered_at is not None:
            late = timezone.localdate(order.answered_at) > order.deadline
            order.timeliness = Timeliness.LATE if late else Timeliness.ON_TIME
        elif order.is_open() and today > order.deadline:
            order.timeliness = Timeliness.OVERDUE
        else:
            order.timeliness = Timeliness.UNDER_WAY
    return found
