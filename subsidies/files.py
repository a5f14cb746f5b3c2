"""Links to the subsidies app's stored files (R12), served by core.files.file_response after the
selectors' scoping check."""
from __future__ import annotations

from django.urls import reverse


def api_url(request, route: str, pk: int, fieldfile) -> str | None:
    """The API's download link of a stored file, or None when there is none."""
    if not fieldfile:
        return None
    url = reverse(route, args=[pk])
    return request.build_absolute_uri(url) if request is not None else url
