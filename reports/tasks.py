from celery import shared_task


@shared_task(name="reports.render_report", acks_late=True, reject_on_worker_lost=True)
def render_report(report_id: int) -> str:
    """Thin wrapper: render one report. Idempotent: a redelivered message finds it done."""
    from .services import report_render

    report = report_render(report_id=report_id)
    return report.state if report else "missing"


@shared_task(name="reports.sweep")
def sweep_reports() -> int:
    """Send again the reports whose task was lost or whose worker died (the task is idempotent)."""
    from .services import reports_redispatch, reports_stuck

    return reports_redispatch(reports_stuck())
