"""Forms of the ledger pages."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from taizhang.core.parsing import ValueProblem

from .checking import CLEAR, cell_value, without_control_characters
from .columns import COLUMNS, empty_value
from .models import Target


class ImportForm(forms.Form):
    """An .xlsx or .csv file to check against the ledger."""

    file = forms.FileField(label=_("Excel (.xlsx) or CSV file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.TAIZHANG_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s."),
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
                code="too_large")
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."), code="empty")
        self.cleaned_data["data"] = upload.read()
        return upload


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
        return cleaned

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
