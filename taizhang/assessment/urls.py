from django.urls import path

from . import views

app_name = "assessment"
urlpatterns = [
    path("", views.records, name="records"),
    path("people/<int:user_id>/", views.person, name="person"),
    path("people/<int:user_id>/commend/", views.commend, name="commend"),
    path("units/<int:unit_id>/", views.unit, name="unit"),
]
