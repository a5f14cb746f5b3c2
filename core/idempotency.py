"""The ``Idempotency-Key`` header of api.md for DRF views.

A POST that moves money or changes a state may carry ``Idempotency-Key``.
The key (per user), a hash of the request and the first response are stored
in ``IdempotencyRecord`` in the same database transaction as the effect:

- first request: the record is claimed first (an INSERT guarded by the
  unique constraint ``(user, key)``), then the view runs, then the response is
  stored; all of it commits or rolls back together;
- a replay with the same key and body returns the stored response
  (header ``Idempotent-Replayed: true``) and changes nothing;
- the same key with another body (or path) is 409 ``idempotency_key_reused``;
- two identical requests at the same time: the second one's INSERT waits for
  the first transaction; when that commits, the second replays its response.

A request that fails (a 4xx domain error raised by the view) rolls back with
its effect and leaves no record, so the client may correct and retry.
"""
from __future__ import annotations

import hashlib
import json
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework.response import Response

from .exceptions import ConflictError, DomainError
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def request_hash(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False)
    except TypeError:  # uploads (multipart): the fields and each file's name and bytes
        body = _multipart_digest(request.data)
    raw = f"{request.method}\n{request.path}\n{body}".encode()
    return hashlib.sha256(raw).hexdigest()


def _multipart_digest(data) -> str:
    """The body of a multipart request, read through its parsed fields (the raw stream is consumed by then)."""
    digest = hashlib.sha256()
    items = data.lists() if hasattr(data, "lists") else ((k, [v]) for k, v in data.items())
    for key, values in sorted(items, key=lambda kv: kv[0]):
        for value in values:
            digest.update(f"{key}\0".encode())
            if hasattr(value, "chunks"):
                digest.update(f"{getattr(value, 'name', '')}\0".encode())
                for chunk in value.chunks():
                    digest.update(chunk)
                value.seek(0)
            else:
                digest.update(str(value).encode())
            digest.update(b"\0")
    return digest.hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_hash != digest:
        raise ConflictError(_("Idempotency-Key 已用于另一个不同的请求"), code="idempotency_key_reused")
    return Response(record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def run_idempotently(request, handler):
    """Run ``handler()`` (which returns a DRF Response) under the request's Idempotency-Key, if any."""
    key = request.headers.get(HEADER, "").strip()
    if not key or not getattr(request.user, "is_authenticated", False):  # keys are kept per user
        return handler()
    if len(key) > MAX_KEY_LENGTH:
        raise DomainError(_("Idempotency-Key 不得超过 %(n)s 个字符") % {"n": MAX_KEY_LENGTH},
                          code="invalid_idempotency_key")
    digest = request_hash(request)
    return run_keyed(request=request, key=key, digest=digest, handler=handler,
                     replay=lambda record: _replay(record, digest),
                     stored=lambda response: (json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                                              if response.data is not None else None))


def run_keyed(*, request, key: str, digest: str, handler, replay, stored):
    """Run ``handler()`` at most once for the user and ``key``, in one transaction.

    A key already held answers ``replay(record)`` (also when a concurrent request with the key committed
    first); an error answer (4xx, 5xx) rolls back and keeps nothing, so the key stays usable; otherwise
    ``stored(response)`` is kept as the record's body. The API (Idempotency-Key) and page forms (the form
    token, ``core.once``) share it.
    """
    user = request.user
    with transaction.atomic():
        record = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if record is not None:
            return replay(record)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(user=user, key=key, method=request.method,
                                                          path=request.path[:300], request_hash=digest,
                                                          status_code=0, response_body=None)
        except IntegrityError:
            # A concurrent request with this key committed first: answer as it did.
            return replay(IdempotencyRecord.objects.get(user=user, key=key))
        response = handler()
        if response.status_code >= 400:
            transaction.set_rollback(True)  # an error answer changes nothing and is not stored
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=response.status_code,
                                                              response_body=stored(response))
        return response


def idempotent(view_method):
    """Decorate a DRF handler (``post``, ``create`` or an ``@action``) to honour Idempotency-Key."""

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        return run_idempotently(request, lambda: view_method(self, request, *args, **kwargs))

    return wrapper


class IdempotentCreateMixin:
    """For a ViewSet: ``create`` honours Idempotency-Key."""

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)
