"""Action name → service, shared by the API's ``projects/{id}/{action}/`` and the project page.

``open_escrow``, ``close`` and ``terminate`` belong to the milestone services
(``projects.milestones``).
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from core.exceptions import DomainError

from . import milestones, services
from .models import Project

PROPOSAL_ACTIONS = {
    "submit": (services.project_submit, False),
    "platform_sign": (services.project_platform_sign, False),
    "platform_decline": (services.project_platform_decline, True),
    "accept": (services.project_accept, False),
    "return_for_changes": (services.project_return_for_changes, True),
    "start_review": (services.project_start_review, False),
    "approve": (services.project_approve, True),
    "queue": (services.project_queue, True),
    "reject": (services.project_reject, True),
}
MILESTONE_MODULE_ACTIONS = ("open_escrow", "close", "terminate")
ALL_ACTIONS = [*PROPOSAL_ACTIONS, *MILESTONE_MODULE_ACTIONS]


def run_action(*, project: Project, action: str, actor, reason: str = "", data: dict | None = None):
    """Run one FSM action; returns what the service returns (the project, usually)."""
    data = data or {}
    if action in PROPOSAL_ACTIONS:
        func, takes_reason = PROPOSAL_ACTIONS[action]
        if takes_reason is False:
            return func(project=project, actor=actor)
        return func(project=project, actor=actor, reason=reason)
    if action == "open_escrow":
        return milestones.project_open_escrow(project=project, actor=actor, reason=reason)
    if action == "close":
        return milestones.project_close(project=project, actor=actor, reason=reason,
                                        repaid_amount=data.get("repaid_amount"))
    if action == "terminate":
        return milestones.project_terminate(project=project, actor=actor, reason=reason,
                                            repaid_amount=data.get("repaid_amount"))
    raise DomainError(_("未知操作：%(a)s") % {"a": action}, code="unknown_action")
