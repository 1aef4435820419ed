from django.contrib.auth import views as auth_views
from django.urls import include, path

from taizhang.accounts import views as account_views
from taizhang.ledger import views as ledger_views
from taizhang.remediation import todo_views

urlpatterns = [
    path("", todo_views.home, name="home"),
    path("campaign/", ledger_views.choose_campaign, name="choose_campaign"),
    path("ledger/", include("taizhang.ledger.urls")),
    path("work/", include("taizhang.remediation.urls")),
    path("orders/", include("taizhang.supervision.urls")),
    path("command/", include("taizhang.command.urls")),
    path("records/", include("taizhang.assessment.urls")),
    path("notifications/", include("taizhang.core.urls")),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("taizhang.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

# A request whose input cannot be answered shows why (taizhang.core.requests).
handler400 = "taizhang.core.requests.bad_request"
