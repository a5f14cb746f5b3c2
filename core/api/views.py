from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, permissions, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.settings import api_settings

from core.models import Organization, SchemeVersion

from .serializers import OrganizationSerializer, SchemeVersionSerializer


class TokenView(ObtainAuthToken):
    """POST {"username", "password"} → {"token"}."""

    # ObtainAuthToken names its own parsers; use the API's (JSON of bounded depth) before anyone has logged in.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES


class IsAdminOrReadOnly(permissions.BasePermission):
    message = _("只有系统管理员可以新增组织")

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_superuser)


class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                          viewsets.GenericViewSet):
    """Organisations are public reference data inside the scheme (names, kinds, codes)."""

    serializer_class = OrganizationSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdminOrReadOnly]
    queryset = Organization.objects.all().order_by("pk")
    filterset_fields = ["kind", "blacklisted"]


class SchemeVersionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SchemeVersionSerializer
    queryset = SchemeVersion.objects.all().order_by("valid_from")
