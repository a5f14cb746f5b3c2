from core.api.routers import Router

from .views import ReportViewSet

app_name = "reports-api"
router = Router(trailing_slash=True)
router.register("reports", ReportViewSet, basename="report")
urlpatterns = router.urls
