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
