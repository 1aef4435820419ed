"""Forms of the plan (一院一策) and policy-library pages; the services check the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.campaigns.models import OrgUnit
from taizhang.core.requests import SearchField

from .models import Policy
from .models.plans import Means

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlanForm(forms.Form):
    """A plan version's header. Means are not required here: the service says what is missing."""

    planned_on = forms.DateField(label=_("Plan date"), required=False, widget=DATE)
    means = forms.MultipleChoiceField(label=_("Means"), choices=Means.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class StepForm(forms.Form):
    """One step; owner and policies are chosen among the campaign's, given once for all rows."""

    description = forms.CharField(label=_("Step"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    means = forms.ChoiceField(label=_("Means"), choices=[("", "—"), *Means.choices], required=False)
    # A hundred and more units: the page's script puts a box before the list that narrows it.
    owner = forms.ChoiceField(label=_("Owner unit"), required=False,
                              widget=forms.Select(attrs={"data-filter": _("Type to narrow the units…")}))
    due_on = forms.DateField(label=_("Due on"), required=False, widget=DATE)
    policies = forms.MultipleChoiceField(label=_("Policies"), required=False)

    def __init__(self, *args, owners, policies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owners
        self.fields["policies"].choices = policies

    def row(self, units: dict) -> dict | None:
        """The step as the service takes it, or None for a blank or deleted row."""
        data = getattr(self, "cleaned_data", None) or {}
        if data.get("DELETE") or not any(v for k, v in data.items() if k != "DELETE"):
            return None
        owner = data.get("owner")
        return {"description": data.get("description", ""), "means": data.get("means", ""),
                "owner": units[int(owner)] if owner else None, "due_on": data.get("due_on"),
                "policies": [int(pk) for pk in data.get("policies", [])]}


StepFormSet = forms.formset_factory(StepForm, extra=2, can_delete=True, max_num=100, validate_max=True)


def owner_choices(units) -> list:
    """Units grouped by kind (office, groups, streets, systems), the rights units by system, in
    `units`' order (plans.owner_units)."""
    groups: dict[str, list] = {}
    for unit in units:
        group = unit.get_kind_display()
        if unit.kind == OrgUnit.Kind.RIGHTS_UNIT and unit.parent is not None:
            group = _("%(kind)s · %(system)s") % {"kind": group, "system": unit.parent.name}
        groups.setdefault(str(group), []).append((str(unit.pk), unit.name))
    return [("", "—"), *groups.items()]


class PolicyForm(forms.ModelForm):
    """A regulation or policy in the library; tags separated by commas."""

    class Meta:
        model = Policy
        fields = ["title", "issuer", "number", "issued_on", "tags", "text"]
        widgets = {"issued_on": DATE, "text": forms.Textarea(attrs={"rows": 8})}
        help_texts = {"tags": _("Separate tags with commas, e.g. 拆违, 租赁合同.")}


class PolicySearchForm(forms.Form):
    """The policy library's search: words (all must match) and one tag."""

    q = SearchField(label=_("Search"))
    tag = forms.CharField(label=_("Tag"), required=False, max_length=100)
