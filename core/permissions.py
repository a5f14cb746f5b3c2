"""The one server-side permission layer, used by pages and API alike.

Scoping: every selector that lists objects starts from a queryset filtered by
the user's role and organisation, so another organisation's object is simply
not found (404). Actions are checked with ``require``/``can``, which answer
with a reason, so a page can say why a button is missing and the API's 403
says the same.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .choices import Role
from .exceptions import PermissionDeniedError

# Oversight roles read every project of the scheme (the bureau, the custodian,
# the pool manager, the auditors, the finance bureau).
OVERSIGHT_ROLES = (Role.REVIEWER, Role.AUDITOR, Role.CUSTODIAN, Role.POOL_MANAGER, Role.FINANCE)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    code: str = ""  # the refusal's error code, when it is more precise than "permission_denied"

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def deny(reason: str, *, code: str = "") -> Decision:
    return Decision(False, reason, code)


def decide(*checks: tuple[bool, str]) -> Decision:
    """ALLOW when every ``(condition, reason)`` holds; otherwise a refusal with the first failing one's reason."""
    for holds, reason in checks:
        if not holds:
            return deny(reason)
    return ALLOW


def has_role(user, *roles: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.has_role(*roles)


def is_oversight(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or has_role(user, *OVERSIGHT_ROLES)


def role_decision(user, *roles: str) -> Decision:
    if has_role(user, *roles):
        return ALLOW
    labels = pgettext("标点", "、").join(str(Role(r).label) for r in roles)
    return deny(_("此操作仅限以下角色：%(roles)s") % {"roles": labels})


def require(decision: Decision) -> None:
    """Raise a 403 domain error carrying the decision's reason."""
    if not decision:
        raise PermissionDeniedError(decision.reason or _("无权执行此操作"), code=decision.code or None)


def require_role(user, *roles: str) -> None:
    require(role_decision(user, *roles))
