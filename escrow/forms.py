from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import MoneyFormField

from .choices import AccountKind


class TopUpForm(forms.Form):
    amount = MoneyFormField(label=_("注资金额（元）"), min_value=Decimal("0.01"))
    decided_on = forms.DateField(label=_("决定日期"), widget=forms.DateInput(attrs={"type": "date"}))
    decision_ref = forms.CharField(label=_("决定文号"), max_length=100, required=False)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # Generated when the form is shown: a double submit posts the same key and is recorded once.
    token = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex, max_length=64)


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=_("银行对账单（CSV：date, amount, direction, bank_ref, counterparty）"))


class AccountFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=[("", _("全部"))] + list(AccountKind.choices), required=False)
    code = forms.CharField(label=_("科目代码"), required=False)


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
