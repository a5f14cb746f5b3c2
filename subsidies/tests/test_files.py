"""R12: policy documents, audit reports and blacklist evidence are checked by their bytes and size,
and served only through scoped download views (another enterprise's file: 404)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.exceptions import DomainError
from core.files import MAX_BYTES
from core.models import BlacklistEntry
from core.services import organization_blacklist
from subsidies.models import AnnualAudit, InsurancePolicy
from subsidies.services import audit_save, policy_create

from .factories import make_project

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% policy document\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PRIVATE_MEDIA_ROOT = tmp_path


def pdf(name="保单.pdf", body=PDF):
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def api_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def _policy_post(project, demo, document):
    return {"project": project.pk, "insurer": demo.insurer.pk, "insured": "enterprise", "type": "rd_loss",
            "premium": "100000.00", "cover": "1000000.00", "start_date": "2025-05-01",
            "end_date": "2026-04-30", "document": document}


@pytest.fixture
def files_of_a(demo):
    """Enterprise A's policy with its document and its audited year with the report."""
    p = make_project(demo, demo.ent1)
    policy = policy_create(actor=demo.enterprise, project=p, insurer=demo.insurer, type="rd_loss",
                           premium=Decimal("100000.00"), cover=Decimal("1000000.00"), start_date=date(2025, 5, 1),
                           end_date=date(2026, 4, 30), document=pdf())
    audit = audit_save(actor=demo.auditor, project=p, year=2025, audited_input=Decimal("1000000.00"), reason="审计",
                       report=SimpleUploadedFile("审计报告.png", PNG, content_type="image/png"))
    return policy, audit


