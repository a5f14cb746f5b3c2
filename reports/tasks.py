from celery import shared_task


@shared_task(name="reports.render_report", acks_late=True, reject_on_worker_lost=True)
def render_report(report_id: int) -> str:
    """Thin wrapper: render one report. Idempotent: a redelivered message finds it done."""
    from .services import report_render

    report = report_render(report_id=report_id)
    return report.state if report else "missing"
