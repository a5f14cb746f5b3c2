from django.urls import path

from core.api.routers import Router

from .views import OrganizationViewSet, SchemeVersionViewSet, TokenView

router = Router(trailing_slash=True)
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("schemes", SchemeVersionViewSet, basename="scheme")

urlpatterns = [path("auth/token/", TokenView.as_view(), name="api-token"), *router.urls]
