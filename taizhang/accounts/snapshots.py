"""What the change log records of an account and of a membership (core.snapshots): records of
no one target, shown in no target's history.

Never the password nor its hash: a reset or a change shows as the time the password was set
and whether the next login must set a new one.
"""

from django.contrib.auth import get_user_model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from taizhang.core.snapshots import LABEL, Field, declare

from .models import Membership, Profile

_DEFAULTS = {"phone": "", "must_change_password": False, "password_changed_at": None}


def _profile(name: str, convert=None) -> Field:
    """A profile field, read through the account (one made outside the services may have no
    profile: then the field's default)."""

    def read(user):
        profile = getattr(user, "profile", None)
        value = getattr(profile, name) if profile is not None else _DEFAULTS[name]
        return convert(value) if value is not None and convert else value

    return Field(read, whole=True)


def _iso_time(value) -> str:
    return value.isoformat()


def _profile_heading(name: str):
    return capfirst(Profile._meta.get_field(name).verbose_name)


USER = declare(
    "accounts.user", get_user_model(),
    ("username", "first_name", "phone", "is_active", "must_change_password", "password_changed_at"),
    target=None,
    special={"phone": _profile("phone"), "must_change_password": _profile("must_change_password"),
             "password_changed_at": _profile("password_changed_at", _iso_time)},
    headings={"username": _("User name"), "first_name": _("Full name"), "phone": _profile_heading("phone"),
              "must_change_password": _profile_heading("must_change_password"),
              "password_changed_at": _profile_heading("password_changed_at")},
    describe=lambda user: user.get_username())
MEMBERSHIP = declare("accounts.membership", Membership, ("user", "unit", "role", "is_head"), target=None,
                     special={"unit": LABEL}, headings={"user": _("Account"), "unit": _("Unit")})
