"""core.files.file_response: every protected file goes out as a private, non-sniffable attachment,
under its display name (Chinese included), and a file gone from storage is a 404, never a 500."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.http import Http404

from core.files import file_response
from core.models import BlacklistEntry

PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PRIVATE_MEDIA_ROOT = tmp_path


def stored(name: str, body: bytes = PDF):
    """A FileField's value, saved to storage (the row itself is not needed)."""
    entry = BlacklistEntry()
    entry.evidence.save(name, ContentFile(body), save=False)
    return entry.evidence


def test_download_is_a_private_nosniff_attachment_of_the_stored_bytes():
    r = file_response(stored("evidence.pdf"))
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    assert r["Content-Disposition"] == 'attachment; filename="evidence.pdf"'
    assert r["Content-Type"] == "application/pdf" and r["Content-Length"] == str(len(PDF))
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Cache-Control"] == "private, no-store"


def test_chinese_display_name_is_sent_as_rfc_5987_filename():
    r = file_response(stored("a.pdf"), filename="萧山区专项审计报告.pdf")
    assert r["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('萧山区专项审计报告.pdf')}"


def test_display_name_defaults_to_the_stored_base_name_in_chinese_too():
    fieldfile = stored("保单.pdf")
    assert fieldfile.name.startswith("blacklist/")
    r = file_response(fieldfile)
    assert r["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('保单.pdf')}"


def test_content_type_given_wins_else_read_from_the_bytes_else_octet_stream():
    assert file_response(stored("x.pdf"), content_type="image/png")["Content-Type"] == "image/png"
    # a PDF named .html is still served as a PDF: the bytes decide, not the uploader's name
    assert file_response(stored("x.html"))["Content-Type"] == "application/pdf"
    assert file_response(stored("档案.zip", b"PK\x03\x04zip"), content_type="application/zip")["Content-Type"] \
        == "application/zip"
    # bytes it does not know are not given the type their name claims (an uploaded page named .html)
    assert file_response(stored("x.html", b"<html>"))["Content-Type"] == "application/octet-stream"
    assert file_response(stored("x.bin", b"\x00\x01"))["Content-Type"] == "application/octet-stream"


def test_file_missing_from_storage_is_a_404_with_a_clear_message():
    fieldfile = stored("evidence.pdf")
    fieldfile.storage.delete(fieldfile.name)
    with pytest.raises(Http404) as exc:
        file_response(fieldfile, filename="证据.pdf")
    assert str(exc.value) == "文件不存在或已被移除"


def test_no_file_at_all_is_a_404():
    with pytest.raises(Http404):
        file_response(BlacklistEntry().evidence)
