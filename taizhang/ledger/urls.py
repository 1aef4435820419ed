from django.urls import path, register_converter
from django.urls.converters import StringConverter

from . import views


class CodeConverter(StringConverter):
    """A unit code in a path: any text but "/" and NUL, which PostgreSQL refuses in a query."""

    regex = "[^/\x00]+"


register_converter(CodeConverter, "code")

app_name = "ledger"
urlpatterns = [
    path("", views.ledger_list, name="list"),
    path("export.xlsx", views.ledger_export, name="export"),
    path("reconcile/", views.reconcile, name="reconcile"),
    path("units/", views.unit_index, name="units"),
    path("import/", views.import_upload, name="import"),
    path("import/<uuid:upload_id>/apply/", views.import_apply, name="import_apply"),
    path("targets/<int:pk>/", views.target_detail, name="target"),
    path("targets/<int:pk>/edit/", views.target_edit, name="target_edit"),
    path("<code:kind>/<code:code>/", views.ledger_list, name="classified"),
    path("<code:kind>/<code:code>/export.xlsx", views.ledger_export, name="classified_export"),
]
