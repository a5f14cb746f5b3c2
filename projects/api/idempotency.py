"""``Idempotency-Key`` for state-changing POSTs (api.md): a repeat returns the first answer, changes nothing."""
from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from core.exceptions import ConflictError
from core.models import IdempotencyRecord


def idempotent(request, handler: Callable[[], Response]) -> Response:
    key = request.headers.get("Idempotency-Key")
    if not key:
        return handler()
    digest = hashlib.sha256(request.method.encode() + request.path.encode() + request.body).hexdigest()
    previous = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if previous is not None:
        if previous.request_hash != digest:
            raise ConflictError("Idempotency-Key 已用于另一个请求", code="idempotency_key_reused")
        return Response(previous.response_body, status=previous.status_code)
    try:
        with transaction.atomic():
            response = handler()
            if response.status_code < 400:
                IdempotencyRecord.objects.create(user=request.user, key=key[:200], method=request.method,
                                                 path=request.path[:300], request_hash=digest,
                                                 status_code=response.status_code, response_body=response.data)
    except IntegrityError as exc:  # the same key raced in: the first one won
        raise ConflictError("同一 Idempotency-Key 的请求正在处理", code="idempotency_in_progress") from exc
    return response
