"""Who may do what to a proposal, with the reason when not (pages show it, the API's 403 says it).

Visibility (404) comes first, from ``selectors.projects_visible_to``; these
decisions answer the role/organisation question (403). The state question
(409) is the FSM's.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.choices import Role
from core.permissions import ALLOW, Decision, deny, has_role

from .choices import ProjectState as S
from .models import ExpertAssignment, Project


def _own_enterprise(user, project: Project) -> Decision:
    if not has_role(user, Role.ENTERPRISE):
        return deny(_("仅企业人员可以填报、修改和提交合作项目"))
    if user.organization_id != project.enterprise_id:
        return deny(_("只能操作本企业的项目"))
    return ALLOW


def can_create(user) -> Decision:
    if not has_role(user, Role.ENTERPRISE) or not user.organization_id:
        return deny(_("仅企业人员可以填报合作项目"))
    return ALLOW


def can_edit(user, project: Project) -> Decision:
    return _own_enterprise(user, project)


can_submit = can_edit


def can_platform_act(user, project: Project) -> Decision:
    """揭榜 or decline: only staff of the platform the proposal is addressed to."""
    if not has_role(user, Role.PLATFORM):
        return deny(_("仅科创平台人员可以揭榜"))
    if user.organization_id != project.platform_id:
        return deny(_("只有项目指定的科创平台可以揭榜"))
    return ALLOW


def can_review_act(user, project: Project) -> Decision:
    """受理, expert review, 立项: the bureau's reviewers, never for their own organisation's project."""
    if not has_role(user, Role.REVIEWER):
        return deny(_("仅区科技局审核人员可以受理、组织评审和立项"))
    if user.organization_id and user.organization_id in (project.enterprise_id, project.platform_id):
        return deny(_("回避：不得审批本单位参与的项目"))
    return ALLOW


def can_upload(user, project: Project) -> Decision:
    if has_role(user, Role.ENTERPRISE) and user.organization_id == project.enterprise_id:
        return ALLOW
    if has_role(user, Role.PLATFORM) and user.organization_id == project.platform_id:
        return ALLOW
    return deny(_("仅项目双方可以上传材料"))


def can_score(user, assignment: ExpertAssignment) -> Decision:
    if not has_role(user, Role.EXPERT):
        return deny(_("仅专家可以评分"))
    if assignment.expert_id != user.pk:
        return deny(_("只能评审分配给本人的项目"))
    return ALLOW


# action → (permission, states it may start from, label, needs a reason)
# labels are lazy: the table is built at import, the language is chosen per request
ACTIONS: dict[str, tuple] = {
    "submit": (can_submit, [S.DRAFT], gettext_lazy("提交申报"), False),
    "platform_sign": (can_platform_act, [S.SUBMITTED], gettext_lazy("揭榜"), False),
    "platform_decline": (can_platform_act, [S.SUBMITTED], gettext_lazy("不予揭榜"), True),
    "accept": (can_review_act, [S.SIGNED], gettext_lazy("受理"), False),
    "return_for_changes": (can_review_act, [S.ACCEPTED, S.UNDER_REVIEW], gettext_lazy("退回修改"), True),
    "start_review": (can_review_act, [S.ACCEPTED], gettext_lazy("抽取专家并开始评审"), False),
    "approve": (can_review_act, [S.UNDER_REVIEW, S.WAITLISTED], gettext_lazy("立项"), True),
    "queue": (can_review_act, [S.UNDER_REVIEW], gettext_lazy("列入择优排队"), True),
    "reject": (can_review_act, [S.UNDER_REVIEW, S.WAITLISTED], gettext_lazy("不予立项"), True),
}


def action_decision(user, project: Project, action: str) -> Decision:
    perm, sources, label, _needs_reason = ACTIONS[action]
    decision = perm(user, project)
    if not decision:
        return decision
    if project.state not in sources:
        return deny(_("当前状态为“%(state)s”，不能%(action)s") % {"state": project.get_state_display(), "action": label})
    return ALLOW


def project_actions(user, project: Project) -> list[dict]:
    """Every proposal action with whether this user may take it now, and why not."""
    out = []
    for name, (perm, _sources, label, needs_reason) in ACTIONS.items():
        decision = action_decision(user, project, name)
        # Only show what concerns this user's role: others' actions stay hidden.
        if not perm(user, project) and not getattr(user, "is_superuser", False):
            continue
        out.append({"name": name, "label": label, "allowed": bool(decision), "reason": decision.reason,
                    "needs_reason": needs_reason})
    return out
