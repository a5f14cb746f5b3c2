"""Completion hooks registered with escrow: a finished operation moves its milestone.

escrow never imports projects; it calls these in the transaction that
completes the operation, so the ledger entry and the milestone's state stand
or fall together.
"""
from escrow.services import register_completion_hook

from .services import milestones as ms

register_completion_hook(ms.P_DEPOSIT, on_done=ms.on_receipt_done)
register_completion_hook(ms.P_BALANCE, on_done=ms.on_receipt_done)
register_completion_hook(ms.P_RELEASE, on_done=ms.on_release_done)
register_completion_hook(ms.P_FORFEIT, on_done=ms.on_forfeit_done)
