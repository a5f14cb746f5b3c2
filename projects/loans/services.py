"""Writes of the guarantee loans (R10): record, then one service per transition.

Each is one transaction: lock the row, check who (403), the state (409) and the
rule (400, naming the field), call the FSM transition, save, write the audit row
and tell whoever acts next. No ledger posting: the loan is lent by a bank and
guaranteed by a guarantor outside the escrow account, so our books must not move.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import django_fsm
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from core.choices import Role
from core.exceptions import ConflictError, DomainError, TransitionNotAllowed
from core.money import format_cny, parse_money
from core.permissions import has_role, require
from core.services import record_event
from core.workflow import Action, Registry

from ..choices import ProjectState
from ..services._common import lock_project, require_reason, to_enterprise, to_reviewers
from . import permissions as perms
from .models import RATE_MAX, TERM_MAX, GuaranteeLoan, LoanState

# A loan backs a project in force: approved (the notice is the lender's evidence) or active.
RECORDABLE_STATES = (ProjectState.APPROVED, ProjectState.ACTIVE)


def _invalid(field: str, message: str, code: str = "invalid_loan"):
    return DomainError(message, code=code, rule="R10", fields={field: [message]})


def _text(value, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise _invalid(field, _("%(f)s必须填写") % {"f": label})
    return value


def _rate(value) -> Decimal:
    if isinstance(value, float):
        value = str(value)
    try:
        rate = Decimal(str(value).strip().removesuffix("%"))
    except (InvalidOperation, ValueError):
        raise _invalid("rate", _("年利率格式不正确")) from None
    if not rate.is_finite():
        raise _invalid("rate", _("年利率格式不正确"))
    # the range first: quantizing "1e100" would itself fail (beyond the context's precision)
    if rate <= 0 or rate > RATE_MAX:
        raise _invalid("rate", _("年利率须大于 0%% 且不超过 %(max)s%%") % {"max": RATE_MAX})
    if rate != rate.quantize(Decimal("0.01")):
        raise _invalid("rate", _("年利率最多两位小数"))
    return rate.quantize(Decimal("0.01"))


def _term(value) -> int:
    try:
        term = int(value)
    except (TypeError, ValueError):
        raise _invalid("term_months", _("期限须为整数月")) from None
    if str(value).strip().lstrip("+") not in (str(term), f"{term}.0") or not 1 <= term <= TERM_MAX:
        raise _invalid("term_months", _("期限须为 1 至 %(max)s 个月") % {"max": TERM_MAX})
    return term


def loan_validate(*, lender, guarantor, amount, rate, term_months, purpose) -> dict:
    """The loan's fields, checked (R10): each refusal names its field; nothing is written."""
    amount = parse_money(amount, field="amount")
    if amount <= 0:
        raise _invalid("amount", _("贷款金额必须大于 0"), code="invalid_amount")
    return {"lender": _text(lender, "lender", _("贷款银行")), "guarantor": _text(guarantor, "guarantor", _("担保机构")),
            "amount": amount, "rate": _rate(rate), "term_months": _term(term_months),
            "purpose": _text(purpose, "purpose", _("贷款用途"))}


@transaction.atomic
def loan_create(*, project, actor, lender: str, guarantor: str, amount, rate, term_months, purpose: str
                ) -> GuaranteeLoan:
    """The enterprise records a policy guarantee loan it applied for against its own approved or active project."""
    project = lock_project(project)
    require(perms.can_record(actor, project))
    if project.state not in RECORDABLE_STATES:
        raise ConflictError(_("只能为已立项或实施中的项目登记政策性融资担保贷款（当前为“%(s)s”）")
                            % {"s": project.get_state_display()}, code="loan_project_state", rule="R10")
    values = loan_validate(lender=lender, guarantor=guarantor, amount=amount, rate=rate, term_months=term_months,
                           purpose=purpose)
    loan = GuaranteeLoan.objects.create(project=project, created_by=actor, **values)
    record_event(actor=actor, target=loan, action="loan_applied", to_state=loan.state,
                 data={"project": project.pk, "amount": str(loan.amount)},
                 notices=[to_reviewers(project, "loan_applied",
                                       gettext_noop("%(p)s 登记了政策性融资担保贷款 %(a)s（%(l)s），待推荐"),
                                       p=project.title, a=format_cny(loan.amount), l=loan.lender)])
    return loan


def _lock_loan(loan: GuaranteeLoan | int) -> GuaranteeLoan:
    pk = loan.pk if isinstance(loan, GuaranteeLoan) else loan
    return (GuaranteeLoan.objects.select_for_update(no_key=True, of=("self",))
            .select_related("project", "project__enterprise", "project__platform").get(pk=pk))


