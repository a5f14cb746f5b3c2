"""The client's address behind the reverse proxy, for the login lockout (django-axes)."""
from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The address of the person signing in, as the trusted proxies saw it.

    ``ANXINBAO_TRUSTED_PROXIES`` proxies in front of the application each append the address they received the
    request from to X-Forwarded-For; REMOTE_ADDR is the last proxy. So the client is the N-th entry from the
    right: entries further left were written by the client and are never trusted. Without proxies (0, the
    default) X-Forwarded-For is ignored, so nobody can choose the address a lockout is keyed on.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = getattr(settings, "ANXINBAO_TRUSTED_PROXIES", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote  # not through all our proxies: the connecting address is all we know
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class UsernameThrottleBackend:
    """A per-username throttle across addresses, after the per-address lockout (issue 14).

    The lockout keys on username and address, so a stranger's failures lock only the stranger. A guesser who
    moves from address to address is held back here: once ``ANXINBAO_USERNAME_FAILURE_LIMIT`` failures for a
    username (counted over every address) fall within the cool-off, every sign-in of that username is refused
    until the oldest of them is older than the cool-off. The limit is set well above the per-address one, so one
    stranger at one address never reaches it. A guesser who keeps trying keeps the throttle on, so it never
    applies at an address the account has signed in from before (axes' access log): the owner's own office
    still gets in, and a stranger cannot lock the account for good.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and username_throttled(username) and not known_address(username, request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied  # stops the other backends: Django reports a failed sign-in
        return None
    # No ``get_user``: this backend signs nobody in, so no session names it, and Django's ``force_login`` (which
    # takes the first backend with a ``get_user``) goes on to the model backend.


def known_address(username: str, request) -> bool:
    """The account has signed in successfully from this client address before (kept by axes' access log)."""
    from axes.models import AccessLog

    address = client_ip(request) if request is not None else None
    return bool(address) and AccessLog.objects.filter(username=username, ip_address=address).exists()


def username_throttled(username: str) -> bool:
    from axes.models import AccessAttempt
    from django.db.models import Sum
    from django.utils import timezone

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = (AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
                .aggregate(n=Sum("failures_since_start"))["n"] or 0)
    return failures >= settings.ANXINBAO_USERNAME_FAILURE_LIMIT
