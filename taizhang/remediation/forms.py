"""Forms of the remediation pages; built for a phone on site."""

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.core.coordinates import CoordinateSystem

from .models import Outcome, PilotLesson, Tenant, Verification


class VerificationForm(forms.ModelForm):
    """What the joint verification found on site."""

    class Meta:
        model = Verification
        fields = ["land_rights", "land_rights_holder", "rented_floor_area", "resident_population",
                  "business_count", "hazards", "longitude", "latitude", "coordinate_system", "notes"]
        widgets = {"hazards": forms.Textarea(attrs={"rows": 2}), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coordinate_system"].required = False  # not given: a phone's reading, WGS-84

    def clean_coordinate_system(self):
        return self.cleaned_data.get("coordinate_system") or CoordinateSystem.WGS84


class TenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "kind", "lease_ends_on", "people"]
        widgets = {"lease_ends_on": forms.DateInput(attrs={"type": "date"})}


TenantFormSet = forms.formset_factory(TenantForm, extra=3, max_num=200)


class StepForm(forms.Form):
    """A workflow step asked for from the target's page."""

    to = forms.CharField(max_length=24)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)
    hold_reason = forms.CharField(label=_("Reason for hold"), required=False, max_length=500)
    hold_review_on = forms.DateField(label=_("Review on"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))


class OutcomeForm(forms.ModelForm):
    """People and money at one stage."""

    class Meta:
        model = Outcome
        fields = ["tenants_cleared", "people_moved", "people_employed", "funds_paid", "demolished_area",
                  "land_recovered"]


class LessonForm(forms.ModelForm):
    class Meta:
        model = PilotLesson
        fields = ["title", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
