"""Thin Celery wrappers around subsidies services."""
from celery import shared_task
from django.utils import timezone


@shared_task(name="subsidies.prepare_year")
def prepare_year(year: int | None = None) -> dict:
    """Yearly beat job: prepare the grants and premium subsidies of a year (by default the year just ended)
    for the bureau's review. Running it twice changes nothing."""
    from .services.year import subsidies_prepare_year

    if year is None:
        year = timezone.localdate().year - 1
    return subsidies_prepare_year(year=year)
