"""Who may record a guarantee loan and move it (R10), with the reason when not.

- The enterprise records a loan against its own project (``can_record``); it
  holds the loan contract, so it also reports the lender's decision (granted,
  declined), the repayment and a default (``can_report``).
- The bureau recommends (``can_recommend``), may decline to recommend, and may
  record any later step itself when the lender or guarantor tells it first;
  as everywhere, never for a project its own organisation is party to.
- The platform and the other oversight roles read loans, never move them.

Which project states allow a new loan is the service's question (R10), the
loan's own state the FSM's (409).
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from core.choices import Role
from core.permissions import ALLOW, Decision, deny, has_role

from ..models import Project
from ..permissions import bureau_decision
from .models import GuaranteeLoan, LoanState


def _enterprise_of(user, project: Project) -> bool:
    return has_role(user, Role.ENTERPRISE) and bool(user.organization_id) and user.organization_id == project.enterprise_id


def _bureau_for(user, project: Project) -> Decision:
    return bureau_decision(user, project, not_reviewer=_("仅区科技局审核人员可以推荐政策性融资担保贷款"),
                           recused=_("回避：不得办理本单位参与项目的贷款"))


def can_record(user, project: Project) -> Decision:
    if not has_role(user, Role.ENTERPRISE):
        return deny(_("仅企业人员可以登记政策性融资担保贷款"))
    if not _enterprise_of(user, project):
        return deny(_("只能为本企业的项目登记贷款"))
    return ALLOW


def can_recommend(user, loan: GuaranteeLoan) -> Decision:
    return _bureau_for(user, loan.project)


def can_report(user, loan: GuaranteeLoan) -> Decision:
    """The lender's decision, the repayment, a default: the borrowing enterprise or the bureau."""
    if _enterprise_of(user, loan.project):
        return ALLOW
    if has_role(user, Role.REVIEWER):
        return _bureau_for(user, loan.project)
    return deny(_("仅借款企业或区科技局可以登记贷款结果"))


def can_decline(user, loan: GuaranteeLoan) -> Decision:
    """Before a recommendation only the bureau can refuse one; after it, the lender's refusal is reported."""
    if loan.state == LoanState.APPLIED:
        return _bureau_for(user, loan.project)
    return can_report(user, loan)
