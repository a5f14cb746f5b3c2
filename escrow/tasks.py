"""Thin Celery wrappers around escrow services."""
from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError


@shared_task(name="escrow.execute_operation", acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, retry_backoff_max=300,
             max_retries=10)
def execute_operation(operation_id: int) -> str | None:
    from .services.operations import operation_execute

    op = operation_execute(operation_id=operation_id)
    return op.state if op else None


@shared_task(name="escrow.sweep_operations")
def sweep_operations() -> int:
    """Re-dispatch operations stuck in requested or executing past the timeout."""
    from .services.operations import operations_redispatch, operations_stuck

    return operations_redispatch(operations_stuck(older_than=settings.ANXINBAO_OPERATION_STUCK_AFTER))


@shared_task(name="escrow.ledger_seal")
def ledger_seal() -> int:
    """Chain the journal entries committed since the last run (docs/trail.md)."""
    from .services.seal import ledger_seal as seal

    return seal()
