"""The forms of the target's legal and petitions section, and of the list of judicial steps."""

from django import forms
from django.utils.translation import gettext_lazy

from .models import Lease, LegalStep, Petition

DAY = forms.DateInput(attrs={"type": "date"})


class LeaseForm(forms.ModelForm):
    class Meta:
        model = Lease
        fields = ["lessee", "kind", "ends_on", "notes"]
        widgets = {"ends_on": DAY, "notes": forms.Textarea(attrs={"rows": 2})}


class DayForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Date"), widget=DAY)


class AnswerForm(DayForm):
    answer = forms.ChoiceField(label=gettext_lazy("Answer"),
                               choices=[c for c in Lease.Answer.choices if c[0] != Lease.Answer.PENDING])


class StepOpenForm(forms.ModelForm):
    class Meta:
        model = LegalStep
        fields = ["stage", "due_on", "court", "case_number"]
        widgets = {"due_on": DAY}


class StepDoneForm(forms.ModelForm):
    class Meta:
        model = LegalStep
        fields = ["done_on", "court", "case_number", "result"]
        widgets = {"done_on": DAY, "result": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done_on"].required = True


class PetitionForm(forms.ModelForm):
    class Meta:
        model = Petition
        fields = ["petitioner", "channel", "received_on", "content", "stability_risk"]
        widgets = {"received_on": DAY, "content": forms.Textarea(attrs={"rows": 3})}


class HandleForm(forms.ModelForm):
    class Meta:
        model = Petition
        fields = ["status", "reply", "replied_on"]
        widgets = {"replied_on": DAY, "reply": forms.Textarea(attrs={"rows": 2})}


class FlagForm(forms.Form):
    stability_risk = forms.BooleanField(required=False)


class LegalFilterForm(forms.Form):
    stage = forms.ChoiceField(choices=[("", "")] + LegalStep.Stage.choices, required=False)
    overdue = forms.BooleanField(required=False)
