"""The finance bureau's payment of an approved figure, recoveries netted from it (I10, R17)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.choices import Role
from core.exceptions import DomainError, TransitionNotAllowed
from core.money import ZERO, format_amount, parse_money
from core.permissions import require
from core.services import audit_record, notify, users_of

from .. import permissions as perms
from ..choices import RunKind
from ..models import GrantComputation, PremiumSubsidy, SubsidyFigure
from ._common import CS, as_text, check_not_blacklisted, label_of

FIGURE_MODELS = (GrantComputation, PremiumSubsidy)  # lock order: grants before premiums, each in pk order


def _kind_of(model) -> str:
    return RunKind.GRANT if model is GrantComputation else RunKind.PREMIUM


@dataclass
class Settlement:
    """I10: what paying ``figure`` now means: its due, the recoveries netted from it, the cash to pay."""
    due: Decimal
    netted: Decimal
    cash: Decimal
    recoveries: list  # [(figure, amount netted from it)]


def _outstanding_recoveries(enterprise_id: int, *, exclude, lock: bool) -> list:
    """Approved versions of the enterprise with a recovery still owed, oldest year first (both kinds)."""
    found = []
    for model in FIGURE_MODELS:
        qs = model.objects.filter(enterprise_id=enterprise_id, state=CS.APPROVED, recovery__gt=0)
        if lock:
            qs = qs.select_for_update().order_by("pk")
        found += [r for r in qs if r.recovery_outstanding > 0 and r != exclude]
    return sorted(found, key=lambda r: (r.year, _kind_of(type(r)), r.pk))


def figure_settlement(figure: SubsidyFigure, *, lock: bool = False) -> Settlement:
    """I10: the due amount of an approved figure, less the enterprise's outstanding recoveries (netted from
    its next payment, never lost, never paid twice)."""
    due = figure.due
    recoveries, left = [], max(due, ZERO)
    for r in _outstanding_recoveries(figure.enterprise_id, exclude=figure, lock=lock):
        take = min(left, r.recovery_outstanding)
        if take <= 0:
            break
        recoveries.append((r, take))
        left -= take
    netted = sum((t for _r, t in recoveries), ZERO)
    return Settlement(due=due, netted=netted, cash=max(due, ZERO) - netted, recoveries=recoveries)


def _lock_for_payment(figure: SubsidyFigure) -> None:
    """Lock the year's versions of the figure and the enterprise's approved rows of both kinds, grants
    first, each in pk order: two payments cannot both see "nothing paid yet" or net the same recovery."""
    for model in FIGURE_MODELS:
        qs = model.objects.filter(enterprise_id=figure.enterprise_id, state=CS.APPROVED)
        if model is type(figure):
            qs = qs | model.objects.filter(enterprise_id=figure.enterprise_id, year=figure.year)
        list(qs.select_for_update().order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def figure_pay(*, figure: SubsidyFigure, actor, amount: Decimal, paid_on: date, voucher: str) -> SubsidyFigure:
    """The finance officer records the payment of an approved figure (amount, date, voucher).

    I10: the enterprise's outstanding recoveries (approved versions below what was paid) are netted from
    this payment; the amount paid is the due less what is netted, and the recoveries are settled with it.
    R17: a blacklisted enterprise is paid nothing.
    """
    require(perms.can_pay_figure(actor))
    model = type(figure)
    _lock_for_payment(figure)
    fig = model.objects.select_related("enterprise").get(pk=figure.pk)
    if fig.state != CS.APPROVED:
        raise TransitionNotAllowed(_("当前状态为“%(s)s”，只有已审定的金额可以登记拨付") % {"s": fig.get_state_display()})
    check_not_blacklisted(fig.enterprise)
    amount = parse_money(amount, field="amount")
    plan = figure_settlement(fig, lock=True)
    if plan.due < 0:
        raise DomainError(_("本版本低于已拨付金额，差额 ¥%(r)s 须追回，将从该企业下一笔拨付中抵扣")
                          % {"r": format_amount(-plan.due)}, code="recovery_pending", rule="I10")
    if amount != plan.cash:
        detail = _("拨付金额 ¥%(a)s 与应付金额 ¥%(d)s 不一致") % {"a": format_amount(amount), "d": format_amount(plan.cash)}
        if plan.netted:
            detail += _("（审定应付 ¥%(due)s，抵扣追回款 ¥%(n)s）") % {"due": format_amount(plan.due),
                                                                   "n": format_amount(plan.netted)}
        raise DomainError(detail, code="amount_mismatch", rule="I10" if plan.netted else None,
                          fields={"amount": [_("须等于应付金额 ¥%(c)s") % {"c": format_amount(plan.cash)}]})
    if plan.cash > 0 and not voucher.strip():
        raise DomainError(_("请填写凭证号"), code="voucher_required", fields={"voucher": [_("请填写凭证号")]})
    voucher = voucher.strip()
    for rec, take in plan.recoveries:
        _settle_recovery(rec, take, actor=actor, against=fig, paid_on=paid_on, voucher=voucher)
    fig.netted = plan.netted
    fig.netted_from = [{"kind": _kind_of(type(r)), "id": r.pk, "year": r.year, "version": r.version,
                        "amount": as_text(t)} for r, t in plan.recoveries]
    fig.pay(by=actor, amount=amount, on=paid_on, voucher=voucher)
    fig.save(update_fields=["state", "paid_by", "paid_amount", "paid_on", "voucher", "netted", "netted_from"])
    audit_record(actor=actor, target=fig, action="pay", from_state=CS.APPROVED, to_state=CS.PAID,
                 data={"amount": as_text(amount), "paid_on": paid_on.isoformat(), "voucher": voucher,
                       "due": as_text(plan.due), "netted": as_text(plan.netted)})
    paid = {"year": fig.year, "what": model._meta.verbose_name, "a": format_amount(amount), "n": format_amount(plan.netted)}
    notify(users=users_of(fig.enterprise, Role.ENTERPRISE), verb="subsidy_paid", params=paid,
           msg=gettext_noop("%(year)s 年度%(what)s已拨付 ¥%(a)s（已抵扣追回款 ¥%(n)s）") if plan.netted
           else gettext_noop("%(year)s 年度%(what)s已拨付 ¥%(a)s"))
    return fig


def _settle_recovery(rec: SubsidyFigure, take: Decimal, *, actor, against: SubsidyFigure, paid_on: date,
                     voucher: str) -> None:
    """I10: ``take`` of ``rec``'s recovery was netted from the payment of ``against``; once the whole
    recovery is settled the version is closed as paid (nothing more is paid on it)."""
    rec.recovered += take
    fields = ["recovered"]
    if rec.recovered == rec.recovery:
        rec.pay(by=actor, amount=ZERO, on=paid_on, voucher=voucher)
        fields += ["state", "paid_by", "paid_amount", "paid_on", "voucher"]
    rec.save(update_fields=fields)
    audit_record(actor=actor, target=rec, action="recovery_netted", from_state=CS.APPROVED, to_state=rec.state,
                 reason=_("从 %(y)s 年度%(what)s的拨付中抵扣") % {"y": against.year, "what": label_of(type(against))},
                 data={"amount": as_text(take), "against": against.pk, "recovered": as_text(rec.recovered),
                       "recovery": as_text(rec.recovery)})
