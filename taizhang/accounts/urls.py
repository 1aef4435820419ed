from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("locked/", views.locked_list, name="locked"),
    path("unlock/<int:user_id>/", views.unlock, name="unlock"),
    path("history-digest/", views.history_digest, name="history_digest"),
]
