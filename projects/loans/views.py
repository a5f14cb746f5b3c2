"""Browser side of the guarantee loans (R10): the project page's loans section posts here."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.forms import MONEY_HELP

from ..selectors import project_get_visible
from ..views import page
from . import services
from .models import TERM_MAX
from .selectors import loans_visible_to
from .services import LOAN


class LoanForm(forms.Form):
    """Shapes only; the amount is read by ``core.money.parse_money`` in the service (I4, R10)."""

    lender = forms.CharField(label=gettext_lazy("贷款银行"), max_length=200)
    guarantor = forms.CharField(label=gettext_lazy("担保机构"), max_length=200)
    amount = forms.CharField(label=gettext_lazy("贷款金额（元）"), max_length=40, help_text=MONEY_HELP,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    rate = forms.DecimalField(label=gettext_lazy("年利率（%）"), max_digits=6, decimal_places=2)
    term_months = forms.IntegerField(label=gettext_lazy("期限（月）"), min_value=1, max_value=TERM_MAX)
    purpose = forms.CharField(label=gettext_lazy("贷款用途"), widget=forms.Textarea(attrs={"rows": 2}))


def _back(project_id: int):
    return redirect(reverse("projects:detail", args=[project_id]) + "#loans")


@page
@require_POST
def loan_create(request, pk: int):
    project = project_get_visible(request.user, pk)
    form = LoanForm(request.POST)
    if not form.is_valid():
        sep, colon = pgettext("标点", "；"), pgettext("标点", "：")
        messages.error(request, sep.join(f"{form.fields[f].label}{colon}{m}"
                                         for f, errs in form.errors.items() for m in errs))
        return _back(project.pk)
    try:
        services.loan_create(project=project, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("贷款已登记，待区科技局推荐"))
    return _back(project.pk)


@page
@require_POST
def loan_action(request, pk: int, action: str):
    if action not in LOAN:
        raise Http404
    loan = loans_visible_to(request.user).filter(pk=pk).first()
    if loan is None:
        raise Http404
    try:
        services.loan_act(loan=loan, actor=request.user, action=action, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("操作已完成"))
    return _back(loan.project_id)
