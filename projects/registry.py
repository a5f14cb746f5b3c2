"""The project's state machine, once: every action's service, permission, states, label and input.

The project page's action panel, the API's ``projects/{id}/{action}/`` and
every page or document that names an audit row's action read this module;
nothing else lists the project's actions. The permission answers the role and
organisation question (403); the service stays the authority and checks it
again inside its transaction.

``open_escrow``, ``continue``, ``close`` and ``terminate`` are declared with
the milestone services (``projects.milestones.registry.PROJECT_ACTIONS``) and
taken on the milestone panel (``extra["page"] == "milestones"``); the project
page's panel lists the proposal actions only.
"""
from __future__ import annotations

from dataclasses import replace

from django.utils.translation import gettext_lazy

from core.workflow import Action, Registry

from . import permissions as perms
from . import services
from .choices import ProjectState as S
from .milestones.registry import PROJECT_ACTIONS

ON_MILESTONE_PANEL = {"page": "milestones"}
OPTIONAL_REASON = {"optional_reason": True}  # the service takes a reason, but none is required

PROJECT = Registry("project", [
    Action("submit", gettext_lazy("提交申报"), service=services.project_submit, permission=perms.can_submit,
           sources=[S.DRAFT]),
    Action("platform_sign", gettext_lazy("揭榜"), service=services.project_platform_sign,
           permission=perms.can_platform_act, sources=[S.SUBMITTED]),
    Action("platform_decline", gettext_lazy("不予揭榜"), service=services.project_platform_decline,
           permission=perms.can_platform_act, sources=[S.SUBMITTED], needs_reason=True),
    Action("accept", gettext_lazy("受理"), service=services.project_accept, permission=perms.can_review_act,
           sources=[S.SIGNED]),
    Action("return_for_changes", gettext_lazy("退回修改"), service=services.project_return_for_changes,
           permission=perms.can_review_act, sources=[S.SIGNED, S.ACCEPTED, S.UNDER_REVIEW], needs_reason=True),
    Action("start_review", gettext_lazy("抽取专家并开始评审"), service=services.project_start_review,
           permission=perms.can_review_act, sources=[S.ACCEPTED],
           extra={"history_label": gettext_lazy("开始专家评审")}),
    Action("approve", gettext_lazy("立项"), service=services.project_approve, permission=perms.can_review_act,
           sources=[S.UNDER_REVIEW, S.WAITLISTED], needs_reason=True),
    Action("queue", gettext_lazy("列入择优排队"), service=services.project_queue, permission=perms.can_review_act,
           sources=[S.UNDER_REVIEW], needs_reason=True),
    Action("reject", gettext_lazy("不予立项"), service=services.project_reject, permission=perms.can_review_act,
           sources=[S.UNDER_REVIEW, S.WAITLISTED], needs_reason=True),
    *(replace(a, extra={**a.extra, **ON_MILESTONE_PANEL, **OPTIONAL_REASON}) for a in PROJECT_ACTIONS),
])

# Audit rows that are not a registry action: the proposal's other steps and the milestones' steps,
# as the project page's history and the dossier name them.
EVENT_LABELS = {
    "create": gettext_lazy("创建草稿"),
    "expert_drawn": gettext_lazy("抽取专家"),
    "review_scored": gettext_lazy("专家评分"),
    "review_conflict": gettext_lazy("专家回避"),
    "attachment_added": gettext_lazy("上传材料"),
    "continue": gettext_lazy("继续下一里程碑"),
    "request_deposit": gettext_lazy("通知缴纳保证金"),
    "upload_receipt": gettext_lazy("上传缴款凭证"),
    "order_deposit": gettext_lazy("发出保证金入账指令"),
    "confirm_deposit": gettext_lazy("确认保证金到账"),
    "order_balance": gettext_lazy("发出尾款入账指令"),
    "confirm_balance": gettext_lazy("确认尾款到账"),
    "report_completion": gettext_lazy("提交完成报告"),
    "assign_expert": gettext_lazy("指派验收专家"),
    "expert_score": gettext_lazy("验收专家评分"),
    "review_met": gettext_lazy("验收通过"),
    "review_not_met": gettext_lazy("验收未通过"),
    "order_release": gettext_lazy("发出拨付指令"),
    "release": gettext_lazy("拨付平台"),
    "order_forfeit": gettext_lazy("发出罚没指令"),
    "forfeit": gettext_lazy("罚没保证金"),
    "refund": gettext_lazy("退还企业"),
    "extend": gettext_lazy("延长期限"),
    "extend_balance": gettext_lazy("延长尾款缴纳期限"),
    "case_publish": gettext_lazy("公开为典型案例"),
    "case_withdraw": gettext_lazy("撤回典型案例"),
    "declare_breach": gettext_lazy("认定企业违约"),
    "mark_overdue": gettext_lazy("逾期未缴保证金"),
    "mark_balance_overdue": gettext_lazy("逾期未缴尾款"),
    "remind": gettext_lazy("催缴提醒"),
    "cancel": gettext_lazy("取消"),
}


def history_labels() -> dict:
    """Audit action → its words (lazy), for the project page's history, the API and the dossier."""
    return {**EVENT_LABELS, **{a.name: a.extra.get("history_label", a.label) for a in PROJECT}}


def history_label(action: str):
    """One audit row's action in words; the code itself when it has none."""
    return history_labels().get(action, action)


def project_panel(user, project) -> list[dict]:
    """The project page's panel: the proposal actions that concern this user, each allowed now or with why not."""
    return [item for item in PROJECT.panel(user, project)
            if item["action"].extra.get("page") != ON_MILESTONE_PANEL["page"]]


def milestone_panel() -> list[Action]:
    """The project actions taken on the milestone panel."""
    return [a for a in PROJECT if a.extra.get("page") == ON_MILESTONE_PANEL["page"]]


def milestone_panel_actions() -> list[str]:
    return [a.name for a in milestone_panel()]


def run_action(*, project, action: str, actor, reason: str = "", data: dict | None = None):
    """Run one action through its service; returns what the service returns (the project, usually).

    ``data`` is the action's input beyond the reason, already read by its form or serializer."""
    act = PROJECT.get(action)
    kwargs = {k: v for k, v in (data or {}).items() if k != "reason"}
    if act.needs_reason or act.extra.get("optional_reason"):
        kwargs["reason"] = (data or {}).get("reason") or reason
    return act.service(project=project, actor=actor, **kwargs)
