"""Second factor (TOTP, django-otp) for the people who move or approve money.

Custodian operators, reviewers, the pool manager and finance officers sign in
with their password and then a six-digit code from an authenticator app (or a
one-time recovery code) when ``ANXINBAO_REQUIRE_2FA`` is on (the production
settings' default). Pages send such a user to enrolment or verification until
the session is verified; the API refuses their unverified sessions, and their
tokens are issued only against a code (``POST /api/v1/auth/token/`` with
``otp``) and accepted only when issued that way.
"""
from __future__ import annotations

import secrets

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .choices import Role

# Who needs the second factor when it is required.
ROLES = (Role.CUSTODIAN, Role.REVIEWER, Role.POOL_MANAGER, Role.FINANCE)
RECOVERY_CODES = 10
# Paths an unverified user may still open: the second-factor pages themselves, logging out, the language switch,
# static files (the layout of the enrolment page).
OPEN_PATHS = ("/accounts/2fa/", "/accounts/logout/", "/i18n/", settings.STATIC_URL)
ISSUER = "Anxinbao"


def required(user) -> bool:
    """True when ``user`` must pass the second factor (the setting is on and the user has one of ``ROLES``)."""
    return bool(getattr(settings, "ANXINBAO_REQUIRE_2FA", False) and user.is_authenticated
                and user.has_role(*ROLES))


def is_verified(request) -> bool:
    """The session passed the second factor (django-otp's ``OTPMiddleware`` sets ``user.is_verified``)."""
    check = getattr(request.user, "is_verified", None)
    return bool(check and check())


def confirmed_totp(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_device(user) -> bool:
    return confirmed_totp(user) is not None


def pending_totp(user):
    """The enrolment device of ``user``: an unconfirmed TOTP device, made once and kept until confirmed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def qr_svg(text: str) -> str:
    """The QR code of ``text`` as an inline SVG element, drawn on the server (no image from elsewhere)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return svg[svg.index("<svg"):]


def provisioning_uri(device) -> str:
    """The otpauth:// URI of the device, labelled with the scheme's name so the app shows where the code is for."""
    from urllib.parse import quote

    return device.config_url.replace("otpauth://totp/", f"otpauth://totp/{quote(ISSUER)}:", 1) + f"&issuer={ISSUER}"


def confirm(device, token: str) -> list[str] | None:
    """Confirm an enrolment device with its first code; returns fresh recovery codes, or None for a wrong code."""
    from django.db import transaction
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    with transaction.atomic():
        # Locked and read again: of two confirmations at once (a double-click) the second finds the device
        # confirmed and makes no second set of recovery codes.
        device = type(device).objects.select_for_update().get(pk=device.pk)
        if device.confirmed or not device.verify_token(token):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return new_recovery_codes(device.user, StaticDevice, StaticToken)


def new_recovery_codes(user, static_device=None, static_token=None) -> list[str]:
    """Replace the user's recovery codes with ``RECOVERY_CODES`` new ones (each works once)."""
    if static_device is None:
        from django_otp.plugins.otp_static.models import StaticDevice as static_device
        from django_otp.plugins.otp_static.models import StaticToken as static_token
    from django.db import transaction

    with transaction.atomic():
        # One recovery device per user: the user's row is locked first, so two replacements at once queue up.
        list(type(user).objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
        device = static_device.objects.filter(user=user, name="recovery").order_by("pk").first() or \
            static_device.objects.create(user=user, name="recovery", confirmed=True)
        device.token_set.all().delete()
        codes = [secrets.token_hex(4) for _ in range(RECOVERY_CODES)]
        static_token.objects.bulk_create([static_token(device=device, token=c) for c in codes])
        return codes


def match(user, token: str):
    """The confirmed device (authenticator or recovery codes) that accepts ``token``, or None.
    A recovery code is used up by the match; a TOTP code is not accepted twice."""
    from django_otp import match_token

    token = (token or "").strip().replace(" ", "")
    if not token or len(token) > 16:
        return None
    return match_token(user, token)


def device_since(user):
    """When the user's first confirmed authenticator was made (tokens older than that predate the second factor)."""
    device = confirmed_totp(user)
    return getattr(device, "created_at", None) if device else None


REQUIRED_MESSAGE = _("此账户需要第二重验证：请在浏览器中完成验证，或在申请令牌时提供动态验证码（otp）。")
