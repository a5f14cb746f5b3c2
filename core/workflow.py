"""One registry per state machine: every action's service, permission, label and input in one place.

Pages (the action panel), the API (``…/{action}/``) and the PDFs read a
:class:`Registry`; nothing else lists actions. An app declares its registry
next to its services, e.g.::

    PROPOSAL = Registry("proposal", [
        Action("submit", gettext_lazy("提交申报"), service=project_submit, permission=can_submit,
               sources=[S.DRAFT]),
        Action("approve", gettext_lazy("立项"), service=project_approve, permission=can_review_act,
               sources=[S.UNDER_REVIEW, S.WAITLISTED], needs_reason=True),
    ])

The permission answers the role and organisation question (403) with a
:class:`core.permissions.Decision`; ``sources`` answers the state question
(409) before a person types a reason. The service stays the authority: it
checks the same permission again inside its transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from .exceptions import DomainError
from .permissions import ALLOW, Decision, deny


@dataclass(frozen=True)
class Action:
    """One transition a person can ask for."""

    name: str
    label: Any  # a lazy translation: the table is built at import, the language is chosen per request
    service: Callable[..., Any]
    permission: Callable[[Any, Any], Decision]
    sources: Sequence[str] = ()
    needs_reason: bool = False
    form: type | None = None  # the page's input beyond the reason
    serializer: type | None = None  # the API's input beyond the reason
    confirm: bool = False  # money or an official act: the page asks before it acts
    extra: dict = field(default_factory=dict)  # anything an app needs to say about the action

    def decision(self, user, obj, *, state: str | None = None) -> Decision:
        """May this user take the action on obj now? The role/organisation answer first, then the state's."""
        decision = self.permission(user, obj)
        if not decision:
            return decision
        state = getattr(obj, "state", None) if state is None else state
        if self.sources and state not in self.sources:
            display = getattr(obj, "get_state_display", lambda: state)()
            return deny(_("当前状态为“%(state)s”，不能%(action)s") % {"state": display, "action": self.label})
        return ALLOW


class Registry:
    """The actions of one state machine, in the order the page lists them."""

    def __init__(self, name: str, actions: Iterable[Action]):
        self.name = name
        self._actions = {a.name: a for a in actions}

    def __iter__(self):
        return iter(self._actions.values())

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def names(self) -> list[str]:
        return list(self._actions)

    def get(self, name: str) -> Action:
        """The action called ``name``; a DomainError naming it when there is none (the API answers 404)."""
        try:
            return self._actions[name]
        except KeyError:
            raise DomainError(_("未知操作：%(a)s") % {"a": name}, code="unknown_action") from None

    def label(self, name: str):
        action = self._actions.get(name)
        return action.label if action else name

    def panel(self, user, obj) -> list[dict]:
        """Every action that concerns this user's role, with whether it may be taken now and why not.

        Actions of other roles stay hidden (a superuser sees them all, each with its reason)."""
        out = []
        for action in self:
            if not action.permission(user, obj) and not getattr(user, "is_superuser", False):
                continue
            decision = action.decision(user, obj)
            out.append({"name": action.name, "label": action.label, "allowed": bool(decision),
                        "reason": decision.reason, "needs_reason": action.needs_reason,
                        "confirm": action.confirm, "action": action})
        return out
