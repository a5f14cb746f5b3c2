"""The milestone state machine's actions, and the milestone wing's project actions, in one list each.

Each ``Action`` names its service, its permission decision (``permissions.py``), its label, the states it
starts from, its input (``form`` for the page, ``serializer`` for the API, both in ``inputs.py``) and whether
it needs a reason. The milestone panel (``views.panel_context``), the page's POST and the API's
``milestones/{id}/{action}/`` read these lists; nothing else lists milestone actions.

``extra`` says what the panel needs beyond role and state: ``available(milestone, rows)`` (shown at all, e.g. only
while something is left to pay), ``money`` (greyed while a money operation of the milestone is in flight) and
``done`` (the page's message after success).
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.workflow import Action, Registry
from escrow.models import MoneyOperation

from ..choices import MilestoneState as M
from ..choices import ProjectState as P
from . import inputs
from . import permissions as perms
from .common import BALANCE_PAYABLE, EXPERT_DRAW_STATES, unsettled_before
from .deposits import (
    milestone_confirm_balance,
    milestone_confirm_deposit,
    milestone_request_deposit,
    milestone_upload_receipt,
)
from .lifecycle import (
    close_refusal,
    continue_refusal,
    project_close,
    project_continue,
    project_open_escrow,
    project_terminate,
)
from .overdue import milestone_declare_breach, milestone_extend
from .review import milestone_expert_draw, milestone_report_completion, milestone_review_met, milestone_review_not_met
from .settlement import milestone_forfeit, milestone_release


def _unpaid(milestone, rows=()) -> bool:
    return milestone.paid_in < milestone.amount


def _receipt_expected(milestone, rows=()) -> bool:
    return milestone.state == M.DEPOSIT_DUE or _unpaid(milestone)  # I15: the balance from the deposit on


def _next_in_line(milestone, rows) -> bool:
    """R7: a deposit is asked for only once every milestone before this one is settled (the service refuses
    otherwise, so the panel does not offer it)."""
    return not unsettled_before(milestone, rows)


MILESTONE = Registry("milestone", [
    Action("request_deposit", _("通知缴纳保证金"), service=milestone_request_deposit,
           permission=perms.can_request_deposit, sources=[M.PLANNED], form=inputs.ReasonForm,
           serializer=inputs.ReasonInput, extra={"available": _next_in_line, "done": _("已通知企业缴纳保证金")}),
    Action("upload_receipt", _("上传银行回单"), service=milestone_upload_receipt,
           permission=perms.can_upload_receipt, sources=[M.DEPOSIT_DUE, *BALANCE_PAYABLE],
           form=inputs.ReceiptForm, serializer=inputs.ReceiptInput,
           extra={"available": _receipt_expected, "done": _("银行回单已上传，等待监管账户操作员核对")}),
    Action("confirm_deposit", _("确认保证金到账"), service=milestone_confirm_deposit,
           permission=perms.can_confirm_receipt, sources=[M.DEPOSIT_DUE], confirm=True, form=inputs.MoneyForm,
           serializer=inputs.MoneyInput, extra={"money": True, "done": _("已登记到账，资金操作 #%(id)s")}),
    Action("confirm_balance", _("确认尾款到账"), service=milestone_confirm_balance,
           permission=perms.can_confirm_receipt, sources=BALANCE_PAYABLE, confirm=True, form=inputs.MoneyForm,
           serializer=inputs.MoneyInput,
           extra={"available": _unpaid, "money": True, "done": _("已登记到账，资金操作 #%(id)s")}),
    Action("report_completion", _("报告完成"), service=milestone_report_completion,
           permission=perms.can_report_completion, sources=[M.IN_PROGRESS], form=inputs.ReportForm,
           serializer=inputs.ReportFilesInput, extra={"done": _("已报告完成，等待科技局审核")}),
    Action("draw_expert", _("抽取验收技术专家"), service=milestone_expert_draw,
           permission=perms.can_draw_expert, sources=EXPERT_DRAW_STATES, form=inputs.NoInputForm,
           serializer=inputs.NoInput, extra={"done": _("已抽取专家 %(e)s 负责该里程碑的验收评分")}),
    Action("review_met", _("达标"), service=milestone_review_met, permission=perms.can_review,
           sources=[M.REPORTED], needs_reason=True, form=inputs.ReasonForm, serializer=inputs.ReasonInput,
           extra={"done": _("已审核通过")}),
    Action("review_not_met", _("未达标"), service=milestone_review_not_met, permission=perms.can_review,
           sources=[M.REPORTED, M.IN_PROGRESS, M.OVERDUE], needs_reason=True, form=inputs.ReasonForm,
           serializer=inputs.ReasonInput, extra={"done": _("已认定未达标")}),
    Action("extend", _("延期"), service=milestone_extend, permission=perms.can_extend,
           sources=[M.OVERDUE, M.BALANCE_OVERDUE], form=inputs.ExtendForm, serializer=inputs.ExtendDateInput,
           extra={"done": _("已延期")}),
    Action("declare_breach", _("认定企业违约"), service=milestone_declare_breach,
           permission=perms.can_declare_breach, sources=[M.BALANCE_OVERDUE], needs_reason=True, confirm=True,
           form=inputs.RepaymentForm, serializer=inputs.RepaymentInput,
           extra={"money": True, "done": _("已认定企业违约，待监管账户操作员执行罚没与退还")}),
    Action("release", _("拨付"), service=milestone_release, permission=perms.can_release,
           sources=[M.RELEASABLE], confirm=True, form=inputs.NoInputForm, serializer=inputs.NoInput,
           extra={"money": True, "done": _("已发起拨付，资金操作 #%(id)s：%(s)s")}),
    Action("forfeit", _("罚没保证金"), service=milestone_forfeit, permission=perms.can_forfeit,
           sources=[M.FAILED, M.BREACHED], confirm=True, form=inputs.NoInputForm, serializer=inputs.NoInput,
           extra={"money": True, "done": _("已发起罚没与退还，资金操作 #%(id)s：%(s)s")}),
])

# The milestone wing's actions on the project itself: the project's registry (``projects.registry.PROJECT``)
# lists them beside the proposal actions; the milestone panel offers them.
PROJECT_ACTIONS = (
    Action("open_escrow", _("开通保证金通道"), service=project_open_escrow, permission=perms.can_open_escrow,
           sources=[P.APPROVED], form=inputs.ReasonForm, serializer=inputs.ReasonInput,
           extra={"done": _("已开通保证金通道")}),
    Action("continue", _("继续下一里程碑"), service=project_continue, permission=perms.can_continue,
           sources=[P.ACTIVE], form=inputs.ReasonForm, serializer=inputs.ReasonInput,
           extra={"refusal": continue_refusal, "done": _("已继续下一里程碑")}),
    Action("close", _("结项"), service=project_close, permission=perms.can_close, sources=[P.ACTIVE],
           confirm=True, form=inputs.RepaymentForm, serializer=inputs.RepaymentInput,
           extra={"refusal": close_refusal, "done": _("项目已结项")}),
    Action("terminate", _("终止项目"), service=project_terminate, permission=perms.can_terminate,
           sources=[P.APPROVED, P.ACTIVE], needs_reason=True, confirm=True, form=inputs.RepaymentForm,
           serializer=inputs.RepaymentInput, extra={"done": _("项目已终止")}),
)
_PROJECT_NAMES = frozenset(a.name for a in PROJECT_ACTIONS)


def perform(action: Action, obj, actor, kwargs: dict):
    """Run the action's service on a milestone or, for ``PROJECT_ACTIONS``, a project; what it returns."""
    target = "project" if action.name in _PROJECT_NAMES else "milestone"
    return action.service(**{target: obj}, actor=actor, **kwargs)


def operation_of(result) -> MoneyOperation | None:
    """The money operation a service ordered, if it ordered one (confirmations, release, forfeiture)."""
    if isinstance(result, MoneyOperation):
        return result
    if isinstance(result, tuple):
        return next((r for r in result if isinstance(r, MoneyOperation)), None)
    return None
