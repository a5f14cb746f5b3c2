"""The milestone wing of ``projects``: deposits, completion, review, release, forfeiture, overdue, close.

Services, one module per phase (each function keyword-only and atomic):

- ``deposits``: the deposit and balance requests, receipts and the custodian's confirmations (R5, R7, I15);
- ``review``: completion reports, acceptance experts and their scores, met / not met (R7, R8, R16, I17);
- ``settlement``: release and forfeiture, and the escrow completion hooks that move a milestone (R7, R8, I3);
- ``lifecycle``: opening the deposit channel, continue, close, terminate, the pool advance (R14, I2);
- ``overdue``: reminders, the overdue jobs, extensions and the breach (I7, I15).

Beside them: ``permissions`` (who may take each action), ``registry`` (the actions the page and the API
offer), ``selectors``, ``views``, ``api``, ``urls``, ``timeline`` and ``demo``. Money moves only through
escrow money operations. The services are exported here: ``from projects import milestones``.
"""
from .common import (
    BALANCE_PAYABLE,
    CANCELLABLE,
    EXPERT_DRAW_STATES,
    MILESTONE_PURPOSES,
    P_BALANCE,
    P_DEPOSIT,
    P_FORFEIT,
    P_RELEASE,
    P_REPAYMENT,
    P_WRITE_OFF,
    PENDING_STATES,
    custody_code,
    payment_instructions,
    target_list,
)
from .deposits import (
    check_bank_ref,
    milestone_confirm_balance,
    milestone_confirm_deposit,
    milestone_request_deposit,
    milestone_upload_receipt,
)
from .lifecycle import project_close, project_continue, project_open_escrow, project_terminate
from .overdue import (
    balance_deadline,
    milestone_declare_breach,
    milestone_extend,
    milestones_mark_balance_overdue,
    milestones_mark_overdue,
    milestones_remind,
)
from .review import (
    milestone_assign_expert,
    milestone_expert_draw,
    milestone_expert_score,
    milestone_report_completion,
    milestone_review_met,
    milestone_review_not_met,
)
from .settlement import milestone_forfeit, milestone_release, on_forfeit_done, on_receipt_done, on_release_done

__all__ = [
    "BALANCE_PAYABLE", "CANCELLABLE", "EXPERT_DRAW_STATES", "MILESTONE_PURPOSES", "PENDING_STATES",
    "P_BALANCE", "P_DEPOSIT", "P_FORFEIT", "P_RELEASE", "P_REPAYMENT", "P_WRITE_OFF",
    "custody_code", "payment_instructions", "target_list", "check_bank_ref",
    "milestone_request_deposit", "milestone_upload_receipt", "milestone_confirm_deposit", "milestone_confirm_balance",
    "milestone_report_completion", "milestone_assign_expert", "milestone_expert_draw", "milestone_expert_score",
    "milestone_review_met", "milestone_review_not_met",
    "milestone_release", "milestone_forfeit", "on_receipt_done", "on_release_done", "on_forfeit_done",
    "project_open_escrow", "project_continue", "project_close", "project_terminate",
    "milestone_extend", "milestone_declare_breach", "balance_deadline",
    "milestones_mark_overdue", "milestones_mark_balance_overdue", "milestones_remind",
]
