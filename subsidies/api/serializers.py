from rest_framework import serializers

from core.api.fields import MoneyField
from projects.models import Milestone, Project

from ..choices import InsuredParty, PolicyType
from ..files import api_url
from ..models import AnnualAudit, GrantComputation, InsuranceClaim, InsurancePolicy, OtherPolicySubsidy, PremiumSubsidy

MONEY = {"max_digits": 18, "decimal_places": 2, "coerce_to_string": True}


class PolicySerializer(serializers.ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    insured = serializers.ChoiceField(choices=InsuredParty.choices, default=InsuredParty.ENTERPRISE)
    type = serializers.ChoiceField(choices=PolicyType.choices)
    premium = MoneyField()
    cover = MoneyField()
    year = serializers.IntegerField(read_only=True)
    enterprise = serializers.IntegerField(source="project.enterprise_id", read_only=True)
    document = serializers.SerializerMethodField()

    class Meta:
        model = InsurancePolicy
        fields = ["id", "project", "enterprise", "insurer", "insured", "type", "policy_number", "premium", "cover",
                  "start_date", "end_date", "year", "document", "created_at"]
        read_only_fields = ["created_at"]

    def get_document(self, obj) -> str | None:
        """R12: the scoped download of the policy document (insurance/policies/{id}/document/)."""
        return api_url(self.context.get("request"), "insurance-policy-document", obj.pk, obj.document)


class PolicyWriteSerializer(PolicySerializer):
    """POST insurance/policies/: JSON without the document, or multipart with it (R12, I11)."""
    document = serializers.FileField(required=False, allow_null=True, write_only=True,
                                     help_text="The policy document (PDF or image, judged by the bytes; R12).")

    class Meta(PolicySerializer.Meta):
        pass


class PolicyDocumentSerializer(serializers.Serializer):
    """POST insurance/policies/{id}/document/: add or replace the policy document (multipart ``document``)."""
    document = serializers.FileField(help_text="PDF or image, judged by the bytes, at most 20 MB (R12).")


class ClaimSerializer(serializers.ModelSerializer):
    milestone = serializers.PrimaryKeyRelatedField(queryset=Milestone.objects.all(), required=False,
                                                   allow_null=True)
    assessed_loss = MoneyField()
    paid_amount = MoneyField(default="0.00")
    project = serializers.IntegerField(source="policy.project_id", read_only=True)
    loss_year = serializers.IntegerField(
        required=False, allow_null=True, min_value=2000, max_value=2100,
        help_text="I10: the year of the input the claim compensates; defaults to the year of the milestone's "
                  "decision, else of the payment. Not before the project's start.")

    class Meta:
        model = InsuranceClaim
        fields = ["id", "policy", "project", "milestone", "description", "assessed_loss", "paid_amount", "paid_on",
                  "loss_year", "created_at"]
        read_only_fields = ["created_at"]


class AuditSerializer(serializers.ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    audited_input = MoneyField()
    ledger_input = serializers.DecimalField(**MONEY, read_only=True)
    enterprise = serializers.IntegerField(source="project.enterprise_id", read_only=True)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    report = serializers.SerializerMethodField()

    class Meta:
        model = AnnualAudit
        fields = ["id", "project", "enterprise", "year", "ledger_input", "audited_input", "reason",
                  "expert_evaluation", "report", "opinion", "opinion_at", "recorded_by", "recorded_at"]
        read_only_fields = ["opinion", "opinion_at", "recorded_by", "recorded_at"]
        validators = []  # one row per project and year: a second POST corrects the first (audit_save)

    def get_report(self, obj) -> str | None:
        """R12: the scoped download of the audit report (audits/{id}/report/)."""
        return api_url(self.context.get("request"), "audit-report", obj.pk, obj.report)


class OpinionSerializer(serializers.Serializer):
    opinion = serializers.CharField()


class OtherSubsidySerializer(serializers.ModelSerializer):
    amount = MoneyField()
    premium_covered = MoneyField(default="0.00")

    class Meta:
        model = OtherPolicySubsidy
        fields = ["id", "enterprise", "policy_name", "issuer", "type", "year", "amount", "premium_covered", "policy",
                  "created_at"]
        read_only_fields = ["created_at"]


class FigureSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**MONEY, read_only=True)
    uncapped_amount = serializers.DecimalField(**MONEY, read_only=True)
    paid_amount = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True,
        help_text="Cash paid on this version (null until paid); with `netted`, what this payment settled.")
    recovery = serializers.DecimalField(
        **MONEY, read_only=True, help_text="I10: what was paid for the year above this version (追回).")
    recovered = serializers.DecimalField(
        **MONEY, read_only=True, help_text="I10: how much of `recovery` has been netted from later payments.")
    recovery_outstanding = serializers.DecimalField(
        **MONEY, read_only=True, help_text="I10: what of the recovery is still owed (approved versions only).")
    netted = serializers.DecimalField(
        **MONEY, read_only=True, help_text="I10: recoveries netted from this payment (listed in `netted_from`).")
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    scheme_name = serializers.CharField(source="scheme.name", read_only=True)

    class Meta:
        fields = ["id", "enterprise", "enterprise_name", "year", "version", "amount", "uncapped_amount", "capped",
                  "trace", "state", "scheme", "scheme_name", "computed_at", "approved_by", "approved_at",
                  "paid_amount", "paid_on", "voucher", "paid_by", "recovery", "recovered", "recovery_outstanding",
                  "netted", "netted_from"]
        read_only_fields = fields


class GrantSerializer(FigureSerializer):
    class Meta(FigureSerializer.Meta):
        model = GrantComputation


class PremiumSerializer(FigureSerializer):
    class Meta(FigureSerializer.Meta):
        model = PremiumSubsidy


class ComputeSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class PaySerializer(serializers.Serializer):
    amount = MoneyField()
    paid_on = serializers.DateField()
    voucher = serializers.CharField(allow_blank=True, default="", max_length=64)
