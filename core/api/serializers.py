from django.utils.translation import gettext as _
from rest_framework import serializers

from core import uscc
from core.models import Organization, SchemeVersion


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "kind", "name", "district", "uscc", "blacklisted"]
        read_only_fields = ["blacklisted"]

    def validate_uscc(self, value: str) -> str:
        value = uscc.normalise(value)
        if not uscc.is_valid(value):
            raise serializers.ValidationError(_("统一社会信用代码无效（GB 32100-2015 校验位不符）"))
        return value


class SchemeVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchemeVersion
        fields = "__all__"
