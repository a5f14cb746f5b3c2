"""R10: a policy guarantee loan recorded against a project. Its FSM follows domain.md.

applied → recommended (by the bureau) → granted | declined → repaid | defaulted;
the bureau may also decline to recommend (applied → declined). The loan is a
record of financing arranged outside the scheme: it never posts to the ledger.
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import MoneyField

RATE_MAX = Decimal("24.00")  # percent a year: above it no policy loan is plausible (and courts cap private lending)
TERM_MAX = 120  # months: policy guarantee loans run for at most ten years


class LoanState(models.TextChoices):
    APPLIED = "applied", _("已申请")
    RECOMMENDED = "recommended", _("已推荐")
    GRANTED = "granted", _("已放款")
    DECLINED = "declined", _("未获贷款")
    REPAID = "repaid", _("已还清")
    DEFAULTED = "defaulted", _("已违约")


L = LoanState


class GuaranteeLoan(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="loans",
                                verbose_name=_("合作项目"))
    lender = models.CharField(_("贷款银行"), max_length=200)
    guarantor = models.CharField(_("担保机构"), max_length=200)
    amount = MoneyField(_("贷款金额"))
    rate = models.DecimalField(_("年利率（%）"), max_digits=5, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("期限（月）"))
    purpose = models.TextField(_("贷款用途"))
    state = FSMField(_("状态"), default=L.APPLIED, choices=L.choices, protected=True)
    state_reason = models.TextField(_("最近一次状态变更原因"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("填报人"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "projects"
        verbose_name = _("政策性融资担保贷款")
        verbose_name_plural = _("政策性融资担保贷款")
        ordering = ["project_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="loan_amount_positive"),
            models.CheckConstraint(condition=Q(rate__gt=0) & Q(rate__lte=RATE_MAX), name="loan_rate_in_range"),
            models.CheckConstraint(condition=Q(term_months__gte=1) & Q(term_months__lte=TERM_MAX),
                                   name="loan_term_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.lender} · {self.amount}"

    @transition(field=state, source=L.APPLIED, target=L.RECOMMENDED)
    def recommend(self) -> None:
        pass

    @transition(field=state, source=L.RECOMMENDED, target=L.GRANTED)
    def grant(self) -> None:
        pass

    @transition(field=state, source=[L.APPLIED, L.RECOMMENDED], target=L.DECLINED)
    def decline(self) -> None:
        pass

    @transition(field=state, source=L.GRANTED, target=L.REPAID)
    def repay(self) -> None:
        pass

    @transition(field=state, source=L.GRANTED, target=L.DEFAULTED)
    def default(self) -> None:
        pass
