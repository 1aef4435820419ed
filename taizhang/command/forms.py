"""What the dashboard is asked: which day, and which street or system of the user's."""

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.campaigns.models import OrgUnit
from taizhang.ledger.asof import as_of_day

from .progress import today


class ScopeForm(forms.Form):
    """`as_of` (a day from the campaign's start to today; today when left out, even before the
    campaign has begun: its ledger as it stands), and at most one
    of `street` or `system` by code. A unit that does not exist is refused here, with its code;
    one that exists but is out of the user's reach is the view's 404."""

    as_of = forms.CharField(required=False, label=_("As it stood on"))
    street = forms.CharField(required=False, label=_("Street"))
    system = forms.CharField(required=False, label=_("Ownership system"))

    def __init__(self, data, *, campaign, **kwargs):
        super().__init__(data, **kwargs)
        self.campaign = campaign

    def clean_as_of(self):
        text = self.cleaned_data["as_of"]
        if not text:
            return today()
        try:
            return as_of_day(text, self.campaign)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="as_of") from None

    def clean_street(self):
        return self._unit("street", OrgUnit.Kind.STREET, _("There is no street “%(code)s” in this campaign."))

    def clean_system(self):
        return self._unit("system", OrgUnit.Kind.SYSTEM,
                          _("There is no ownership system “%(code)s” in this campaign."))

    def _unit(self, name, kind, missing):
        code = self.cleaned_data[name]
        if not code:
            return None
        unit = OrgUnit.objects.filter(campaign=self.campaign, kind=kind, code=code).first()
        if unit is None:
            raise forms.ValidationError(missing, params={"code": code[:40]}, code="unknown")
        return unit

    def clean(self):
        data = super().clean()
        if data.get("street") and data.get("system"):
            raise forms.ValidationError(_("Choose a street or an ownership system, not both."), code="both")
        return data

    def message(self) -> str:
        return " ".join(str(e) for errors in self.errors.values() for e in errors)
