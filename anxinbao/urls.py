from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from core import views as core_views
from dashboards import views as dashboard_views
from projects.milestones import urls as milestone_urls

api_v1 = [
    path("", include("core.api.urls")),
    path("", include("escrow.api.urls")),
    path("", include("projects.api.urls")),
    path("", include("projects.milestones.urls")),
    path("", include("subsidies.api.urls")),
    path("", include("reports.api.urls")),
]


class FaviconView(RedirectView):
    """/favicon.ico → the static favicon. Its URL is looked up per request: with the production storage the hashed
    name comes from the manifest, which exists only after collectstatic, not when the URLs are imported."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


favicon = FaviconView.as_view()


urlpatterns = [
    path("favicon.ico", favicon),
    path("", dashboard_views.home, name="home"),
    path("cases/", dashboard_views.cases, name="cases"),
    path("dashboards/", include("dashboards.urls")),
    path("accounts/login/", core_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", core_views.logout_view, name="logout"),
    path("accounts/2fa/", core_views.otp_verify, name="otp_verify"),
    path("accounts/2fa/setup/", core_views.otp_setup, name="otp_setup"),
    path("accounts/2fa/recovery-codes/", core_views.otp_recovery_codes, name="otp_recovery_codes"),
    path("i18n/setlang/", core_views.set_language, name="set_language"),
    path("notifications/", core_views.notifications, name="notifications"),
    path("notifications/read/", core_views.notifications_mark_read, name="notifications_read"),
    path("admin/", admin.site.urls),
    path("escrow/", include("escrow.urls")),
    path("projects/", include("projects.urls")),
    path("", include((milestone_urls.pages, "milestones"))),
    path("subsidies/", include("subsidies.urls")),
    path("reports/", include("reports.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start script is served as a file (the split view), so no inline script is needed; both
    # documentation apps set styles from script (settings.CSP_API_DOCS_STYLE_SRC), ReDoc runs a blob: worker.
    path("api/docs/", csp_update({"style-src": settings.CSP_API_DOCS_STYLE_SRC})(
        SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    path("api/redoc/", csp_update({"style-src": settings.CSP_API_DOCS_STYLE_SRC, "worker-src": ["blob:"]})(
        SpectacularRedocView.as_view(url_name="schema")), name="api-redoc"),
]

handler404 = "core.api.errors.page_not_found"
handler400 = "core.api.errors.bad_request"

if settings.DEBUG:
    pass
