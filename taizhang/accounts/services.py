"""Managing accounts: creating them, placing them in units and roles, deactivating them,
resetting and changing passwords.

Each service checks that the actor may manage the account (`scoping.users_managed`, from
the access table's Action.USERS_MANAGE), locks the account's row, writes, and logs what
changed through the one declaration per model (accounts/snapshots.py), in one transaction.
A refusal is an `AccountError` naming the field and the value, and changes nothing.
`actor=None` is the system (commands, the demo set-up).
"""

import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.campaigns.models import OrgUnit
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.core.errors import ServiceError

from .models import Membership, Profile
from .permissions import ALLOWED, Action
from .scoping import manages_users, membership_reaches, units_assignable, users_managed
from .snapshots import MEMBERSHIP, USER

User = get_user_model()
# Temporary passwords: no 0/O, 1/l/I to misread when handed over on paper.
TEMPORARY_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TEMPORARY_LENGTH = 12
# The account's fields as the forms name them.
FORM_FIELDS = {"first_name": "name"}


class AccountError(ServiceError):
    """A change to an account that is refused; `field` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def temporary_password() -> str:
    """A random password to hand to someone who must replace it at their first login."""
    while True:
        password = "".join(secrets.choice(TEMPORARY_ALPHABET) for _i in range(TEMPORARY_LENGTH))
        # Letters and digits both, so no validator can refuse it (all digits, say).
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _lock(user_id: int, actor):
    """The account re-read under a lock, if `actor` may manage it."""
    user = users_managed(actor).select_for_update(of=("self",)).filter(pk=user_id).first()
    if user is None:
        raise AccountError(_("This account is not one you may manage."))
    return user


def _profile(user) -> Profile:
    profile, _created = Profile.objects.get_or_create(user=user)
    user.profile = profile
    return profile


def _field_errors(exc: ValidationError) -> AccountError:
    """The first problem of a full_clean, naming its field."""
    field, messages = next(iter(exc.message_dict.items()))
    heading = USER.heading(field) if field in USER.fields else field
    return AccountError(_("%(field)s: %(message)s") % {"field": heading, "message": " ".join(messages)},
                        FORM_FIELDS.get(field, field))


def _check_password(password: str, user, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise AccountError(_("Password: %(message)s") % {"message": " ".join(exc.messages)}, field) from None


def phone_normalized(phone: str) -> str:
    """A phone number as kept: no spaces; digits, a leading + and dashes only."""
    phone = "".join(phone.split())
    allowed = set("0123456789+-")
    if phone and (not set(phone) <= allowed or sum(c.isdigit() for c in phone) < 5 or "+" in phone[1:]):
        raise AccountError(_("Phone: “%(phone)s” is not a phone number (digits, with + or - at most).")
                           % {"phone": phone}, "phone")
    if len(phone) > Profile._meta.get_field("phone").max_length:
        raise AccountError(_("Phone: “%(phone)s” is too long.") % {"phone": phone}, "phone")
    return phone


def _check_username_free(username: str, user_id: int | None = None) -> None:
    # Case-insensitively, as Django's own forms do: to an office, Li and li are one person.
    if User.objects.filter(username__iexact=username).exclude(pk=user_id).exists():
        raise AccountError(_("User name: “%(username)s” is already taken.") % {"username": username}, "username")


@atomic
def user_create(*, actor, username: str, name: str, phone: str = "", password: str | None = None,
                password_hash: str | None = None, must_change_password: bool = True,
                memberships: Iterable[tuple[OrgUnit, str]] = (), reason: str = ""):
    """A new account, placed in `memberships` ((unit, role) pairs), logged with them.

    `password` is checked against AUTH_PASSWORD_VALIDATORS; `password_hash` (make_password's)
    is taken as it is, for accounts that share one public password (the demo's: hashing it
    once instead of once per account). With `must_change_password` the first login asks for
    a new one before anything else.
    """
    memberships = list(memberships)
    if not manages_users(actor):
        raise AccountError(_("Only the HQ office manages accounts."))
    username, name = username.strip(), " ".join(name.split())
    user = User(username=username, first_name=name)
    if not name:
        raise AccountError(_("Full name: give the person's name."), "name")
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        raise _field_errors(exc) from None
    _check_username_free(username)
    phone = phone_normalized(phone)
    if password_hash is None:
        if not password:
            raise AccountError(_("Password: give a password."), "password")
        _check_password(password, user)
        password_hash = make_password(password)
    user.password = password_hash
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # created by someone else since the check above
        raise AccountError(_("User name: “%(username)s” is already taken.") % {"username": username},
                           "username") from None
    user.profile = Profile.objects.create(user=user, phone=phone, must_change_password=must_change_password,
                                          password_changed_at=timezone.now())
    changes = [USER.created(user)]
    for unit, role in memberships:
        changes.append(MEMBERSHIP.created(_membership_new(actor, user, unit, role)))
    changelog_append(changes=changes, actor=actor, reason=reason or _("account created"))
    return user


def _membership_new(actor, user, unit: OrgUnit, role: str, is_head: bool = False) -> Membership:
    """The membership made, once the actor may place accounts in `unit` and the role reaches
    something from there."""
    if not units_assignable(actor).filter(pk=unit.pk).exists():
        raise AccountError(_("Unit: “%(unit)s” is not a unit you may place accounts in.") % {"unit": unit.name},
                           "unit")
    if role not in Membership.Role.values:
        raise AccountError(_("Role: “%(role)s” is not a role.") % {"role": role}, "role")
    membership = Membership(user=user, unit=unit, role=role, is_head=is_head)
    if not membership_reaches(membership):
        raise AccountError(_("Role: a %(role)s in “%(unit)s” would see nothing; street staff and liaison "
                             "leaders belong to a street, rights-unit staff to a system or a rights unit.")
                           % {"role": membership.get_role_display(), "unit": unit.name}, "role")
    if Membership.objects.filter(user=user, unit=unit, role=role).exists():
        raise AccountError(_("%(user)s is already a %(role)s in “%(unit)s”.") % {
            "user": user.get_username(), "role": membership.get_role_display(), "unit": unit.name}, "unit")
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:
        raise AccountError(_("%(user)s is already a %(role)s in “%(unit)s”.") % {
            "user": user.get_username(), "role": membership.get_role_display(), "unit": unit.name},
            "unit") from None
    return membership


@atomic
def user_update(*, actor, user_id: int, username: str | None = None, name: str | None = None,
                phone: str | None = None, reason: str = ""):
    """Correct an account's user name, full name or phone (None: left as it is)."""
    user = _lock(user_id, actor)
    profile = _profile(user)
    before = USER.snapshot(user)
    if username is not None and username.strip() != user.username:
        user.username = username.strip()
        _check_username_free(user.username, user.pk)
    if name is not None:
        if not " ".join(name.split()):
            raise AccountError(_("Full name: give the person's name."), "name")
        user.first_name = " ".join(name.split())
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        raise _field_errors(exc) from None
    if phone is not None:
        profile.phone = phone_normalized(phone)
    after = USER.snapshot(user)
    if after == before:
        return user
    try:
        with transaction.atomic():
            user.save(update_fields=["username", "first_name"])
    except IntegrityError:
        raise AccountError(_("User name: “%(username)s” is already taken.") % {"username": user.username},
                           "username") from None
    profile.save(update_fields=["phone"])
    changelog_append(changes=[USER.change(user, "update", before, after)], actor=actor,
                     reason=reason or _("account edited"))
    return user


def _set_active(actor, user_id: int, active: bool, reason: str):
    user = _lock(user_id, actor)
    if user.is_active == active:
        raise AccountError(_("%(user)s is already active.") % {"user": user.get_username()} if active
                           else _("%(user)s is already deactivated.") % {"user": user.get_username()})
    if not active and actor is not None and user.pk == actor.pk:
        raise AccountError(_("You cannot deactivate your own account."))
    _profile(user)
    before = USER.snapshot(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    changelog_append(changes=[USER.change(user, "update", before, USER.snapshot(user))], actor=actor, reason=reason)
    return user


@atomic
def user_deactivate(*, actor, user_id: int, reason: str = ""):
    """The account can no longer log in, and a session it has open ends at its next request
    (Django's backend refuses inactive accounts); its memberships and history stay."""
    return _set_active(actor, user_id, False, reason or _("account deactivated"))


@atomic
def user_reactivate(*, actor, user_id: int, reason: str = ""):
    """The account may log in again, in the units and roles it had."""
    return _set_active(actor, user_id, True, reason or _("account reactivated"))


@atomic
def password_reset(*, actor, user_id: int, password: str, reason: str = ""):
    """Give an account a new password that its owner must replace at the next login.

    Every session the account has open ends (its password hash changed). The log records
    when, never the password.
    """
    user = _lock(user_id, actor)
    if actor is not None and user.pk == actor.pk:
        raise AccountError(_("Change your own password on the “Change password” page."))
    _check_password(password, user)
    return _password_set(user, password, must_change=True, actor=actor, reason=reason or _("password reset"))


@atomic
def password_change(*, user, password: str):
    """The account's owner sets a new password (after a reset, or whenever they like)."""
    user = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    _check_password(password, user, field="new_password1")
    return _password_set(user, password, must_change=False, actor=user, reason=_("password changed"))


def _password_set(user, password: str, *, must_change: bool, actor, reason: str):
    profile = _profile(user)
    before = USER.snapshot(user)
    user.set_password(password)
    user.save(update_fields=["password"])
    profile.must_change_password, profile.password_changed_at = must_change, timezone.now()
    profile.save(update_fields=["must_change_password", "password_changed_at"])
    changelog_append(changes=[USER.change(user, "update", before, USER.snapshot(user))], actor=actor, reason=reason)
    return user


@atomic
def membership_add(*, actor, user_id: int, unit: OrgUnit, role: str, is_head: bool = False,
                   reason: str = "") -> Membership:
    """Place an account in a unit, in a role; `is_head`: as the unit's head (负责人)."""
    user = _lock(user_id, actor)
    membership = _membership_new(actor, user, unit, role, is_head)
    changelog_append(changes=[MEMBERSHIP.created(membership)], actor=actor, reason=reason or _("role given"))
    return membership


@atomic
def membership_remove(*, actor, membership_id: int, reason: str = "") -> None:
    """Take a unit and role away from an account."""
    membership = Membership.objects.select_related("unit", "user").filter(pk=membership_id).first()
    if membership is None:
        raise AccountError(_("This role was taken away already."))
    user = _lock(membership.user_id, actor)
    membership = Membership.objects.select_related("unit").select_for_update(of=("self",)).filter(
        pk=membership_id).first()
    if membership is None:
        raise AccountError(_("This role was taken away already."))
    if not units_assignable(actor).filter(pk=membership.unit_id).exists():
        raise AccountError(_("Unit: “%(unit)s” is not a unit you may place accounts in.")
                           % {"unit": membership.unit.name}, "unit")
    if actor is not None and user.pk == actor.pk and membership.role in ALLOWED[Action.USERS_MANAGE].roles:
        raise AccountError(_("You cannot take away your own right to manage accounts."))
    membership.user = user
    change = MEMBERSHIP.change(membership, "delete", MEMBERSHIP.snapshot(membership), None)
    membership.delete()
    changelog_append(changes=[change], actor=actor, reason=reason or _("role taken away"))
