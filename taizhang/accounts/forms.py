"""Forms of the account pages: the list's filters, an account, a role, a password."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from taizhang.campaigns.models import OrgUnit
from taizhang.core.requests import SearchField

from .models import Membership

Role = Membership.Role
User = get_user_model()


def unit_choices(units, blank) -> list:
    """The units as choices grouped by kind (and campaign, when there are several), for a select."""
    units = list(units.select_related("campaign").order_by("campaign_id", "kind", "sort", "code"))
    several = len({u.campaign_id for u in units}) > 1
    kinds = dict(OrgUnit.Kind.choices)
    groups: dict[str, list] = {}
    for unit in units:
        label = str(kinds[unit.kind])
        if several:
            label = "%s · %s" % (unit.campaign.name, label)
        groups.setdefault(label, []).append((unit.pk, unit.name))
    return [("", blank), *groups.items()]


class UnitField(forms.TypedChoiceField):
    """One of the units given, by id."""

    def __init__(self, **kwargs):
        super().__init__(coerce=int, empty_value=None, **kwargs)


class UserFilterForm(forms.Form):
    """The account list's search and filters."""

    STATUS = [("", _("active")), ("inactive", _("deactivated")), ("all", _("active and deactivated"))]

    q = SearchField(label=_("Search"), widget=forms.TextInput(attrs={
        "type": "search", "placeholder": _("user name, name or phone")}))
    unit = UnitField(label=_("Unit"), required=False)
    role = forms.ChoiceField(label=_("Role"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS)

    def __init__(self, data, *, units):
        super().__init__(data)
        self.fields["unit"].choices = unit_choices(units, _("all units"))
        self.fields["role"].choices = [("", _("all roles")), *Role.choices]
        for name, field in self.fields.items():  # no labels in the filter bar: each says what it is
            field.widget.attrs["aria-label"] = field.label
            field.widget.attrs.setdefault("id", "filter-" + name)

    def apply(self, users):
        if not self.is_valid():
            return users.none()
        data = self.cleaned_data
        status = data["status"]
        if status != "all":
            users = users.filter(is_active=status != "inactive")
        for word in data["q"].split():
            users = users.filter(Q(username__icontains=word) | Q(first_name__icontains=word)
                                 | Q(last_name__icontains=word) | Q(profile__phone__icontains=word))
        held = Q()
        if data["unit"]:
            held &= Q(unit_id=data["unit"])
        if data["role"]:
            held &= Q(role=data["role"])
        if held:
            users = users.filter(pk__in=Membership.objects.filter(held).values("user_id"))
        return users


class MembershipForm(forms.Form):
    """A unit and a role to give an account."""

    unit = UnitField(label=_("Unit"))
    role = forms.ChoiceField(label=_("Role"), choices=[("", "—"), *Role.choices])

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = unit_choices(units, "—")


class MembershipAddForm(MembershipForm):
    """A unit and a role to give an existing account, perhaps as the unit's head."""

    is_head = forms.BooleanField(required=False, label=_("Head of the unit (负责人)"))


def _password_field(label):
    return forms.CharField(label=label, required=False, strip=False, max_length=128, widget=forms.TextInput(
        attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Leave blank to have one made up. Its owner must replace it at the first login."))


class UserCreateForm(MembershipForm):
    """A new account and its first unit and role."""

    username = forms.CharField(label=_("User name"), max_length=150)
    name = forms.CharField(label=_("Full name"), max_length=150)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    password = _password_field(_("Temporary password"))

    field_order = ["username", "name", "phone", "unit", "role", "password"]


class UserEditForm(forms.Form):
    """An account's user name, full name and phone."""

    username = forms.CharField(label=_("User name"), max_length=150)
    name = forms.CharField(label=_("Full name"), max_length=150)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)


class PasswordResetForm(forms.Form):
    """A new temporary password for an account."""

    password = _password_field(_("New temporary password"))


class ReasonForm(forms.Form):
    """Why (deactivating an account, taking a role away), for the history."""

    reason = forms.CharField(label=_("Reason (recorded in the history)"), max_length=200, required=False)
