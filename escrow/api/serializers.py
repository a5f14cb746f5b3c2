from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from core.api.fields import MoneyField
from escrow.models import Account, JournalEntry, MoneyOperation, PoolTranche, Posting

Money = dict(max_digits=18, decimal_places=2, coerce_to_string=True)


class AccountSerializer(serializers.ModelSerializer):
    balance = serializers.DecimalField(**Money, read_only=True)
    project = serializers.IntegerField(source="project_ref", read_only=True)

    class Meta:
        model = Account
        fields = ["id", "code", "kind", "name", "owner", "project", "currency", "balance"]


class PostingSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.code")
    amount = serializers.DecimalField(**Money)

    class Meta:
        model = Posting
        fields = ["account", "amount"]


class EntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)
    operation = serializers.SerializerMethodField()
    postings = PostingSerializer(many=True)

    class Meta:
        model = JournalEntry
        fields = ["id", "created_at", "memo", "actor", "reverses", "operation", "postings"]

    def get_operation(self, entry) -> int | None:
        op = getattr(entry, "operation", None)
        return op.pk if op else None


class OperationSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**Money)
    ordered_by = serializers.CharField(source="ordered_by.username", default=None)
    executed_by = serializers.CharField(source="executed_by.username", default=None)
    confirmed_by = serializers.CharField(source="confirmed_by.username", default=None)
    rejected_by = serializers.CharField(source="rejected_by.username", default=None)
    project = serializers.IntegerField(source="project_ref", default=None)

    class Meta:
        model = MoneyOperation
        fields = ["id", "kind", "amount", "state", "memo", "purpose", "context", "project", "reference", "bank_ref",
                  "requires_confirmation", "failure_reason", "ordered_by", "executed_by", "confirmed_by",
                  "rejected_by", "entry",
                  "attempts", "execution_errors", "created_at", "dispatched_at", "finished_at"]
        read_only_fields = fields


class RejectSerializer(serializers.Serializer):
    """The second operator's refusal of an order awaiting confirmation: why (required)."""

    reason = serializers.CharField(max_length=2000)


class PoolSerializer(serializers.Serializer):
    funding = serializers.DecimalField(**Money)
    available = serializers.DecimalField(**Money)
    advanced = serializers.DecimalField(**Money)
    losses = serializers.DecimalField(**Money)
    utilisation = serializers.DecimalField(max_digits=7, decimal_places=4, coerce_to_string=True)


class PoolPointSerializer(serializers.Serializer):
    entry = serializers.IntegerField(source="entry_id")
    at = serializers.DateTimeField()
    memo = serializers.CharField()
    funding = serializers.DecimalField(**Money)
    available = serializers.DecimalField(**Money)
    advanced = serializers.DecimalField(**Money)
    losses = serializers.DecimalField(**Money)


class TopUpSerializer(serializers.ModelSerializer):
    amount = MoneyField(min_value=Decimal("0.01"))
    operation = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = PoolTranche
        fields = ["id", "amount", "decided_on", "decision_ref", "note", "operation", "created_by", "created_at"]
        read_only_fields = ["id", "operation", "created_by", "created_at"]

    def get_operation(self, tranche) -> dict:
        return {"id": tranche.operation_id, "state": tranche.operation.state}
