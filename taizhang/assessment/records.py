"""Performance records (实绩档案): per person and per unit, the campaign's commendations, what
纪检监察 held them to, and the orders they had on time or late, each linked to what is behind it.

Who may open whose record is the access rule's: anyone their own; a unit's head (负责人) the
unit's and its members'; the commander, the HQ office and 纪检监察 everyone's.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.models import Membership
from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import is_system_or_superuser, may_in_campaign, memberships
from taizhang.campaigns.models import OrgUnit
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.core.errors import ServiceError
from taizhang.core.snapshots import created
from taizhang.supervision.models import Accountability, Order
from taizhang.supervision.selectors import Timeliness, with_timeliness

from .models import Commendation

# Orders that were never the unit's to do: sent back as not theirs, or withdrawn.
NOT_THEIRS = (Order.State.RETURNED, Order.State.WITHDRAWN)


@dataclass
class Record:
    """One person's or one unit's record in a campaign."""

    commendations: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)
    orders: list = field(default_factory=list)

    def count(self, timeliness: str) -> int:
        return sum(1 for order in self.orders if order.timeliness == timeliness)

    @property
    def on_time(self) -> int:
        return self.count(Timeliness.ON_TIME)

    @property
    def late(self) -> int:
        return self.count(Timeliness.LATE) + self.count(Timeliness.OVERDUE)


def sees_every_record(user, campaign) -> bool:
    return is_system_or_superuser(user) or may_in_campaign(user, campaign, Action.RECORDS_SEE_ALL)


def headed_units(user, campaign) -> set[int]:
    return {m.unit_id for m in memberships(user) if m.is_head and m.unit.campaign_id == campaign.pk}


def units_visible(user, campaign):
    units = OrgUnit.objects.filter(campaign=campaign).order_by("kind", "sort", "name")
    return units if sees_every_record(user, campaign) else units.filter(pk__in=headed_units(user, campaign))


def people_visible(user, campaign):
    """The people whose record `user` may open in `campaign` (themselves included)."""
    people = get_user_model().objects.filter(memberships__unit__campaign=campaign).distinct().order_by("username")
    if sees_every_record(user, campaign):
        return people
    members = Membership.objects.filter(unit_id__in=headed_units(user, campaign)).values("user_id")
    return people.filter(pk__in=members) | people.filter(pk=user.pk)


def unit_record(unit: OrgUnit, today: datetime.date) -> Record:
    return Record(
        commendations=list(Commendation.objects.filter(unit=unit).select_related("person", "order")),
        outcomes=list(Accountability.objects.filter(unit=unit).select_related("person", "referral__order")),
        orders=with_timeliness(unit.orders_received.exclude(state__in=NOT_THEIRS).order_by("-issued_at"), today))


def person_record(person, campaign, today: datetime.date) -> Record:
    """A person's record: their commendations and outcomes, and the orders their units received
    that they acted on (signed, answered, asked to extend)."""
    acted = (Order.objects.filter(campaign=campaign, trail__actor=person,
                                  receiver__memberships__user=person).exclude(state__in=NOT_THEIRS).distinct())
    return Record(
        commendations=list(Commendation.objects.filter(campaign=campaign, person=person).select_related("unit",
                                                                                                        "order")),
        outcomes=list(Accountability.objects.filter(referral__order__campaign=campaign, person=person)
                      .select_related("unit", "referral__order")),
        orders=with_timeliness(acted.order_by("-issued_at"), today))


class RecordError(ServiceError):
    """A commendation that cannot be recorded."""


@atomic
def commendation_record(*, actor, campaign, person, unit: OrgUnit, text: str, order: Order | None = None):
    """The HQ office records a commendation for a person of a unit."""
    if not (is_system_or_superuser(actor) or may_in_campaign(actor, campaign, Action.COMMENDATION_RECORD)):
        raise RecordError(_("Only the HQ office records commendations."))
    text = (text or "").strip()
    if not text:
        raise RecordError(_("For what: this field is required."))
    if unit.campaign_id != campaign.pk:
        raise RecordError(_("Unit: “%(unit)s” is not of this campaign.") % {"unit": unit})
    if order is not None and order.campaign_id != campaign.pk:
        raise RecordError(_("Supervision order: %(number)s is not of this campaign.") % {"number": order.number})
    commendation = Commendation.objects.create(
        campaign=campaign, person=person, unit=unit, text=text, order=order,
        recorded_by=actor if actor is not None and actor.is_authenticated else None, recorded_at=timezone.now())
    changelog_append(changes=[created(commendation)], actor=actor, reason=_("commendation recorded"))
    return commendation
