from django.urls import path  # noqa: F401  (the dashboard's and the map's pages are added here)

app_name = "command"

urlpatterns = []
