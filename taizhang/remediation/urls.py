from django.urls import path

from . import views

app_name = "remediation"
urlpatterns = [
    path("targets/<int:pk>/", views.work, name="work"),
    path("targets/<int:pk>/step/", views.step, name="step"),
    path("targets/<int:pk>/verify/", views.verify, name="verify"),
    path("verifications/<int:verification_id>/confirm/", views.confirm, name="confirm"),
    path("photos/<int:photo_id>/", views.photo, name="photo"),
    path("targets/<int:pk>/outcomes/<str:stage>/", views.outcome_save, name="outcome_save"),
    path("targets/<int:pk>/pilot/", views.pilot_toggle, name="pilot_toggle"),
    path("targets/<int:pk>/lessons/", views.lesson_add, name="lesson_add"),
    path("outcomes/", views.outcomes_report, name="outcomes"),
    path("pilots/", views.pilots_report, name="pilots"),
]
