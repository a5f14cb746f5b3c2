"""`projects/{id}/attachments/` (api.md, issue 11 point 5): multipart upload judged by the bytes (R12)."""
from __future__ import annotations

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from projects.models import Attachment
from projects.services import proposals
from projects.tests.factories import PDF_BYTES, PNG_BYTES, proposal_values


def api(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def draft(demo):
    return proposals.project_create(actor=demo.enterprise, **proposal_values(demo, documents=None))


def post(user, project, kind="plan", name="合作方案.pdf", content=PDF_BYTES):
    return api(user).post(f"/api/v1/projects/{project.pk}/attachments/",
                          {"kind": kind, "file": SimpleUploadedFile(name, content, content_type="application/pdf")},
                          format="multipart")


def test_r12_api_upload_answers_the_attachment_with_its_download_url(demo, draft):
    r = post(demo.enterprise, draft)
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["kind"] == "plan" and body["content_type"] == "application/pdf" and body["size"] == len(PDF_BYTES)
    assert body["download"].endswith(f"/api/v1/attachments/{body['id']}/download/")
    listed = api(demo.enterprise).get(f"/api/v1/projects/{draft.pk}/attachments/").json()
    assert listed["count"] == 1 and listed["results"][0]["download"] == body["download"]
    png = post(demo.enterprise, draft, kind="agreement", name="协议.pdf", content=PNG_BYTES).json()
    assert png["content_type"] == "image/png"  # the bytes decide, not the name or the declared type
    assert api(demo.enterprise2).get(body["download"]).status_code == 404
    assert api(demo.enterprise2).get(f"/api/v1/projects/{draft.pk}/attachments/").status_code == 404


@pytest.mark.parametrize("content, code", [(b"PK\x03\x04 a zip named .pdf", "file_type"), (b"", "empty_file")])
def test_r12_api_upload_refuses_what_is_not_a_pdf_or_image_naming_file(demo, draft, content, code):
    r = post(demo.enterprise, draft, content=content)
    assert r.status_code == 400 and r.json()["code"] == code and list(r.json()["fields"]) == ["file"]
    assert not Attachment.objects.exists()


def test_r12_api_upload_over_20_mb_is_400(demo, draft):
    from core.files import check_upload

    # the 20 MB limit, scaled down: the test file is one byte over it
    with mock.patch.object(check_upload, "__kwdefaults__", {"field": "file", "max_bytes": len(PDF_BYTES) - 1}):
        r = post(demo.enterprise, draft)
    assert r.status_code == 400 and r.json()["code"] == "file_too_large" and r.json()["rule"] == "R12"
    assert not Attachment.objects.exists()


def test_r12_api_upload_only_by_the_projects_parties(demo, draft):
    assert post(demo.reviewer, draft).status_code == 403  # the bureau reads, as on the page
    assert post(demo.enterprise2, draft).status_code == 404  # another enterprise does not see the project
    r = api(demo.enterprise).post(f"/api/v1/projects/{draft.pk}/attachments/", {"kind": "plan"}, format="multipart")
    assert r.status_code == 400 and "file" in r.json()["fields"]
    r = post(demo.enterprise, draft, kind="contract")
    assert r.status_code == 400 and "kind" in r.json()["fields"]
    assert not Attachment.objects.exists()


def test_r12_api_upload_with_an_idempotency_key_is_stored_once(demo, draft):
    def send(content=PDF_BYTES):
        return api(demo.enterprise).post(
            f"/api/v1/projects/{draft.pk}/attachments/", {"kind": "plan", "file": SimpleUploadedFile("方案.pdf", content)},
            format="multipart", HTTP_IDEMPOTENCY_KEY="upload-plan-1")

    first = send()
    assert first.status_code == 201, first.content
    again = send()
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert send(PNG_BYTES).status_code == 409  # the same key with another file
    assert Attachment.objects.count() == 1
