from django.urls import path

from . import views

app_name = "command"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("charts/<slug:chart_id>.xlsx", views.download, name="download"),
]
