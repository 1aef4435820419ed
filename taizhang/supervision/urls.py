from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    path("", views.order_list, name="orders"),
    path("new/", views.order_new, name="order_new"),
    path("<int:pk>/", views.order_detail, name="order"),
    path("<int:pk>/step/", views.order_step, name="order_step"),
    path("<int:pk>/answer/", views.order_answer, name="order_answer"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("<int:pk>/extension/", views.extension_ask, name="extension_ask"),
    path("<int:pk>/extension/<int:extension_id>/", views.extension_decide, name="extension_decide"),
    path("<int:pk>/reissue/", views.order_reissue, name="order_reissue"),
    path("<int:pk>/refer/", views.order_refer, name="order_refer"),
    path("<int:pk>/accountability/", views.accountability_add, name="accountability_add"),
    path("referrals/", views.referrals, name="referrals"),
]
