"""One click, one effect for the pages' forms.

Every form that creates something or changes a state carries a one-time token
(``{% once_token %}``: a hidden field ``_once`` issued when the form is
rendered). ``OnceMiddleware`` runs a POST carrying it under the same record
the API keeps for its ``Idempotency-Key`` (``IdempotencyRecord``, per user),
claimed in the same transaction as the view's effect:

- the first POST claims the token, runs the view and stores where it led
  (its redirect); all of it commits or rolls back together;
- a resend or a double-click with the same token changes nothing and leads to
  the first result (the same redirect), with a notice that the form was already
  sent; two POSTs at the same moment queue on the token's unique row, and the
  second one then answers as the first did;
- a POST that is refused (4xx) rolls back and leaves the token unused; a page
  shown again with its errors carries a fresh token for the corrected form.
"""
from __future__ import annotations

import hashlib
import uuid

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .idempotency import run_keyed
from .models import IdempotencyRecord

FIELD = "_once"
MAX_LENGTH = 64


def new_token() -> str:
    return uuid.uuid4().hex


def _key(token: str) -> str:
    return f"web:form:{token}"


def _replay(request, record: IdempotencyRecord):
    messages.info(request, _("此表单已提交过，下面是第一次提交的结果"))
    location = (record.response_body or {}).get("location") or request.get_full_path()
    response = HttpResponseRedirect(location)
    if getattr(request, "htmx", False):
        response["HX-Redirect"] = location
    return response


def _page_of(request) -> str:
    """Where a resend of a form answered in place (200) leads: its ``next`` or the page it was sent from."""
    for candidate in (request.POST.get("next", ""), request.headers.get("HX-Current-URL", ""),
                      request.headers.get("Referer", "")):
        if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                         require_https=request.is_secure()):
            return candidate
    return request.get_full_path()


def run_once(request, token: str, handler):
    """Run ``handler()`` (a Django view call) at most once for this user and ``token``."""
    digest = hashlib.sha256(f"{request.method}\n{request.path}".encode()).hexdigest()

    def location(response) -> dict:
        return {"location": response.get("HX-Redirect") or response.get("Location") or _page_of(request)}

    return run_keyed(request=request, key=_key(token), digest=digest, handler=handler,
                     replay=lambda record: _replay(request, record), stored=location)


class OnceMiddleware:
    """Runs every page POST that carries a form token through ``run_once``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.path_info.startswith("/api/"):
            return None
        if not getattr(request.user, "is_authenticated", False):
            return None
        token = request.POST.get(FIELD, "").strip()
        if not token or len(token) > MAX_LENGTH:
            return None
        return run_once(request, token, lambda: view_func(request, *view_args, **view_kwargs))
