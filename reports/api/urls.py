from rest_framework.routers import DefaultRouter

from .views import ReportViewSet

app_name = "reports-api"
router = DefaultRouter(trailing_slash=True)
router.register("reports", ReportViewSet, basename="report")
urlpatterns = router.urls
