"""The HQ office's commendation form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.campaigns.models import OrgUnit
from taizhang.supervision.models import Order


class CommendationForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit"))
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label=_("For what"))
    order = forms.ModelChoiceField(queryset=Order.objects.none(), required=False, label=_("Supervision order"))

    def __init__(self, *args, units, orders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.filter(pk__in=units)
        self.fields["order"].queryset = orders
