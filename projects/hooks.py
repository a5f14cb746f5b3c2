"""Completion hooks registered with escrow: a finished operation moves its milestone, a top-up
tells the reviewers when projects wait for the pool; and the evidence behind a milestone's money order, which
the second custodian operator reads before confirming or rejecting it.

escrow never imports projects; it calls these in the transaction that
completes the operation, so the ledger entry and the milestone's state stand
or fall together.
"""
from escrow.selectors import register_operation_evidence
from escrow.services import POOL_TOP_UP_PURPOSE, register_completion_hook

from . import milestones as ms
from .milestones.confirmation import operation_evidence
from .services.approval import on_pool_top_up

register_completion_hook(ms.P_DEPOSIT, on_done=ms.on_receipt_done)
register_completion_hook(ms.P_BALANCE, on_done=ms.on_receipt_done)
register_completion_hook(ms.P_RELEASE, on_done=ms.on_release_done)
register_completion_hook(ms.P_FORFEIT, on_done=ms.on_forfeit_done)
register_completion_hook(POOL_TOP_UP_PURPOSE, on_done=on_pool_top_up)
for _purpose in ms.MILESTONE_PURPOSES:  # the checker's page shows what the order rests on
    register_operation_evidence(_purpose, operation_evidence)
