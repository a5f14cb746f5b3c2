"""Who may work the custodian's desk, with the reason when not.

The desk's pages and the escrow services ask the same decisions, so a page
never lets in someone the service then refuses (a superuser without the
custodian role is refused by both). Pages turn a refusal into a 403 page with
``page_require``; services raise the 403 domain error with
``core.permissions.require``.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.choices import Role
from core.permissions import ALLOW, Decision, deny, has_role


def can_operate(user) -> Decision:
    """The desk, ordering custodian operations, confirming (maker–checker), re-sending, importing statements."""
    if has_role(user, Role.CUSTODIAN):
        return ALLOW
    return deny(_("仅限监管账户操作员"))


def can_read_statements(user) -> Decision:
    """Imported bank statements and their reconciliation: the custodian's operators and the auditors."""
    if getattr(user, "is_superuser", False) or has_role(user, Role.CUSTODIAN, Role.AUDITOR):
        return ALLOW
    return deny(_("仅限监管账户操作员和审计人员"))


def can_top_up(user) -> Decision:
    """A decided injection into the risk pool: the pool manager."""
    if has_role(user, Role.POOL_MANAGER):
        return ALLOW
    return deny(_("仅限风险池管理员"))


def page_require(decision: Decision) -> None:
    """A page's refusal: 403 with the decision's reason."""
    if not decision:
        raise PermissionDenied(decision.reason)
