"""`milestones/{id}/` and `milestones/{id}/{action}/` (api.md).

The actions are the registry's (``registry.MILESTONE``): each reads its serializer and calls its service.
"""
from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import MoneyField
from core.idempotency import run_idempotently

from ..models import ExpertAssignment
from .registry import MILESTONE, operation_of, perform
from .selectors import milestones_visible_to


class OperationBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.CharField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)


class MilestoneDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    seq = serializers.IntegerField()
    title = serializers.CharField()
    state = serializers.CharField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    deposit_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    paid_in = serializers.DecimalField(max_digits=18, decimal_places=2)
    balance_due = serializers.SerializerMethodField()
    custody_balance = serializers.SerializerMethodField()
    released_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    forfeited_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    refunded_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    payment_reference = serializers.CharField()
    start_date = serializers.DateField()
    due_date = serializers.DateField()
    reported_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField()
    decision_reason = serializers.CharField()
    balance_due_date = serializers.DateField(help_text="I15: the balance must be confirmed by this day")
    breached_at = serializers.DateTimeField(help_text="I15: when the bureau declared the enterprise in breach")
    breach_reason = serializers.CharField()
    breach_repaid_amount = serializers.DecimalField(max_digits=18, decimal_places=2,
                                                    help_text="I2: what the platform repays of the advance")

    def get_custody_balance(self, obj) -> str:
        value = getattr(obj, "custody_balance", None)
        return f"{value or 0:.2f}"

    def get_balance_due(self, obj) -> str:
        return f"{obj.amount - obj.paid_in if obj.state in ('balance_due', 'balance_overdue') else 0:.2f}"


class MilestoneActionDoc(serializers.Serializer):
    """The body of any action (each action reads the fields it needs)."""

    amount = MoneyField(required=False, help_text="confirm_deposit / confirm_balance")
    bank_ref = serializers.CharField(required=False, help_text="confirm_deposit / confirm_balance")
    reason = serializers.CharField(required=False,
                                   help_text="review_met / review_not_met / extend / request_deposit / declare_breach")
    description = serializers.CharField(required=False, help_text="report_completion")
    target_notes = serializers.JSONField(required=False, help_text="report_completion: {target: note}")
    due_date = serializers.DateField(required=False, help_text="extend (overdue: the new due date; balance_overdue: "
                                                               "the new balance due date)")
    balance_due_date = serializers.DateField(required=False, help_text="extend from balance_overdue (I15)")
    repaid_amount = MoneyField(required=False, allow_null=True,
                               help_text="declare_breach: what the platform repays of the pool advance (I2); "
                                         "absent or null: all of it")


class MilestoneExpertSerializer(serializers.Serializer):
    """An expert assigned to a milestone's acceptance (R16, I17); only the reviewer sees it."""

    id = serializers.IntegerField()
    expert = serializers.IntegerField(source="expert_id")
    expert_name = serializers.SerializerMethodField()
    expert_category = serializers.CharField(source="expert.expert_category")
    status = serializers.CharField()
    score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    assigned_at = serializers.DateTimeField()

    def get_expert_name(self, obj) -> str:
        return obj.expert.get_full_name() or obj.expert.username


class MilestoneActionResultSerializer(MilestoneDetailSerializer):
    operation = OperationBriefSerializer(required=False)
    assignment = MilestoneExpertSerializer(required=False, help_text="draw_expert: the expert drawn (I17)")
    assignments = MilestoneExpertSerializer(many=True, required=False,
                                            help_text="draw_expert: every expert assigned to this milestone")


class MilestoneDetailView(APIView):
    """GET a milestone: state, amount, deposit_amount, paid_in, custody_balance, dates."""

    @extend_schema(responses=MilestoneDetailSerializer)
    def get(self, request, pk: int):
        milestone = get_object_or_404(milestones_visible_to(request.user), pk=pk)
        return Response(MilestoneDetailSerializer(milestone).data)


class MilestoneActionView(APIView):
    """POST an action; `release`/`forfeit` (and confirmations) answer with the milestone and its operation,
    `draw_expert` (the reviewer, I17) with the milestone, the expert drawn and all its assignments.

    An ``Idempotency-Key`` header makes a repeat return the first response; the
    same key with another body is 409 (core.idempotency).
    """

    @extend_schema(request=MilestoneActionDoc, responses=MilestoneActionResultSerializer,
                   parameters=[OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                enum=MILESTONE.names())])
    def post(self, request, pk: int, action: str):
        if action not in MILESTONE:
            return Response({"code": "not_found", "detail": _("未知操作")}, status=404)
        act = MILESTONE.get(action)
        visible = milestones_visible_to(request.user)
        milestone = get_object_or_404(visible, pk=pk)

        def handler():
            # The answer is the state at commit: an operation ordered here is executed by the
            # worker after the commit, so it is usually still ``requested`` (or awaiting a checker).
            with transaction.atomic():
                data = act.serializer(data=request.data)
                data.is_valid(raise_exception=True)
                result = perform(act, milestone, request.user, dict(data.validated_data))
                if isinstance(result, ExpertAssignment):
                    return Response(self._drawn(visible, pk, result))
                return Response(self._body(visible, pk, operation_of(result)))

        return run_idempotently(request, handler)

    @classmethod
    def _drawn(cls, visible, pk, assignment):
        """I17: the milestone, the expert just drawn and everyone assigned to its acceptance."""
        assigned = ExpertAssignment.objects.filter(milestone_id=pk).select_related("expert").order_by("pk")
        return {**cls._body(visible, pk, None), "assignment": MilestoneExpertSerializer(assignment).data,
                "assignments": MilestoneExpertSerializer(assigned, many=True).data}

    @staticmethod
    def _body(visible, pk, op):
        from escrow.models import MoneyOperation

        body = MilestoneDetailSerializer(visible.get(pk=pk)).data
        if op is not None:
            op = MoneyOperation.objects.get(pk=op.pk)
            body = {**body, "operation": OperationBriefSerializer(op).data}
        return body
