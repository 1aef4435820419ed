from django.urls import path

from . import views

app_name = "ledger"
urlpatterns = [
    path("", views.ledger_list, name="list"),
    path("export.xlsx", views.ledger_export, name="export"),
    path("reconcile/", views.reconcile, name="reconcile"),
    path("units/", views.unit_index, name="units"),
    path("import/", views.import_upload, name="import"),
    path("import/<uuid:upload_id>/apply/", views.import_apply, name="import_apply"),
    path("targets/<int:pk>/", views.target_detail, name="target"),
    path("<str:kind>/<str:code>/", views.ledger_list, name="classified"),
    path("<str:kind>/<str:code>/export.xlsx", views.ledger_export, name="classified_export"),
]
