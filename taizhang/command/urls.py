from django.urls import path

from . import map_views, views

app_name = "command"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("charts/<slug:chart_id>.xlsx", views.download, name="download"),
    path("map/", map_views.map_page, name="map"),
    path("map/points.json", map_views.map_points_json, name="map_points"),
    path("map/areas.json", map_views.map_areas_json, name="map_areas"),
]
