from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


@shared_task(name="core.send_notification_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_email(recipients: list[str], text: str, url: str = "") -> int:
    body = f"{text}\n\n{url}" if url else text
    subject = " ".join(text.split())[:60]  # a reason's line breaks would make the header invalid
    return send_mail(subject=f"[科创安心宝] {subject}", message=body,
                     from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients)


@shared_task(name="core.trail_seal")
def trail_seal() -> int:
    """Chain the audit events committed since the last run (docs/trail.md)."""
    from .services import trail_seal as seal

    return seal()
