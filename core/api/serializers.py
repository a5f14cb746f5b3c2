from django.utils.translation import gettext as _
from rest_framework import serializers

from core import uscc
from core.models import Organization, SchemeVersion


class UsccField(serializers.CharField):
    """Upper-cases the code before its validators run, so the uniqueness check sees the stored form."""

    def to_internal_value(self, data) -> str:
        return uscc.normalise(super().to_internal_value(data))


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "kind", "name", "district", "uscc", "blacklisted", "district_platform"]
        read_only_fields = ["blacklisted", "district_platform"]  # kept by the bureau in the admin (R1)

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        return (UsccField if field_name == "uscc" else field_class), kwargs

    def validate_uscc(self, value: str) -> str:
        value = uscc.normalise(value)
        if not uscc.is_valid(value):
            raise serializers.ValidationError(_("统一社会信用代码无效（GB 32100-2015 校验位不符）"))
        return value


class SchemeVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchemeVersion
        fields = "__all__"
