"""Who may take each milestone action, with the reason when not.

One decision per action, asked by the service (the authority, through
``core.permissions.require``), by the page (which greys a button and says
why) and by the API (its 403). Visibility (404) comes first, from
``selectors.milestones_visible_to``; the state question (409) is the
registry's ``sources`` and the service's.

The project-level actions of the milestone wing (open the deposit channel,
continue, close, terminate) are the bureau's; the project registry
(``projects/registry.py``) references these decisions.
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from core.choices import Role
from core.permissions import ALLOW, Decision, deny, has_role, role_decision

from ..models import ExpertAssignment, Milestone, Project
from ..permissions import can_review_act
from .common import decided_by_id


def _party(user, project: Project, role: str) -> Decision:
    decision = role_decision(user, role)
    if not decision:
        return decision
    org_id = project.enterprise_id if role == Role.ENTERPRISE else project.platform_id
    if not (user.organization_id and user.organization_id == org_id):
        return deny(_("只有本项目%(party)s的人员可以执行此操作")
                    % {"party": _("企业") if role == Role.ENTERPRISE else _("科创平台")})
    return ALLOW


# -- the bureau (区科技局): its reviewers, never on their own organisation's project -----------------
def can_bureau_act(user, project: Project) -> Decision:
    """Open the deposit channel, ask for a deposit, review, extend, declare a breach, continue, close,
    terminate, draw an acceptance expert."""
    return can_review_act(user, project)


can_open_escrow = can_continue = can_close = can_terminate = can_bureau_act


def can_decide(user, milestone: Milestone) -> Decision:
    """The bureau's decisions on one milestone."""
    return can_bureau_act(user, milestone.project)


can_request_deposit = can_review = can_extend = can_declare_breach = can_draw_expert = can_decide


# -- the parties ------------------------------------------------------------------------------
def can_upload_receipt(user, milestone: Milestone) -> Decision:
    """The enterprise's bank receipt for its deposit or balance."""
    return _party(user, milestone.project, Role.ENTERPRISE)


def can_report_completion(user, milestone: Milestone) -> Decision:
    """The platform reports the milestone done, with its evidence."""
    return _party(user, milestone.project, Role.PLATFORM)


# -- the acceptance experts ------------------------------------------------------------------------
def can_score(user, milestone: Milestone) -> Decision:
    """An expert assigned to this milestone's acceptance (R16)."""
    decision = role_decision(user, Role.EXPERT)
    if not decision:
        return decision
    assigned = ExpertAssignment.objects.filter(milestone=milestone, expert=user).exclude(
        status=ExpertAssignment.Status.WITHDRAWN)
    if not assigned.exists():
        return deny(_("您未被指派评审该里程碑"))
    return ALLOW


# -- the custodian (监管账户操作员) ---------------------------------------------------------------
def can_confirm_receipt(user, milestone: Milestone) -> Decision:
    """The custodian records a deposit or balance that reached the Anxinbao account."""
    return role_decision(user, Role.CUSTODIAN)


def can_move_custody(user, milestone: Milestone) -> Decision:
    """Release or forfeit: the custodian, and never whoever decided the milestone (separation of duties)."""
    decision = role_decision(user, Role.CUSTODIAN)
    if not decision:
        return decision
    decider = decided_by_id(milestone)
    if decider is not None and decider == user.pk:
        return deny(_("职责分离：审核该里程碑的人员不能执行其资金划转"), code="separation_of_duties")
    return ALLOW


can_release = can_forfeit = can_move_custody


def sees_experts(user, project: Project) -> bool:
    """The parties never see who judges their milestone (as with the approval reviews)."""
    return has_role(user, Role.REVIEWER)