def test_policy_document_that_is_not_pdf_or_image_is_refused_naming_r12(client, demo):
    p = make_project(demo, demo.ent1)
    client.force_login(demo.enterprise)
    fake = SimpleUploadedFile("保单.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    r = client.post("/subsidies/insurance/", _policy_post(p, demo, fake))
    assert r.status_code == 200 and "只接受 PDF 或图片" in r.content.decode()
    assert not InsurancePolicy.objects.exists()
    with pytest.raises(DomainError) as exc:  # the service refuses it too, whoever calls it
        policy_create(actor=demo.enterprise, project=p, insurer=demo.insurer, type="rd_loss",
                      premium=Decimal("1.00"), cover=Decimal("1.00"), start_date=date(2025, 5, 1),
                      end_date=date(2025, 6, 1), document=SimpleUploadedFile("x.pdf", b"<html>"))
    assert exc.value.rule == "R12" and exc.value.code == "file_type"


def test_audit_report_over_20_mb_is_refused_r12(client, demo):
    p = make_project(demo, demo.ent1)
    big = SimpleUploadedFile("审计报告.pdf", PDF + b"0" * (MAX_BYTES + 1 - len(PDF)), content_type="application/pdf")
    client.force_login(demo.auditor)
    r = client.post("/subsidies/audits/", {"project": p.pk, "year": 2025, "audited_input": "0.00", "report": big})
    assert r.status_code == 200 and "20 MB" in r.content.decode()
    assert not AnnualAudit.objects.exists()
    big.seek(0)
    with pytest.raises(DomainError) as exc:
        audit_save(actor=demo.auditor, project=p, year=2025, audited_input=Decimal("0.00"), report=big)
    assert exc.value.rule == "R12" and exc.value.code == "file_too_large"


def test_file_of_exactly_20_mb_is_accepted_r12(demo):
    p = make_project(demo, demo.ent1)
    exact = SimpleUploadedFile("审计报告.pdf", PDF + b"0" * (MAX_BYTES - len(PDF)))
    audit = audit_save(actor=demo.auditor, project=p, year=2025, audited_input=Decimal("0.00"), report=exact)
    assert audit.report.size == MAX_BYTES


def test_blacklist_evidence_not_pdf_or_image_is_refused_r12(client, demo):
    client.force_login(demo.reviewer)
    r = client.post("/subsidies/blacklist/", {"action": "add", "add-organization": demo.ent2.pk,
                                              "add-reason": "虚报研发投入",
                                              "add-evidence": SimpleUploadedFile("证据.pdf", b"PK\x03\x04zip")})
    assert r.status_code == 200 and "只接受 PDF 或图片" in r.content.decode()
    demo.ent2.refresh_from_db()
    assert not demo.ent2.blacklisted and not BlacklistEntry.objects.exists()


def test_owner_downloads_policy_document_and_audit_report_on_pages_and_api(client, demo, files_of_a):
    policy, audit = files_of_a
    client.force_login(demo.enterprise)
    html = client.get(f"/subsidies/insurance/{policy.pk}/").content.decode()
    assert f"/subsidies/insurance/{policy.pk}/document/" in html
    r = client.get(f"/subsidies/insurance/{policy.pk}/document/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    assert r["Content-Type"] == "application/pdf" and r["X-Content-Type-Options"] == "nosniff"
    assert r["Cache-Control"] == "private, no-store"
    assert r["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('保单.pdf')}"
    assert f"/subsidies/audits/{audit.pk}/report/" in client.get(f"/subsidies/audits/{audit.pk}/").content.decode()
    r = client.get(f"/subsidies/audits/{audit.pk}/report/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == PNG and r["Content-Type"] == "image/png"
    assert r["X-Content-Type-Options"] == "nosniff" and r["Cache-Control"] == "private, no-store"

    api = api_for(demo.enterprise)
    body = api.get(f"/api/v1/insurance/policies/{policy.pk}/").json()
    assert body["document"] == f"http://testserver/api/v1/insurance/policies/{policy.pk}/document/"
    r = api.get(body["document"])
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    assert r["X-Content-Type-Options"] == "nosniff" and r["Cache-Control"] == "private, no-store"
    body = api.get(f"/api/v1/audits/{audit.pk}/").json()
    assert body["report"] == f"http://testserver/api/v1/audits/{audit.pk}/report/"
    r = api.get(body["report"])
    assert r.status_code == 200 and b"".join(r.streaming_content) == PNG
    assert r["X-Content-Type-Options"] == "nosniff" and r["Cache-Control"] == "private, no-store"


def test_oversight_downloads_any_enterprise_files(client, demo, files_of_a):
    policy, audit = files_of_a
    for user in (demo.reviewer, demo.auditor):
        client.force_login(user)
        assert client.get(f"/subsidies/insurance/{policy.pk}/document/").status_code == 200
        assert client.get(f"/subsidies/audits/{audit.pk}/report/").status_code == 200


def test_enterprise_b_gets_404_for_enterprise_a_policy_document_and_audit_report(client, demo, files_of_a):
    policy, audit = files_of_a
    client.force_login(demo.enterprise2)
    assert client.get(f"/subsidies/insurance/{policy.pk}/document/").status_code == 404
    assert client.get(f"/subsidies/audits/{audit.pk}/report/").status_code == 404
    api = api_for(demo.enterprise2)
    assert api.get(f"/api/v1/insurance/policies/{policy.pk}/document/").status_code == 404
    assert api.get(f"/api/v1/audits/{audit.pk}/report/").status_code == 404


def test_without_a_file_the_api_gives_null_and_the_download_is_404(client, demo):
    p = make_project(demo, demo.ent1)
    policy = policy_create(actor=demo.enterprise, project=p, insurer=demo.insurer, type="rd_loss",
                           premium=Decimal("1.00"), cover=Decimal("1.00"), start_date=date(2025, 5, 1),
                           end_date=date(2025, 6, 1))
    assert api_for(demo.enterprise).get(f"/api/v1/insurance/policies/{policy.pk}/").json()["document"] is None
    client.force_login(demo.enterprise)
    assert client.get(f"/subsidies/insurance/{policy.pk}/document/").status_code == 404


def test_blacklist_evidence_only_for_bureau_and_auditors_r17(client, demo):
    entry = organization_blacklist(organization=demo.ent2, actor=demo.reviewer, reason="虚报研发投入",
                                   evidence=pdf("证据.pdf"))
    url = f"/subsidies/blacklist/{entry.pk}/evidence/"
    client.force_login(demo.reviewer)
    assert url in client.get("/subsidies/blacklist/").content.decode()
    for user in (demo.reviewer, demo.auditor):
        client.force_login(user)
        r = client.get(url)
        assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
        assert r["X-Content-Type-Options"] == "nosniff" and r["Cache-Control"] == "private, no-store"
    for user in (demo.enterprise2, demo.enterprise, demo.platform, demo.finance):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
