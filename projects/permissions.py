"""Who may do what to a proposal, with the reason when not (pages show it, the API's 403 says it).

Visibility (404) comes first, from ``selectors.projects_visible_to``; these
decisions answer the role/organisation question (403). The state question
(409) is the FSM's; which decision and states belong to which action is
``projects.registry``'s.
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from core.choices import Role
from core.permissions import ALLOW, Decision, deny, has_role

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
