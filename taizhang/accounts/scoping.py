"""The one scoping rule: what a user may see and change.

Every page, export, count and API asks `visible_q` / `editable_q` for a filter over
the target's fields; the field names are parameters so that records hanging off a
target (``target__street``) use the same rule.

`user=None` is the system itself (management commands run without --user): it sees
and may change everything. Views always pass `request.user`, never None.
"""

from django.db.models import Q

from taizhang.campaigns.models import Campaign, OrgUnit

from .models import Membership

Role = Membership.Role

# Roles that see the whole campaign.
CAMPAIGN_WIDE = {Role.LEADER, Role.OFFICE, Role.GROUP, Role.DISCIPLINE}
# Roles that may change the ledger, within what they see.
EDITORS = {Role.OFFICE, Role.STREET}

NOTHING = Q(pk__in=[])


def _memberships(user):
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_taizhang_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).select_related("unit"))
        user._taizhang_memberships = cached
    return cached


def memberships(user) -> list[Membership]:
    """The user's memberships with their units, loaded once per user object (a request)."""
    return _memberships(user)


def is_hq_office(user) -> bool:
    """Whether `user` keeps the campaign's books: the HQ office, or a superuser. They unlock
    accounts and print the change log's digest."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or any(m.role == Role.OFFICE for m in memberships(user))


def _membership_q(m: Membership, prefix: str) -> Q:
    unit = m.unit
    if m.role in CAMPAIGN_WIDE:
        return Q(**{prefix + "campaign_id": unit.campaign_id})
    if m.role in (Role.STREET, Role.LIAISON) and unit.kind == OrgUnit.Kind.STREET:
        return Q(**{prefix + "street_id": unit.pk})
    if m.role == Role.UNIT and unit.kind == OrgUnit.Kind.SYSTEM:
        return Q(**{prefix + "system_id": unit.pk})
    if m.role == Role.UNIT and unit.kind == OrgUnit.Kind.RIGHTS_UNIT:
        return Q(**{prefix + "responsible_unit_id": unit.pk})
    return NOTHING


def _is_system_or_superuser(user) -> bool:
    return user is None or (user.is_active and user.is_superuser)


def _scope(user, prefix: str, roles=None) -> Q:
    if _is_system_or_superuser(user):
        return Q()
    q = NOTHING
    for m in _memberships(user):
        if roles is None or m.role in roles:
            q |= _membership_q(m, prefix)
    return q


def visible_q(user, prefix: str = "") -> Q:
    """Filter over targets (or over records via `prefix`, e.g. "target__") a user may see."""
    return _scope(user, prefix)


def editable_q(user, prefix: str = "") -> Q:
    """Filter over targets a user may change."""
    return _scope(user, prefix, roles=EDITORS)


def can_edit(user) -> bool:
    return _is_system_or_superuser(user) or any(m.role in EDITORS for m in _memberships(user))


def campaign_ids(user) -> set[int]:
    """Campaigns the user takes part in (all for a superuser: None means no limit)."""
    return {m.unit.campaign_id for m in _memberships(user)}


def units_visible_q(user) -> Q:
    """Filter over org units whose ledger the user may open."""
    if user.is_active and user.is_superuser:
        return Q()
    q = NOTHING
    for m in _memberships(user):
        unit = m.unit
        if m.role in CAMPAIGN_WIDE:
            q |= Q(campaign_id=unit.campaign_id)
        elif unit.kind == OrgUnit.Kind.SYSTEM:
            q |= Q(pk=unit.pk) | Q(parent_id=unit.pk)
        else:
            q |= Q(pk=unit.pk)
    return q


def editable_street_ids(user, campaign) -> set[int] | None:
    """Streets where the user may add or move targets; None means every street."""
    if _is_system_or_superuser(user):
        return None
    streets = set()
    for m in _memberships(user):
        if m.unit.campaign_id != campaign.pk:
            continue
        if m.role == Role.OFFICE:
            return None
        if m.role == Role.STREET and m.unit.kind == OrgUnit.Kind.STREET:
            streets.add(m.unit_id)
    return streets


def campaigns_for(user):
    """Campaigns the user takes part in; a superuser takes part in all."""
    if user.is_active and user.is_superuser:
        return Campaign.objects.all()
    return Campaign.objects.filter(pk__in=campaign_ids(user))


def sees_whole_campaign(user, campaign) -> bool:
    if user.is_active and user.is_superuser:
        return True
    return any(m.role in CAMPAIGN_WIDE and m.unit.campaign_id == campaign.pk for m in _memberships(user))


def acting_q(user, roles, prefix: str = "") -> Q:
    """Filter over targets on which the user holds one of `roles` (for workflow steps)."""
    return _scope(user, prefix, roles=set(roles))
