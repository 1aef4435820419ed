"""The one access rule: which targets a user may see or change, and what a user may do on one.

One rule says where a membership reaches (`_reach`): a campaign-wide role reaches the
campaign's targets, a street role its street's, a rights-unit role its system's or its
unit's. Two questions are asked of it:

- over many targets, a filter: `visible_q` / `editable_q`, and `may_q(user, action)` for
  any action (field names as parameters, so that records hanging off a target,
  ``target__street``, use the same rule);
- on one target, in memory: `held_on` (the roles and duties the user holds there) and
  `may(user, target, action)`, against the table of role sets in `permissions.py`. The
  memberships are read once per user object (a request), so a page that asks about ten
  steps runs no query for them.

`user=None` is the system itself (management commands run without --user, automatic
steps): it sees and may do everything. Views always pass `request.user`, never None.
"""

from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from taizhang.campaigns.models import Campaign, GroupDuty, OrgUnit

from .models import Membership
from .permissions import ALLOWED, Action

Role = Membership.Role

# Roles that see the whole campaign.
CAMPAIGN_WIDE = {Role.LEADER, Role.OFFICE, Role.GROUP, Role.DISCIPLINE}

NOTHING = Q(pk__in=[])


def _memberships(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_taizhang_memberships", None)
    if cached is None:
        # The campaign too: a working group's duties are the campaign's rules.
        cached = list(Membership.objects.filter(user=user).select_related("unit__campaign"))
        user._taizhang_memberships = cached
    return cached


def memberships(user) -> list[Membership]:
    """The user's memberships with their units, loaded once per user object (a request)."""
    return _memberships(user)


def is_hq_office(user) -> bool:
    """Whether `user` keeps the campaign's books (Action.KEEP_BOOKS in some campaign), or is a
    superuser. They unlock accounts and print the change log's digest."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or any(m.role in ALLOWED[Action.KEEP_BOOKS].roles for m in memberships(user))


def _reach(m: Membership) -> tuple[str, int] | None:
    """The target field a membership's role reaches through, and the value it must hold."""
    unit = m.unit
    if m.role in CAMPAIGN_WIDE:
        return "campaign_id", unit.campaign_id
    if m.role in (Role.STREET, Role.LIAISON) and unit.kind == OrgUnit.Kind.STREET:
        return "street_id", unit.pk
    if m.role == Role.UNIT and unit.kind == OrgUnit.Kind.SYSTEM:
        return "system_id", unit.pk
    if m.role == Role.UNIT and unit.kind == OrgUnit.Kind.RIGHTS_UNIT:
        return "responsible_unit_id", unit.pk
    return None


def membership_reaches(m: Membership) -> bool:
    """Whether a membership's role reaches any target from its unit: street staff and liaison
    leaders through a street, rights-unit staff through a system or a rights unit."""
    return _reach(m) is not None


def _membership_q(m: Membership, prefix: str) -> Q:
    reach = _reach(m)
    return Q(**{prefix + reach[0]: reach[1]}) if reach else NOTHING


def is_system_or_superuser(user) -> bool:
    return user is None or (user.is_active and user.is_superuser)


class Held(NamedTuple):
    """The roles and the working-group duties a user holds on one target."""

    roles: frozenset
    duties: frozenset


def held_on(user, target) -> Held:
    """What the user holds on `target`, from the memberships already loaded (no query).

    The same reach as `visible_q`, read off the target object as the caller holds it (a
    service passes the row it locked). A working-group member holds its group's duties
    (campaigns.GroupDuty) campaign-wide, as the preset charges the group by its code.
    """
    roles, duties = set(), set()
    for m in _memberships(user):
        reach = _reach(m)
        if reach is None or getattr(target, reach[0]) != reach[1]:
            continue
        roles.add(m.role)
        duties.update(_duties(m))
    return Held(frozenset(roles), frozenset(duties))


def _duties(m: Membership) -> set[str]:
    """The duties the preset charges a working-group membership's group with (campaigns.GroupDuty)."""
    if m.role == Role.GROUP and m.unit.kind == OrgUnit.Kind.GROUP:
        return {d for d in GroupDuty.values if m.unit.code in m.unit.campaign.duty_groups(d)}
    return set()


def may(user, target, action: Action) -> bool:
    """Whether the user may do `action` on this target (permissions.ALLOWED says who may)."""
    if is_system_or_superuser(user):
        return True
    allowed = ALLOWED[action]
    held = held_on(user, target)
    return bool(held.roles & allowed.roles or held.duties & allowed.duties)


def may_for_unit(user, unit_id: int, action: Action) -> bool:
    """Whether the user acts for this org unit in `action`: a member of it in one of the
    action's roles (a supervision order's issuing or receiving unit)."""
    if is_system_or_superuser(user):
        return True
    roles = ALLOWED[action].roles
    return any(m.unit_id == unit_id and m.role in roles for m in _memberships(user))


def unit_records_q(user, campaign, see_all: Action, fields: tuple[str, ...]) -> Q:
    """Filter over a campaign's records addressed from or to org units (supervision orders):
    all of them for a user holding `see_all`'s role in the campaign, else those where one of
    `fields` (``issuer_id``, ``receiver_id``) is a unit the user is a member of."""
    if is_system_or_superuser(user) or may_in_campaign(user, campaign, see_all):
        return Q(campaign_id=campaign.pk)
    units = [m.unit_id for m in _memberships(user) if m.unit.campaign_id == campaign.pk]
    q = NOTHING
    for name in fields:
        q |= Q(**{name + "__in": units})
    return Q(campaign_id=campaign.pk) & q if units else NOTHING


def may_in_campaign(user, campaign, action: Action) -> bool:
    """Whether the user holds one of the action's roles anywhere in the campaign."""
    if is_system_or_superuser(user):
        return True
    roles = ALLOWED[action].roles
    return any(m.role in roles and m.unit.campaign_id == campaign.pk for m in _memberships(user))


def _scope(user, prefix: str, roles=None) -> Q:
    if is_system_or_superuser(user):
        return Q()
    q = NOTHING
    for m in _memberships(user):
        if roles is None or m.role in roles:
            q |= _membership_q(m, prefix)
    return q


def visible_q(user, prefix: str = "") -> Q:
    """Filter over targets (or over records via `prefix`, e.g. "target__") a user may see."""
    return _scope(user, prefix)


def may_q(user, action: Action, prefix: str = "") -> Q:
    """Filter over targets (or records via `prefix`) on which `may(user, target, action)` holds:
    the reach of the memberships whose role, or whose group's duty, the action's row allows.
    Lists of work waiting for someone (remediation.todo) ask it instead of `may` row by row."""
    if is_system_or_superuser(user):
        return Q()
    allowed = ALLOWED[action]
    q = NOTHING
    for m in _memberships(user):
        if m.role in allowed.roles or _duties(m) & allowed.duties:
            q |= _membership_q(m, prefix)
    return q


def editable_q(user, prefix: str = "") -> Q:
    """Filter over targets a user may change (Action.TARGET_EDIT)."""
    return _scope(user, prefix, roles=ALLOWED[Action.TARGET_EDIT].roles)


def can_edit(user) -> bool:
    return is_system_or_superuser(user) or any(m.role in ALLOWED[Action.TARGET_EDIT].roles
                                                for m in _memberships(user))


def liaison_streets(user, campaign) -> list[OrgUnit]:
    """The streets a liaison leader follows in `campaign`. The pairing is the membership (role
    liaison on a street unit), the one thing the rule reads; the preset's `[[liaisons]]` only
    name the district leader the campaign pairs with each street."""
    return [m.unit for m in _memberships(user) if m.role == Role.LIAISON and m.unit.campaign_id == campaign.pk
            and m.unit.kind == OrgUnit.Kind.STREET]


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
    if is_system_or_superuser(user):
        return None
    streets = set()
    for m in _memberships(user):
        if m.unit.campaign_id != campaign.pk:
            continue
        reach = _reach(m)
        if m.role not in ALLOWED[Action.TARGET_EDIT].roles or reach is None:
            continue
        if reach[0] == "campaign_id":
            return None
        if reach[0] == "street_id":
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


def reaches(user, campaign) -> frozenset[tuple[str, int]] | None:
    """The (target field, value) pairs through which the user sees the campaign's targets (a
    target is visible when it holds any of them), or None when they see the whole campaign: for
    tables that copy a target's reach under names of their own (the command room's projection)."""
    if is_system_or_superuser(user) or sees_whole_campaign(user, campaign):
        return None
    return frozenset(reach for m in _memberships(user) if m.unit.campaign_id == campaign.pk
                     and (reach := _reach(m)) is not None)


def seen_through(user, campaign) -> tuple[OrgUnit, ...] | None:
    """The units through which the user sees the campaign's targets (their street, system or
    rights unit), or None when they see the whole campaign: an export names what it holds."""
    if is_system_or_superuser(user) or sees_whole_campaign(user, campaign):
        return None
    units = {m.unit.pk: m.unit for m in _memberships(user) if m.unit.campaign_id == campaign.pk and _reach(m)}
    return tuple(sorted(units.values(), key=lambda unit: (unit.sort, unit.name)))
def user_manager_campaign_ids(user) -> set[int] | None:
    """Campaigns where `user` manages accounts (Action.USERS_MANAGE); None means all of them
    (the system, a superuser)."""
    if is_system_or_superuser(user):
        return None
    roles = ALLOWED[Action.USERS_MANAGE].roles
    return {m.unit.campaign_id for m in _memberships(user) if m.role in roles}


def manages_users(user) -> bool:
    """Whether `user` manages the accounts of some campaign."""
    campaigns = user_manager_campaign_ids(user)
    return campaigns is None or bool(campaigns)


def users_managed(user):
    """The accounts `user` may manage: those whose every membership lies in a campaign where it
    manages accounts, including an account nobody has placed in a unit yet.

    Every membership, not one: resetting the password of someone who is also in another
    campaign's office would open that campaign to the one who reset it. A superuser's
    account only by a superuser (or the system).
    """
    users = get_user_model().objects.all()
    campaigns = user_manager_campaign_ids(user)
    if campaigns is None:
        return users
    if not campaigns:
        return users.none()
    elsewhere = Membership.objects.filter(user=OuterRef("pk")).exclude(unit__campaign_id__in=campaigns)
    return users.filter(is_superuser=False).exclude(Exists(elsewhere))


def units_assignable(user):
    """Org units `user` may place accounts in: those of the campaigns where it manages accounts."""
    campaigns = user_manager_campaign_ids(user)
    units = OrgUnit.objects.all()
    return units if campaigns is None else units.filter(campaign_id__in=campaigns)
