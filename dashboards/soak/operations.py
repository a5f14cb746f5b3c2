"""The soak's operation table: one entry per kind of step a real user takes, with its weight.

Each operation picks a random target in the state it needs (or returns ``None`` when there is none
yet), then calls the real service as a user of the right role and organisation, exactly as a page
or the API would. A refusal (``DomainError``) is an expected answer and is counted by its code; any
other exception is a failure of the soak. A new operation is one function (in ``proposal_steps``,
``milestone_steps`` or ``fund_steps``) and one line in ``TABLE``.
"""
from __future__ import annotations

from collections.abc import Callable

from .context import TAG, Cast, Ctx  # noqa: F401  (the runner and the cast read them from here)
from .fund_steps import approve_figure, audit, claim, opinion, pay_figure, policy, redeliver, subsidy_run, top_up
from .milestone_steps import (
                              balance,
                              balance_overdue,
                              breach,
                              confirm,
                              decide,
                              deposit,
                              extend,
                              forfeit,
                              overdue,
                              release,
                              report,
                              settle_project,
)
from .proposal_steps import accept, approve, open_escrow, propose, review, sign, start_review

Operation = Callable[[Ctx], "str | None"]

# name → (weight, operation). The weights keep every stage of the workflow fed: proposals enter at the
# top, the milestone steps move money, the subsidy steps read what was released. A draw that finds no
# target draws again, so the steps that always find one (top-ups, policies, audits) stay light.
TABLE: dict[str, tuple[int, Operation]] = {
    "propose": (9, propose),
    "sign": (8, sign),
    "accept": (8, accept),
    "start_review": (7, start_review),
    "review": (16, review),
    "approve": (9, approve),
    "open_escrow": (7, open_escrow),
    "deposit": (13, deposit),
    "report": (11, report),
    "decide": (11, decide),
    "balance": (10, balance),
    "release": (10, release),
    "forfeit": (6, forfeit),
    "confirm": (8, confirm),
    "overdue": (1, overdue),
    "extend": (3, extend),
    "balance_overdue": (1, balance_overdue),
    "breach": (3, breach),
    "settle_project": (6, settle_project),
    "top_up": (1, top_up),
    "redeliver": (8, redeliver),
    "policy": (1, policy),
    "claim": (1, claim),
    "audit": (2, audit),
    "opinion": (2, opinion),
    "subsidy_run": (1, subsidy_run),
    "approve_figure": (2, approve_figure),
    "pay_figure": (2, pay_figure),
}
