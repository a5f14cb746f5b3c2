"""Stored files: uploads (R12: PDF or image only, judged by their bytes, at most 20 MB) and downloads.

Shared by every app that stores an uploaded file (project attachments, insurance
policies, audit reports, blacklist evidence) or a rendered one (reports).
"""
from __future__ import annotations

import posixpath

from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from .exceptions import DomainError

MAX_BYTES = 20 * 1024 * 1024

# (magic prefix, content type); WebP is checked separately (RIFF....WEBP).
SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]


def sniff_content_type(head: bytes) -> str | None:
    """The content type read from the file's first bytes (never from its name or the browser's claim)."""
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_upload(file, *, field: str = "file", max_bytes: int = MAX_BYTES) -> str:
    """R12: refuse an empty file, one over 20 MB, or one whose bytes are not a PDF or an image.

    Returns the content type read from the bytes; the file is left at its start.
    """
    size = getattr(file, "size", None)
    if size is None or size <= 0:
        raise DomainError(_("文件为空"), code="empty_file", fields={field: [_("文件为空")]})
    if size > max_bytes:
        raise DomainError(_("文件超过 20 MB"), code="file_too_large", rule="R12",
                          fields={field: [_("文件不能超过 20 MB")]})
    file.seek(0)
    content_type = sniff_content_type(file.read(16))
    file.seek(0)
    if content_type is None:
        raise DomainError(_("只接受 PDF 或图片文件（按文件内容判断）"), code="file_type", rule="R12",
                          fields={field: [_("只接受 PDF 或图片（PNG、JPEG、GIF、WebP）")]})
    return content_type


def file_response(fieldfile, *, filename: str | None = None, content_type: str | None = None) -> FileResponse:
    """A stored file as a confidential download, served only after the caller's permission check.

    The display name defaults to the stored file's base name (non-ASCII names are sent as RFC 5987
    filename*). Without a content type it is read from the file's bytes, else application/octet-stream.
    A file missing from storage is a 404, not a 500.
    """
    missing = _("文件不存在或已被移除")
    if not fieldfile:
        raise Http404(missing)
    try:
        handle = fieldfile.open("rb")
    except FileNotFoundError as exc:
        raise Http404(missing) from exc
    if content_type is None:  # the bytes decide, never the name someone gave the file
        content_type = sniff_content_type(handle.read(16)) or "application/octet-stream"
        handle.seek(0)
    response = FileResponse(handle, as_attachment=True, filename=filename or posixpath.basename(fieldfile.name),
                            content_type=content_type)
    return _confidential(response)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    """A workbook built for this request (statements, the year's subsidies, platform performance), sent as a
    confidential attachment like a stored file."""
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return _confidential(response)


def _confidential(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
