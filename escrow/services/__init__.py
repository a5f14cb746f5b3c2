"""Every write of the escrow app. ``post_entry`` is the one place postings are created."""
from .ledger import post_entry, reverse_entry
from .operations import (
    operation_confirm,
    operation_execute,
    operation_redispatch,
    operation_reject,
    operation_request,
    register_completion_hook,
)
from .pool import POOL_TOP_UP_PURPOSE, pool_top_up

__all__ = [
    "post_entry", "reverse_entry", "operation_request", "operation_confirm", "operation_execute", "operation_redispatch",
    "operation_reject",
    "register_completion_hook", "pool_top_up", "POOL_TOP_UP_PURPOSE",
]
