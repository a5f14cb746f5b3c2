"""The API's error shape: {"code", "detail", "rule"?, "fields"?} (api.md)."""
from __future__ import annotations

import re

from django.core.exceptions import BadRequest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out = {}
        for key, value in detail.items():
            if isinstance(value, (list, tuple)):
                out[key] = [str(v) if not isinstance(v, dict) else str(v) for v in value]
            else:
                out[key] = [str(value)]
        return out
    return {"non_field_errors": [str(d) for d in detail]} if isinstance(detail, list) else {}


def _rule_of_codes(codes) -> str | None:
    """The rule a field error carries as its code (``rule:I4``, core.api.fields), if any."""
    if isinstance(codes, dict):
        codes = list(codes.values())
    if isinstance(codes, (list, tuple)):
        return next((r for r in map(_rule_of_codes, codes) if r), None)
    return codes[5:] if isinstance(codes, str) and codes.startswith("rule:") else None


def _not_found() -> dict:
    return {"code": "not_found", "detail": _("未找到，或您无权查看")}


def page_not_found(request, exception):
    """handler404: a path no view matches answers the API's error shape under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(_not_found(), status=404, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception)


def bad_request(request, exception):
    """handler400: a query parameter no page can read (core.params) answers a page saying so, JSON under /api/."""
    if not isinstance(exception, BadRequest):  # a suspicious request (e.g. an unknown host) gets Django's plain page
        return defaults.bad_request(request, exception)
    detail = str(exception)
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "bad_request", "detail": detail}, status=400,
                            json_dumps_params={"ensure_ascii": False})
    return render(request, "400.html", {"exception": detail}, status=400)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        return Response(_not_found(), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        rule = _rule_of_codes(exc.get_codes())
        for messages in fields.values():
            for message in messages:
                # "R13：…" in Chinese, "R13: …" in English (and the invariants: "I4：…")
                if not rule and (m := re.match(r"([RI]\d+)\s*[：:]", message)):
                    rule = m.group(1)
        body = {"code": "invalid", "detail": _("输入有误"), "fields": fields}
        if rule:
            body["rule"] = rule
        response.data = body
        return response
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.APIException) and hasattr(exc, "get_codes"):
        codes = exc.get_codes()
        if isinstance(codes, str):
            code = codes
    response.data = {"code": code, "detail": str(getattr(exc, "detail", exc))}
    return response
