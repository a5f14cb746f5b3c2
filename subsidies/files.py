"""Stored files of the subsidies app (R12): served only after the selectors' scoping check."""
from __future__ import annotations

import posixpath

from django.http import FileResponse, Http404
from django.urls import reverse

from core.files import sniff_content_type


def file_response(fieldfile) -> FileResponse:
    """The stored file as a download; its content type is read from its bytes again, never trusted."""
    if not fieldfile:
        raise Http404
    try:
        handle = fieldfile.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = sniff_content_type(handle.read(16)) or "application/octet-stream"
    handle.seek(0)
    response = FileResponse(handle, as_attachment=True, filename=posixpath.basename(fieldfile.name),
                            content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def api_url(request, route: str, pk: int, fieldfile) -> str | None:
    """The API's download link of a stored file, or None when there is none."""
    if not fieldfile:
        return None
    url = reverse(route, args=[pk])
    return request.build_absolute_uri(url) if request is not None else url
