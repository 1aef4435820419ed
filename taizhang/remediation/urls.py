from django.urls import path

from . import views

app_name = "remediation"
urlpatterns = [
    path("targets/<int:pk>/", views.work, name="work"),
    path("targets/<int:pk>/step/", views.step, name="step"),
    path("targets/<int:pk>/verify/", views.verify, name="verify"),
    path("verifications/<int:verification_id>/confirm/", views.confirm, name="confirm"),
    path("photos/<int:photo_id>/", views.photo, name="photo"),
]
