"""Serializers of the proposal API (api.md). Money is a string with two decimals; errors name rules."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import serializers

from core.api.fields import MoneyField
from core.models import Organization
from core.permissions import is_oversight

from ..choices import Mode
from ..models import Attachment, ExpertAssignment, Milestone, Project


def money_out(**kwargs):
    return serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True, **kwargs)


def money_in(**kwargs):
    # Text only, read by core.money.parse_money: a third decimal is refused naming the rule (I4).
    return MoneyField(**kwargs)


class MilestoneInputSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=200)
    targets = serializers.CharField(required=False, allow_blank=True, default="")
    deliverables = serializers.CharField(required=False, allow_blank=True, default="")
    amount = money_in()
    deposit_amount = money_in()
    start_date = serializers.DateField()
    due_date = serializers.DateField()


class ProjectWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    platform = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(kind="platform"))
    mode = serializers.ChoiceField(choices=Mode.choices)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    total_amount = money_in()
    equipment_amount = money_in(required=False, default="0.00")
    budget = money_in()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    ip_terms = serializers.CharField(required=False, allow_blank=True, default="")
    profit_sharing = serializers.CharField(required=False, allow_blank=True, default="")
    # R9, R12: an insured proposal is submitted only with its policy on file (projects/{id}/attachments/).
    insured = serializers.BooleanField(required=False, default=False)
    milestones = MilestoneInputSerializer(many=True, required=False)


class ProjectMilestoneSerializer(serializers.ModelSerializer):
    """A milestone inside a project answer (its own endpoint is `milestones/{id}/`)."""

    custody_balance = serializers.SerializerMethodField()

    class Meta:
        model = Milestone
        fields = ["id", "seq", "title", "targets", "deliverables", "amount", "deposit_amount", "start_date",
                  "due_date", "state", "paid_in", "released_amount", "forfeited_amount", "refunded_amount",
                  "custody_balance", "payment_reference"]

    def get_custody_balance(self, obj: Milestone) -> str:
        from escrow import accounts
        from escrow.selectors import account_balance

        balances = self.context.get("custody_balances")
        code = accounts.custody(obj.project_id, obj.seq)
        value = balances.get(code, 0) if balances is not None else account_balance(code)
        return f"{value:.2f}"


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at", "milestone", "url"]

    def get_url(self, obj: Attachment) -> str:
        return reverse("projects:attachment", args=[obj.pk])


class ProjectSerializer(serializers.ModelSerializer):
    eligible_amount = money_out()
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    platform_name = serializers.CharField(source="platform.name", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    milestones = ProjectMilestoneSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "state", "state_display", "title", "summary", "mode", "enterprise", "enterprise_name",
                  "platform", "platform_name", "scheme", "total_amount", "equipment_amount", "eligible_amount",
                  "budget", "start_date", "end_date", "ip_terms", "profit_sharing", "insured", "notice_number",
                  "mean_score",
                  "review_round", "state_reason", "submitted_at", "approved_at", "created_at", "milestones", "attachments"]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    """An expert's review; the parties see scores and opinions, not who gave them."""

    expert = serializers.SerializerMethodField()
    expert_name = serializers.SerializerMethodField()
    scores = serializers.SerializerMethodField()
    score = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)

    class Meta:
        model = ExpertAssignment
        fields = ["id", "expert", "expert_name", "status", "round", "scores", "score", "opinion", "conflict_reason",
                  "assigned_at", "scored_at"]

    def _named(self, obj) -> bool:
        user = self.context["request"].user
        return is_oversight(user) or obj.expert_id == user.pk

    def get_expert(self, obj) -> int | None:
        return obj.expert_id if self._named(obj) else None

    def get_expert_name(self, obj) -> str:
        return (obj.expert.get_full_name() or obj.expert.username) if self._named(obj) else _("评审专家")

    def get_scores(self, obj) -> dict:
        return {"feasibility": obj.feasibility, "terms": obj.terms, "cost": obj.cost}


class ScoresSerializer(serializers.Serializer):
    feasibility = serializers.IntegerField()
    terms = serializers.IntegerField()
    cost = serializers.IntegerField()


class ReviewInputSerializer(serializers.Serializer):
    scores = ScoresSerializer(required=False)
    opinion = serializers.CharField(required=False, allow_blank=True, default="")
    conflict_of_interest = serializers.BooleanField(required=False, default=False)
    conflict_with = serializers.ChoiceField(choices=["enterprise", "platform"], required=False, default="enterprise")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonInputSerializer(serializers.Serializer):
    """The input of an action that takes no more than a reason."""

    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ActionInputSerializer(ReasonInputSerializer):
    """The input of ``projects/{id}/{action}/``: a reason, and for close and terminate the repayment."""

    # close / terminate: what the platform repaid of the pool's advance (I2); absent → all of it.
    repaid_amount = money_in(required=False, allow_null=True)


class HistorySerializer(serializers.Serializer):
    """One transition of the project (api.md: from, to, action, actor, at, reason)."""

    action = serializers.CharField()
    actor = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: declare it and "to" by name.
        fields["from"] = serializers.CharField(allow_blank=True)
        fields["to"] = serializers.CharField()
        return fields

    def to_representation(self, event) -> dict:
        return {"from": event.from_state, "to": event.to_state, "action": event.action,
                "actor": event.actor.username if event.actor_id else None,
                "at": serializers.DateTimeField().to_representation(event.at), "reason": event.reason}


class PassedOverSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    mean_score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    budget = serializers.DecimalField(max_digits=18, decimal_places=2)


class ApprovalOutcomeSerializer(serializers.Serializer):
    """What 立项 would do now (I2, I14, R13): ``approve``, ``waitlist`` or ``refuse``, why, and which
    higher-ranked waitlisted projects an approval would pass over (I14)."""

    project = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["approve", "waitlist", "refuse"])
    text = serializers.CharField()
    code = serializers.CharField(allow_blank=True)
    rule = serializers.CharField(allow_blank=True)
    available = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="the pool's available balance")
    passed_over = PassedOverSerializer(many=True)
    passed_over_text = serializers.CharField(allow_blank=True)

    def to_representation(self, instance):
        project, outcome = instance
        return super().to_representation({
            "project": project.pk, "outcome": outcome.outcome, "text": outcome.text, "code": outcome.code,
            "rule": outcome.rule, "available": outcome.available, "passed_over": outcome.passed_over,
            "passed_over_text": outcome.passed_over_text})
