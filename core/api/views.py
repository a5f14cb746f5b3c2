from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, permissions, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core import second_factor
from core.models import Organization, SchemeVersion

from .serializers import OrganizationSerializer, SchemeVersionSerializer


class TokenView(ObtainAuthToken):
    """POST {"username", "password"} → {"token"}. Users who must pass the second factor (docs/security.md) add
    {"otp": a current code or a recovery code}; their token is then issued anew."""

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        with transaction.atomic():
            # The user's row locked: two requests at once replace the token one after the other, and the second
            # answers the token it made rather than one the first has just deleted.
            list(type(user).objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
            if second_factor.required(user):
                otp = request.data.get("otp") if hasattr(request.data, "get") else None
                if not second_factor.has_device(user) or not isinstance(otp, str) \
                        or second_factor.match(user, otp) is None:
                    raise ValidationError({"otp": [second_factor.REQUIRED_MESSAGE]}, code="second_factor_required")
                Token.objects.filter(user=user).delete()
            token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

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
