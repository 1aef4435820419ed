from django.urls import path  # noqa: F401  (the dashboard's and the map's pages are added here)

from . import map_views

app_name = "command"

urlpatterns = []
urlpatterns += [
    path("map/", map_views.map_page, name="map"),
    path("map/points.json", map_views.map_points_json, name="map_points"),
    path("map/areas.json", map_views.map_areas_json, name="map_areas"),
]
