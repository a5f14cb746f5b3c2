"""Thin Celery wrappers around the milestone services (I7)."""
from celery import shared_task
from django.conf import settings


@shared_task(name="projects.milestones_overdue_sweep")
def milestones_overdue_sweep() -> dict:
    """Hourly (beat, anxinbao/settings/celery.py): remind parties before a due date; mark past-due milestones
    overdue (I7). A reminder goes once per due date and a milestone is marked once: later runs repeat nothing."""
    from .milestones import milestones_mark_overdue, milestones_remind

    days = getattr(settings, "ANXINBAO_MILESTONE_REMIND_DAYS", 14)
    return {"reminded": milestones_remind(days=days), "overdue": milestones_mark_overdue()}


@shared_task(name="projects.milestones_balance_overdue_sweep")
def milestones_balance_overdue_sweep() -> dict:
    """Hourly (beat): milestones found met whose balance is not confirmed within balance_grace_days →
    balance_overdue (I15)."""
    from .milestones import milestones_mark_balance_overdue

    return {"balance_overdue": milestones_mark_balance_overdue()}
