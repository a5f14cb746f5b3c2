"""Uploaded files (R12): PDF or image only, judged by their bytes, at most 20 MB.

Shared by every app that stores an uploaded file (project attachments, insurance
policies, audit reports, blacklist evidence).
"""
from __future__ import annotations

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
        raise DomainError(_("R12：文件超过 20 MB"), code="file_too_large", rule="R12",
                          fields={field: [_("R12：文件不能超过 20 MB")]})
    file.seek(0)
    content_type = sniff_content_type(file.read(16))
    file.seek(0)
    if content_type is None:
        raise DomainError(_("R12：只接受 PDF 或图片文件（按文件内容判断）"), code="file_type", rule="R12",
                          fields={field: [_("R12：只接受 PDF 或图片（PNG、JPEG、GIF、WebP）")]})
    return content_type