def _move(loan: GuaranteeLoan | int, *, actor, action: str, reason: str = "") -> GuaranteeLoan:
    loan = _lock_loan(loan)
    act = LOAN.get(action)
    label, needs_reason = act.label, act.needs_reason
    require(act.permission(actor, loan))
    transition = getattr(loan, action)
    if not django_fsm.can_proceed(transition):
        raise TransitionNotAllowed(_("贷款当前状态为“%(s)s”，不能%(a)s") % {"s": loan.get_state_display(), "a": label},
                                   code="transition_not_allowed")
    reason = require_reason(reason, action=str(label), rule="R10") if needs_reason else (reason or "").strip()
    if action == "recommend" and loan.project.enterprise.blacklisted:
        raise DomainError(_("该企业已列入黑名单，不予推荐贷款"), code="blacklisted", rule="R17")
    from_state = loan.state
    transition()
    loan.state_reason = reason
    loan.save(update_fields=["state", "state_reason", "updated_at"])
    record_event(actor=actor, target=loan, action=f"loan_{action}", from_state=from_state, to_state=loan.state,
                 reason=reason, data={"project": loan.project_id}, notices=_notices(loan, actor=actor, action=action,
                                                                                   label=label))
    return loan


def _notices(loan: GuaranteeLoan, *, actor, action: str, label) -> list:
    """The other side hears of each step; a default always reaches the bureau (R10). ``label`` is the action's
    lazy label, so it is read in each reader's language."""
    project, amount = loan.project, format_cny(loan.amount)
    by_bureau = has_role(actor, Role.REVIEWER) and actor.organization_id != project.enterprise_id
    if action == "default":
        msg = gettext_noop("%(p)s 的政策性融资担保贷款已违约（%(l)s %(a)s）：%(r)s")
        told = [to_reviewers] + ([to_enterprise] if by_bureau else [])
        return [to(project, "loan_defaulted", msg, p=project.title, l=loan.lender, a=amount, r=loan.state_reason)
                for to in told]
    to = to_enterprise if by_bureau else to_reviewers
    return [to(project, f"loan_{action}", gettext_noop("贷款 %(l)s %(a)s：%(label)s"), l=loan.lender, a=amount,
               label=label)]


def _service(action: str):
    """``loan_<action>(*, loan, actor, reason="")``: one transaction around ``_move``."""
    @transaction.atomic
    def service(*, loan, actor, reason: str = "") -> GuaranteeLoan:
        return _move(loan, actor=actor, action=action, reason=reason)

    service.__name__ = service.__qualname__ = f"loan_{action}"
    return service


loan_recommend = _service("recommend")  # applied → recommended: the bureau
loan_grant = _service("grant")  # recommended → granted: the enterprise reports the lender's decision (or the bureau)
loan_decline = _service("decline")  # applied → declined (the bureau) | recommended → declined (lender), with a reason
loan_repay = _service("repay")  # granted → repaid
loan_default = _service("default")  # granted → defaulted, with a reason; the bureau is told


# The loan's state machine, once: each action's service, permission, states, label and whether it needs a
# reason. The project page's loan panel, its POST and the API's ``loans/{id}/{action}/`` read it.
LOAN = Registry("loan", [
    Action("recommend", gettext_lazy("推荐"), service=loan_recommend, permission=perms.can_recommend,
           sources=[LoanState.APPLIED]),
    Action("grant", gettext_lazy("登记放款"), service=loan_grant, permission=perms.can_report,
           sources=[LoanState.RECOMMENDED]),
    Action("decline", gettext_lazy("登记未获贷款"), service=loan_decline, permission=perms.can_decline,
           sources=[LoanState.APPLIED, LoanState.RECOMMENDED], needs_reason=True),
    Action("repay", gettext_lazy("登记还清"), service=loan_repay, permission=perms.can_report,
           sources=[LoanState.GRANTED]),
    Action("default", gettext_lazy("报告违约"), service=loan_default, permission=perms.can_report,
           sources=[LoanState.GRANTED], needs_reason=True),
])


def loan_act(*, loan, actor, action: str, reason: str = "") -> GuaranteeLoan:
    """Run one loan action by name (the API's ``loans/{id}/{action}/`` and the project page)."""
    return LOAN.get(action).service(loan=loan, actor=actor, reason=reason)


def loan_actions(user, loan: GuaranteeLoan) -> list[dict]:
    """The actions this user may take on the loan now (the page shows only these)."""
    return [{"name": a.name, "label": a.label, "needs_reason": a.needs_reason} for a in LOAN
            if a.decision(user, loan)]
