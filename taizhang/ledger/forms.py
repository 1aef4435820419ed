"""Forms of the ledger pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.core.coordinates import CoordinateSystem
from taizhang.core.forms import TableUploadForm
from taizhang.core.parsing import ValueProblem

from .checking import CLEAR, LOCATION_FIELDS, cell_value, location_problem, without_control_characters
from .columns import COLUMNS, empty_value
from .models import Target


class ImportForm(TableUploadForm):
    """An .xlsx or .csv file to check against the ledger, and the coordinate system of its
    longitudes and latitudes where a row's 坐标系 cell is blank (or there is no such column)."""

    coordinate_system = forms.ChoiceField(
        label=_("Coordinates in this file, where a row does not say (坐标系)"), required=False,
        choices=lambda: SYSTEM_CHOICES, initial=CoordinateSystem.WGS84.value)

    def clean_coordinate_system(self):
        return self.cleaned_data["coordinate_system"] or CoordinateSystem.WGS84.value


class TargetForm(forms.Form):
    """A target's columns as the office or its street corrects them, read by the import's own
    path (`checking.cell_value`): a value the form accepts, a one-row import accepts, and the
    other way round. A blank field empties the value (in a form, unlike a sheet, a blank is typed)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500)

    def __init__(self, *args, target, labels, **kwargs):
        self.target, self.labels = target, labels
        super().__init__(*args, initial=target_initial(target) | (kwargs.pop("initial", None) or {}), **kwargs)
        for column in EDITABLE_COLUMNS:
            self.fields[column.field] = _form_field(column, labels)

    def clean_reason(self):
        return without_control_characters(self.cleaned_data["reason"])

    def clean(self):
        cleaned = super().clean()
        for column in EDITABLE_COLUMNS:
            if column.kind in ("flags", "bool") or column.field not in cleaned:
                continue
            try:
                value = cell_value(column, cleaned[column.field], labels=self.labels)
            except ValueProblem as exc:
                self.add_error(column.field, str(exc))
                continue
            if value is CLEAR:  # the sheet's way of emptying a value; here an empty field does
                value = None
            if value is None and column.required:
                self.add_error(column.field, _("This field is required."))
            else:
                cleaned[column.field] = empty_value(column.field) if value is None else value
        if "flags" in cleaned:
            cleaned["flags"] = sorted(cleaned["flags"])
        self._check_location(cleaned)
        return cleaned

    def _check_location(self, cleaned) -> None:
        """A point moved (or given in another system) must lie in the campaign's area, as an
        import's row must (checking.location_problem)."""
        if any(name in self.errors for name in LOCATION_FIELDS):
            return
        point = [cleaned.get(name) for name in LOCATION_FIELDS]
        if point == [getattr(self.target, name) for name in LOCATION_FIELDS]:
            return
        problem = location_problem(self.labels.campaign.map_box(), *point)
        if problem is not None:
            for name in problem[0]:
                self.add_error(name, problem[1])

    def changes(self) -> dict:
        """{field: value} of the fields whose value differs from the target's."""
        return {column.field: self.cleaned_data[column.field] for column in EDITABLE_COLUMNS
                if self.cleaned_data[column.field] != getattr(self.target, column.field)}


# Every column a person may set; the state moves by the workflow, the version by each write.
EDITABLE_COLUMNS = [column for column in COLUMNS if column.kind != "readonly" and column.field != "version"]


def _form_field(column, labels) -> forms.Field:
    if column.kind == "flags":
        return forms.MultipleChoiceField(label=column.header, choices=Target.Flag.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    if column.kind == "bool":
        return forms.BooleanField(label=column.header, required=False)
    if column.kind == "crs":
        # Read by the one path in clean() like every column: a posted 百度 or GPS is read as a cell is.
        return forms.CharField(label=column.header, required=False, widget=forms.Select(choices=SYSTEM_CHOICES))
    attrs = {}
    if column.kind == "label":
        attrs["list"] = "known-" + column.field
    elif column.kind in ("decimal", "coordinate"):
        attrs["inputmode"] = "decimal"
    elif column.kind == "int":
        attrs["inputmode"] = "numeric"
    elif column.kind == "date":
        attrs["placeholder"] = "2016-06-30"
    # Checked (required, length, characters) by the one path in clean(), not by the field.
    return forms.CharField(label=column.header, required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 3}) if column.field == "hazards"
                           else forms.TextInput(attrs=attrs))


SYSTEM_CHOICES = [
    (CoordinateSystem.WGS84.value, _("WGS-84 (GPS, phones, 天地图)")),
    (CoordinateSystem.GCJ02.value, _("GCJ-02 (高德, 腾讯)")),
    (CoordinateSystem.BD09.value, _("BD-09 (百度)")),
]


def target_initial(target: Target) -> dict:
    """The form's fields as the target holds them, written as a user would type them."""
    initial = {"version": target.version}
    for column in EDITABLE_COLUMNS:
        value = getattr(target, column.field)
        if column.kind == "label":
            value = value.name if value is not None else ""
        elif value is None:
            value = ""
        elif column.kind == "date":
            value = value.isoformat()
        initial[column.field] = value
    return initial
