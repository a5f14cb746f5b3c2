from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail, send_mass_mail

from .notices import render_in


def _subject(text: str) -> str:
    return "[科创安心宝] " + " ".join(text.split())[:60]  # a reason's line breaks would make the header invalid


@shared_task(name="core.send_notification_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_email(recipients: list[str], text: str, url: str = "") -> int:
    """Mail already rendered in one language (queued before notices rendered per recipient)."""
    body = f"{text}\n\n{url}" if url else text
    return send_mail(subject=_subject(text), message=body,
                     from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients)


@shared_task(name="core.send_notice_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notice_email(recipients: list[list[str]], msg: str, params: dict, text: str = "", url: str = "") -> int:
    """One mail per ``[address, language]``, the notice rendered in that recipient's language (core.notices);
    a notice without ``msg`` is sent as its ``text``."""
    mails = []
    for address, language in recipients:
        body = render_in(language, msg, params) if msg else text
        mails.append((_subject(body), f"{body}\n\n{url}" if url else body, settings.DEFAULT_FROM_EMAIL, [address]))
    return send_mass_mail(mails)


@shared_task(name="core.trail_seal")
def trail_seal() -> int:
    """Chain the audit events committed since the last run (docs/trail.md)."""
    from .services import trail_seal as seal

    return seal()
