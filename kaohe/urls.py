from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from kaohe.accounts import views as accounts_views
from kaohe.dashboard import views as dashboard_views

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("healthz", dashboard_views.healthz, name="healthz"),
    path("progress/", dashboard_views.unit_progress, name="unit_progress"),
    path(
        "accounts/login/",
        accounts_views.LoginView.as_view(),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("kaohe.accounts.urls")),
    # The language switch is on the login page, so it must work before signing in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("rounds/", include("kaohe.rounds.urls")),
    path("directory/", include("kaohe.directory.urls")),
    path("audit/", include("kaohe.audit.urls")),
    path("evidence/", include("kaohe.evidence.urls")),
    path("reports/", include("kaohe.submissions.urls")),
    path("reviews/", include("kaohe.reviews.urls")),
    path("launch/", include("kaohe.launch.urls")),
    path("grading/", include("kaohe.grading.urls")),
    path("outcomes/", include("kaohe.outcomes.urls")),
    path("documents/", include("kaohe.documents.urls")),
    path("notifications/", include("kaohe.notifications.urls")),
    path("api/", include("kaohe.api.urls")),
]
