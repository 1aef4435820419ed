from django.urls import path

from . import views

urlpatterns = [
    path("", views.notification_list, name="notifications"),
    path("<int:notification_id>/open/", views.notification_open, name="notification_open"),
    path("read/", views.notifications_read, name="notifications_read"),
    path("email/", views.email_choices, name="email_choices"),
]
