"""Forms every room's pages share."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _


class TableUploadForm(forms.Form):
    """An .xlsx or .csv file to import, refused by its declared size before a byte is read
    (TAIZHANG_IMPORT_MAX_BYTES); `cleaned_data["data"]` holds its bytes."""

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


def errors_text(form) -> str:
    """A bound form's errors as one message, each naming its field ("Deadline: Enter a valid
    date."): for pages that answer a refused post with a message rather than the form."""
    return " ".join(
        _("%(field)s: %(message)s") % {"field": form.fields[name].label or name, "message": " ".join(errors)}
        if name in form.fields else " ".join(errors) for name, errors in form.errors.items())
