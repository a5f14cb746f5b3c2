"""`milestones/{id}/` and `milestones/{id}/{action}/` (api.md). Each action validates input and calls one service."""
from __future__ import annotations

import json

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import MoneyField
from core.exceptions import DomainError
from core.idempotency import run_idempotently

from .. import milestones as ms
from ..models import ExpertAssignment
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


class MoneyInput(serializers.Serializer):
    amount = MoneyField(min_value=0)
    bank_ref = serializers.CharField(max_length=100)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class NotesField(serializers.JSONField):
    """JSON, or (multipart) JSON text: text nested too deep to decode is an error of this field, not a crash."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except RecursionError:
            raise serializers.ValidationError(_("须为 JSON：{目标: 说明} 或说明的列表")) from None


class ReportInput(serializers.Serializer):
    description = serializers.CharField()
    target_notes = NotesField(required=False, default=dict)

    def validate_target_notes(self, value):
        """{target: note} or a list of notes in the targets' order, as JSON or (multipart) as JSON text."""
        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except (ValueError, RecursionError):
                raise serializers.ValidationError(_("须为 JSON：{目标: 说明} 或说明的列表")) from None
        if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise serializers.ValidationError(_("须为 {目标: 说明}（说明为文本）或说明文本的列表"))


class ExtendInput(serializers.Serializer):
    due_date = serializers.DateField(required=False)
    balance_due_date = serializers.DateField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class BreachInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    repaid_amount = MoneyField(required=False, allow_null=True, default=None)


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


def _valid(serializer_class, data):
    s = serializer_class(data=data)
    s.is_valid(raise_exception=True)
    return s.validated_data


def _do(action: str, milestone, user, request):
    """Run one service; return (milestone, operation or None)."""
    data = request.data
    if action == "request_deposit":
        return ms.milestone_request_deposit(milestone=milestone, actor=user, **_valid(ReasonInput, data)), None
    if action in ("confirm_deposit", "confirm_balance"):
        v = _valid(MoneyInput, data)
        fn = ms.milestone_confirm_deposit if action == "confirm_deposit" else ms.milestone_confirm_balance
        return milestone, fn(milestone=milestone, actor=user, amount=v["amount"], bank_ref=v["bank_ref"])
    if action == "upload_receipt":
        upload = request.FILES.get("file")
        if upload is None:
            raise DomainError(_("须上传银行回单文件"), code="file_required", fields={"file": [_("必填")]})
        ms.milestone_upload_receipt(milestone=milestone, actor=user, file=upload)
        return milestone, None
    if action == "report_completion":
        v = _valid(ReportInput, data)
        return ms.milestone_report_completion(milestone=milestone, actor=user, description=v["description"],
                                              target_notes=v["target_notes"], files=request.FILES.getlist("files")), None
    if action == "review_met":
        return ms.milestone_review_met(milestone=milestone, actor=user, **_valid(ReasonInput, data)), None
    if action == "review_not_met":
        return ms.milestone_review_not_met(milestone=milestone, actor=user, **_valid(ReasonInput, data)), None
    if action == "release":
        return ms.milestone_release(milestone=milestone, actor=user)
    if action == "forfeit":
        return ms.milestone_forfeit(milestone=milestone, actor=user)
    if action == "extend":
        v = _valid(ExtendInput, data)
        due = v.get("balance_due_date") or v.get("due_date")
        if due is None:
            raise DomainError(_("请填写新的截止日期"), code="due_date_required", fields={"due_date": [_("必填")]})
        return ms.milestone_extend(milestone=milestone, actor=user, due_date=due, reason=v["reason"]), None
    if action == "declare_breach":
        return ms.milestone_declare_breach(milestone=milestone, actor=user, **_valid(BreachInput, data)), None
    raise AssertionError(action)


ACTIONS = ("request_deposit", "confirm_deposit", "upload_receipt", "report_completion", "review_met",
           "review_not_met", "confirm_balance", "release", "forfeit", "extend", "declare_breach", "draw_expert")


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
                   parameters=[OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(ACTIONS))])
    def post(self, request, pk: int, action: str):
        if action not in ACTIONS:
            return Response({"code": "not_found", "detail": _("未知操作")}, status=404)
        visible = milestones_visible_to(request.user)
        milestone = get_object_or_404(visible, pk=pk)

        def handler():
            # The answer is the state at commit: an operation ordered here is executed by the
            # worker after the commit, so it is usually still ``requested`` (or awaiting a checker).
            with transaction.atomic():
                if action == "draw_expert":
                    return Response(self._drawn(visible, pk, ms.milestone_expert_draw(milestone=milestone,
                                                                                   actor=request.user)))
                _m, op = _do(action, milestone, request.user, request)
                return Response(self._body(visible, pk, op))

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
