"""What the ledger's commands, and the commands of the rooms above, share: which campaign, which ledger, as whom."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db.models import Q

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.ledger.selectors import LEDGER_KINDS


def add_campaign_argument(parser):
    parser.add_argument("--campaign", help="campaign slug (default: the only or first one)")
    parser.add_argument("--user", help="act as this user (scoping and history); default: the system")


def get_campaign(slug) -> Campaign:
    campaign = (Campaign.objects.filter(slug=slug) if slug else Campaign.objects.all()).first()
    if campaign is None:
        raise CommandError("no such campaign: %s" % (slug or "(none loaded)"))
    return campaign


def get_user(username):
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError("no such user: %s" % username)
    return user


def get_ledger_unit(campaign, spec: str | None) -> OrgUnit | None:
    """`street:古城`, `system:集体经济系统`, `unit:U00012`: code, name, short name or alias."""
    if not spec:
        return None
    kind, _sep, label = spec.partition(":")
    if kind not in LEDGER_KINDS or not label:
        raise CommandError("--ledger must be street:NAME, system:NAME or unit:CODE, not %r" % spec)
    unit_kind, _field = LEDGER_KINDS[kind]
    label = label.strip()
    names = {label, campaign.resolve_label(label)}
    unit = OrgUnit.objects.filter(
        Q(code=label) | Q(name__in=names) | Q(short_name__in=names), campaign=campaign, kind=unit_kind).first()
    if unit is None:
        raise CommandError("no %s ledger named %r in %s" % (kind, label, campaign.slug))
    return unit
