"""What a money order does, in words: who is paid, how much, from which account, and on what evidence.

The person who orders a movement and the second operator who confirms it (maker–checker) read the same summary
(template ``escrow/_money_summary.html``). escrow reads the movement from the operation's lines; what the order
rests on (a milestone's report, its evidence and receipts, the bureau's decision) belongs to the app that ordered
it, which registers a provider for its purposes (``register_operation_evidence``), as it registers completion
hooks: escrow imports nothing above it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.money import money

from .. import accounts as codes
from ..choices import OperationKind
from ..models import MoneyOperation
from .scoping import account_names


@dataclass
class Move:
    """One leg of a movement: ``amount`` from ``source`` (an account in words) to ``payee``."""

    source: str
    payee: str
    account: str  # the receiving account in words
    amount: Decimal
    label: str = ""


@dataclass
class Evidence:
    """What an order rests on, supplied by the app that placed it."""

    subject: str = ""  # what the money is for, in words (e.g. the milestone)
    project_titles: dict = field(default_factory=dict)  # project id → title, to say custody accounts in words
    facts: list = field(default_factory=list)  # (label, text)
    report: str = ""  # a completion report, as written
    files: list = field(default_factory=list)  # (section label, [(file name, download url)])
    link: str = ""  # the page the order was placed on


EvidenceProvider = Callable[[MoneyOperation], Evidence | None]
_providers: dict[str, EvidenceProvider] = {}


def register_operation_evidence(purpose: str, provider: EvidenceProvider) -> None:
    _providers[purpose] = provider


def operation_evidence(op: MoneyOperation) -> Evidence:
    provider = _providers.get(op.purpose)
    return (provider(op) if provider else None) or Evidence()


def _leg_label(kind: str, code: str) -> str:
    """What a receiving leg is, said by the kind of order and the kind of account."""
    if kind == OperationKind.FORFEIT:
        return _("罚没保证金，支付给平台") if codes.is_platform(code) else _("其余退还企业")
    if kind == OperationKind.REPAYMENT:
        return _("平台归还风险池垫付")
    if kind == OperationKind.WRITE_OFF:
        return _("核销为风险池损失")
    if codes.is_custody(code):
        return _("存入安心宝监管账户")
    return OperationKind(kind).label if kind in OperationKind.values else ""


def moves(kind: str, lines: Iterable[tuple[str, Decimal | str]], *, project_titles: dict | None = None) -> list[Move]:
    """The receiving legs of one order's lines, each with the paying account(s) in words."""
    lines = [(code, money(Decimal(str(a)))) for code, a in lines]
    names = account_names((c for c, _a in lines), project_titles=project_titles)
    source = pgettext("标点", "、").join(names[c] for c, a in lines if a < 0)
    out = []
    for code, amount in lines:
        if amount <= 0:
            continue
        payee = names[code].split("·", 1)[1] if codes.is_external(code) else names[code]
        out.append(Move(source=source, payee=payee, account=names[code], amount=amount,
                        label=_leg_label(kind, code)))
    return out


def operation_summary(op: MoneyOperation) -> dict:
    """The checker's page: the order's legs in words, its total, who ordered it, and its evidence."""
    evidence = operation_evidence(op)
    legs = moves(op.kind, op.lines, project_titles=evidence.project_titles)
    return {"operation": op, "title": op.get_kind_display(), "moves": legs,
            "total": money(sum((m.amount for m in legs), Decimal(0))), "evidence": evidence}
