"""What each milestone action reads: a serializer for the API, a form for the page.

Both give the service's keyword arguments (``kwargs``), so the page and the
API call a service the same way; the registry (``registry.py``) names them
per action. The services check everything again.
"""
from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext as _
from rest_framework import serializers

from core.api.fields import MoneyField
from core.exceptions import DomainError

from .common import target_list


def _file_required():
    return DomainError(_("须上传银行回单文件"), code="file_required", fields={"file": [_("必填")]})


def _due_date_required():
    return DomainError(_("请填写新的截止日期"), code="due_date_required", fields={"due_date": [_("必填")]})


# -- the API ----------------------------------------------------------------------------------
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


class ReceiptInput(serializers.Serializer):
    file = serializers.FileField(required=False, allow_null=True)

    def validate(self, attrs):
        if not attrs.get("file"):
            raise _file_required()
        return attrs


class ReportFilesInput(ReportInput):
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class ExtendDateInput(ExtendInput):
    def validate(self, attrs):
        due = attrs.pop("balance_due_date", None) or attrs.pop("due_date", None)
        attrs.pop("due_date", None)
        if due is None:
            raise _due_date_required()
        return {**attrs, "due_date": due}


# -- the page ---------------------------------------------------------------------------------
class ActionForm(forms.Form):
    """A page's input for one action on ``obj`` (a milestone or a project); ``kwargs()`` once valid."""

    def __init__(self, data=None, files=None, *, obj=None):
        super().__init__(data, files)
        self.obj = obj

    def kwargs(self) -> dict:
        return dict(self.cleaned_data)


class NoInputForm(ActionForm):
    pass


class ReasonForm(ActionForm):
    reason = forms.CharField(required=False, strip=False)


class ReceiptForm(ActionForm):
    file = forms.FileField(required=False)

    def kwargs(self) -> dict:
        if not self.cleaned_data.get("file"):
            raise _file_required()
        return {"file": self.cleaned_data["file"]}


class MoneyForm(ActionForm):
    """The amount as the bank shows it and the bank's reference, handed to the service as typed."""

    amount = forms.CharField(required=False)
    bank_ref = forms.CharField(required=False)


class ReportForm(ActionForm):
    """The page has one field per target (``target_0``, ``target_1`` …) and the evidence files."""

    description = forms.CharField(required=False)

    def kwargs(self) -> dict:
        targets = target_list(self.obj)
        return {"description": self.cleaned_data["description"],
                "target_notes": {t: self.data.get(f"target_{i}", "") for i, t in enumerate(targets)},
                "files": self.files.getlist("files") if self.files else []}


class ExtendForm(ReasonForm):
    due_date = forms.DateField(required=False)

    def kwargs(self) -> dict:
        if self.cleaned_data.get("due_date") is None:
            raise _due_date_required()
        return {"due_date": self.cleaned_data["due_date"], "reason": self.cleaned_data["reason"]}


class RepaymentForm(ReasonForm):
    """A reason and what the platform repays of the pool advance (blank: all of it, I2)."""

    repaid_amount = forms.CharField(required=False)

    def kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"], "repaid_amount": self.cleaned_data["repaid_amount"] or None}


class NoInput(serializers.Serializer):
    """An action that reads nothing beyond its path."""


class RepaymentInput(ReasonInput):
    repaid_amount = MoneyField(required=False, allow_null=True, default=None)
