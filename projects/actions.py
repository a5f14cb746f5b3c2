"""Action name → service, shared by the API's ``projects/{id}/{action}/`` and the project page.

``open_escrow``, ``close`` and ``terminate`` belong to the milestone services
(``projects.services.milestones.project_open_escrow`` / ``project_close`` /
``project_terminate``), imported lazily so this module works before they exist.
"""
from __future__ import annotations

import importlib
import inspect

from django.utils.translation import gettext as _

from core.exceptions import DomainError

from . import services
from .models import Project

PROPOSAL_ACTIONS = {
    "submit": (services.project_submit, False),
    "platform_sign": (services.project_platform_sign, False),
    "platform_decline": (services.project_platform_decline, True),
    "accept": (services.project_accept, False),
    "return_for_changes": (services.project_return_for_changes, True),
    "start_review": (services.project_start_review, False),
    "approve": (services.project_approve, None),
    "queue": (services.project_queue, True),
    "reject": (services.project_reject, True),
}
MILESTONE_MODULE_ACTIONS = {
    "open_escrow": "project_open_escrow",
    "close": "project_close",
    "terminate": "project_terminate",
}
ALL_ACTIONS = [*PROPOSAL_ACTIONS, *MILESTONE_MODULE_ACTIONS]


def _call_flexibly(func, *, project: Project, actor, reason: str, data: dict):
    """Call another module's service by name, passing only the keywords it declares."""
    params = inspect.signature(func).parameters
    kwargs = {}
    for name in ("project", "project_id"):
        if name in params:
            kwargs[name] = project if name == "project" else project.pk
    for name in ("actor", "by", "user"):
        if name in params:
            kwargs[name] = actor
    if "reason" in params:
        kwargs["reason"] = reason
    for name, value in data.items():
        if name in params and name not in kwargs:
            kwargs[name] = value
    return func(**kwargs)


def run_action(*, project: Project, action: str, actor, reason: str = "", data: dict | None = None):
    """Run one FSM action; returns what the service returns (the project, usually)."""
    data = data or {}
    if action in PROPOSAL_ACTIONS:
        func, takes_reason = PROPOSAL_ACTIONS[action]
        if takes_reason is False:
            return func(project=project, actor=actor)
        return func(project=project, actor=actor, reason=reason)
    if action in MILESTONE_MODULE_ACTIONS:
        try:
            module = importlib.import_module("projects.services.milestones")
        except ModuleNotFoundError:
            module = None
        func = getattr(module, MILESTONE_MODULE_ACTIONS[action], None) if module else None
        if func is None:
            raise DomainError(_("该操作尚未开放：%(a)s") % {"a": action}, code="action_unavailable")
        return _call_flexibly(func, project=project, actor=actor, reason=reason, data=data)
    raise DomainError(_("未知操作：%(a)s") % {"a": action}, code="unknown_action")
