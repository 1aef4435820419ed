"""Reading orders: every list starts from the orders the user may see (the access rule's
`unit_records_q`: the commander, the office and 纪检监察 all of the campaign's, anyone else
those sent from or to a unit they belong to)."""

import datetime

from django.db.models import Count, Q, QuerySet

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import unit_records_q

from .models import FINISHED, Order, Referral


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
