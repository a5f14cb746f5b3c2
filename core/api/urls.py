from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import OrganizationViewSet, SchemeVersionViewSet, TokenView

router = DefaultRouter(trailing_slash=True)
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("schemes", SchemeVersionViewSet, basename="scheme")

urlpatterns = [path("auth/token/", TokenView.as_view(), name="api-token"), *router.urls]
