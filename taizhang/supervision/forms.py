"""The forms of the orders' pages: what a person types, read into the services' arguments.
What the services check (deadlines, reach, limits) they check themselves, naming the field."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from taizhang.accounts.permissions import ALLOWED, Action
from taizhang.accounts.scoping import is_system_or_superuser, memberships
from taizhang.campaigns.models import OrgUnit
from taizhang.ledger.models import Target

from .models import Accountability, Order
from .orders import ISSUERS, RECEIVERS

DAY = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OrderForm(forms.Form):
    """Issuing an order: from which of the user's units, to whom, about which targets."""

    issuer = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Issued by"))
    receiver = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Sent to"))
    subject = forms.CharField(max_length=200, label=_("Subject"))
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label=_("What is to be done"))
    deadline = forms.DateField(widget=DAY, label=_("Deadline"))
    priority = forms.ChoiceField(choices=Order.Priority.choices, initial=Order.Priority.NORMAL,
                                 label=pgettext_lazy("supervision order", "Priority"))
    targets = forms.CharField(required=False, label=_("Targets (codes, one per line or separated by spaces)"),
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, campaign, issuers, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["issuer"].queryset = issuers
        self.fields["receiver"].queryset = (OrgUnit.objects.filter(campaign=campaign, kind__in=list(RECEIVERS))
                                            .order_by("kind", "sort", "name"))

    def clean_targets(self):
        codes = list(dict.fromkeys(self.cleaned_data["targets"].replace(",", " ").replace("，", " ").split()))
        if len(codes) > 200:
            raise forms.ValidationError(_("At most 200 targets an order."), code="too_many")
        found = dict(Target.objects.filter(campaign=self.campaign, code__in=codes).values_list("code", "pk"))
        missing = [code for code in codes if code not in found]
        if missing:
            raise forms.ValidationError(_("No target %(codes)s in this campaign."),
                                        params={"codes": "、".join(c[:40] for c in missing[:10])}, code="unknown")
        return [found[code] for code in codes]


def issuer_units(user, campaign):
    """The units `user` issues orders for in `campaign` (ISSUERS kinds; all of them for the system)."""
    units = OrgUnit.objects.filter(campaign=campaign, kind__in=ISSUERS)
    if is_system_or_superuser(user):
        return units
    roles = ALLOWED[Action.ORDER_ISSUE].roles
    return units.filter(pk__in=[m.unit_id for m in memberships(user) if m.role in roles])


class StepForm(forms.Form):
    to = forms.ChoiceField(choices=Order.State.choices)
    reason = forms.CharField(required=False, max_length=2000, label=_("Reason"))


class AnswerForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, label=_("Answer"))
    done = forms.BooleanField(required=False, label=_("The work is done: report it for confirmation"))


class ExtensionForm(forms.Form):
    deadline = forms.DateField(widget=DAY, label=_("New deadline asked"))
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label=_("Reason"))


class DecisionForm(forms.Form):
    grant = forms.TypedChoiceField(choices=[("1", _("Grant")), ("0", _("Refuse"))], coerce=lambda v: v == "1",
                                   label=pgettext_lazy("extension", "Decision"))
    note = forms.CharField(required=False, max_length=2000, label=_("Note (needed to refuse)"))


class ReissueForm(forms.Form):
    receiver = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), required=False, label=_("Sent to"))
    deadline = forms.DateField(required=False, widget=DAY, label=_("New deadline"))
    reason = forms.CharField(required=False, max_length=2000, label=_("Note"))

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiver"].queryset = OrgUnit.objects.filter(campaign=campaign, kind__in=list(RECEIVERS))


class ReferForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label=_("Why"))


class AccountabilityForm(forms.Form):
    person = forms.CharField(max_length=150, label=_("Responsible person (user name)"))
    outcome = forms.ChoiceField(choices=(), label=_("Outcome"))
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label=_("Reason"))

    def __init__(self, *args, outcomes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [(o, o) for o in outcomes] + [(Accountability.NO_FAULT, _("no fault found"))]

    def clean_person(self):
        user = get_user_model().objects.filter(username=self.cleaned_data["person"]).first()
        if user is None:
            raise forms.ValidationError(_("There is no user “%(name)s”."),
                                        params={"name": self.cleaned_data["person"][:40]}, code="unknown")
        return user


class OrderFilterForm(forms.Form):
    """The order list's filters: state, colour, the unit sent to, a target's code."""

    state = forms.ChoiceField(required=False, choices=[("", _("any state"))] + Order.State.choices, label=_("State"))
    colour = forms.ChoiceField(required=False, choices=[("", _("any colour"))] + Order.Colour.choices,
                               label=_("Colour"))
    receiver = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), required=False, label=_("Sent to"))
    target = forms.CharField(required=False, max_length=32, label=_("Target code"))

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiver"].queryset = (OrgUnit.objects.filter(campaign=campaign, kind__in=list(RECEIVERS))
                                            .order_by("kind", "sort", "name"))
