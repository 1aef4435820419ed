from django.urls import path

from . import import_views, user_views, views

app_name = "accounts"
urlpatterns = [
    path("locked/", views.locked_list, name="locked"),
    path("unlock/<int:user_id>/", views.unlock, name="unlock"),
    path("history-digest/", views.history_digest, name="history_digest"),
    path("background/", views.background, name="background"),
    path("robots/", views.robots, name="robots"),
    path("robots/<int:unit_id>/", views.robot_set, name="robot_set"),
    path("background/deliveries/<int:delivery_id>/retry/", views.delivery_retry_view, name="delivery_retry"),
    path("password/", user_views.password_change_view, name="password_change"),
    path("users/", user_views.user_list, name="users"),
    path("users/new/", user_views.user_new, name="user_new"),
    path("users/import/", import_views.user_import, name="user_import"),
    path("users/import/<uuid:upload_id>/apply/", import_views.user_import_apply, name="user_import_apply"),
    path("users/<int:user_id>/", user_views.user_detail, name="user"),
    path("users/<int:user_id>/edit/", user_views.user_edit, name="user_edit"),
    path("users/<int:user_id>/deactivate/", user_views.user_deactivate_view, name="user_deactivate"),
    path("users/<int:user_id>/reactivate/", user_views.user_reactivate_view, name="user_reactivate"),
    path("users/<int:user_id>/password/", user_views.user_password_reset, name="user_password_reset"),
    path("users/<int:user_id>/roles/", user_views.user_membership_add, name="user_membership_add"),
    path("users/<int:user_id>/roles/<int:membership_id>/remove/", user_views.user_membership_remove,
         name="user_membership_remove"),
]
