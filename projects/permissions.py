"""Who may do what to a proposal, with the reason when not (pages show it, the API's 403 says it).

Visibility (404) comes first, from ``selectors.projects_visible_to``; these
decisions answer the role/organisation question (403). The state question
(409) is the FSM's; which decision and states belong to which action is
``projects.registry``'s.
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from core.choices import Role
from core.permissions import ALLOW, Decision, decide, deny, has_role

from .models import ExpertAssignment, Project


def _org(user) -> int | None:
    return getattr(user, "organization_id", None)  # none for the anonymous user


def _own_enterprise(user, project: Project) -> Decision:
    return decide((has_role(user, Role.ENTERPRISE), _("仅企业人员可以填报、修改和提交合作项目")),
                  (_org(user) == project.enterprise_id, _("只能操作本企业的项目")))


def can_create(user) -> Decision:
    if not has_role(user, Role.ENTERPRISE) or not user.organization_id:
        return deny(_("仅企业人员可以填报合作项目"))
    return ALLOW


def can_edit(user, project: Project) -> Decision:
    return _own_enterprise(user, project)


can_submit = can_edit


def can_platform_act(user, project: Project) -> Decision:
    """揭榜 or decline: only staff of the platform the proposal is addressed to."""
    return decide((has_role(user, Role.PLATFORM), _("仅科创平台人员可以揭榜")),
                  (_org(user) == project.platform_id, _("只有项目指定的科创平台可以揭榜")))


def bureau_decision(user, project: Project, *, not_reviewer: str, recused: str) -> Decision:
    """The bureau's reviewers, never on a project their own organisation is party to."""
    party = bool(_org(user)) and _org(user) in (project.enterprise_id, project.platform_id)
    return decide((has_role(user, Role.REVIEWER), not_reviewer), (not party, recused))


def can_review_act(user, project: Project) -> Decision:
    """受理, expert review, 立项: the bureau's reviewers, never for their own organisation's project."""
    return bureau_decision(user, project, not_reviewer=_("仅区科技局审核人员可以受理、组织评审和立项"),
                           recused=_("回避：不得审批本单位参与的项目"))


def can_upload(user, project: Project) -> Decision:
    if has_role(user, Role.ENTERPRISE) and user.organization_id == project.enterprise_id:
        return ALLOW
    if has_role(user, Role.PLATFORM) and user.organization_id == project.platform_id:
        return ALLOW
    return deny(_("仅项目双方可以上传材料"))


def can_score(user, assignment: ExpertAssignment) -> Decision:
    return decide((has_role(user, Role.EXPERT), _("仅专家可以评分")),
                  (assignment.expert_id == getattr(user, "pk", None), _("只能评审分配给本人的项目")))
