"""Done when (issue 11): a proposal from filing to approval and a milestone from deposit to release, using
only the HTTP API — token auth, documents uploaded through `projects/{id}/attachments/`, the real services,
the real ledger — and the ledger invariants hold at the end."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from demo.people import DEMO_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/v1/"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def signed_in(username: str) -> APIClient:
    """A client that authenticates as an outside program does: a token from `auth/token/`."""
    anonymous = APIClient()
    r = anonymous.post(f"{API}auth/token/", {"username": username, "password": DEMO_PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {r.json()['token']}")
    return client


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.content.decode()[:500])
    return response.json()


def upload(client, project_id: int, kind: str, name: str, content: bytes = PDF):
    return client.post(f"{API}projects/{project_id}/attachments/",
                       {"kind": kind, "file": SimpleUploadedFile(name, content)}, format="multipart")


def test_r10_api_only_journey_from_filing_to_release(demo, ledger_ok):
    from core.tests.factories import scheme_in_force

    scheme_in_force()  # I16: filed under the version in force today
    enterprise, platform, reviewer = signed_in("enterprise"), signed_in("platform"), signed_in("reviewer")
    custodian, custodian2 = signed_in("custodian"), signed_in("custodian2")

    # -- filing: the enterprise's draft with its agreed terms (R1, R2, R4)
    proposal = {
        "title": "伺服驱动器国产化联合攻关", "platform": demo.plat1.pk, "mode": "project_cooperation",
        "summary": "企业出题、平台揭榜", "total_amount": "4000000.00", "equipment_amount": "500000.00",
        "budget": "2000000.00", "start_date": "2025-06-01", "end_date": "2026-09-30",
        "ip_terms": "阶段成果归企业所有，平台保留基础算法", "profit_sharing": "产业化后三年按销售额 2% 分成",
        "milestones": [
            {"seq": 1, "title": "样机", "targets": "转速精度 0.01%", "deliverables": "样机与测试报告",
             "amount": "2000000.00",
             "deposit_amount": "200000.00", "start_date": "2025-06-01", "due_date": "2026-01-31"},
            {"seq": 2, "title": "中试", "deliverables": "中试报告", "amount": "1500000.00",
             "deposit_amount": "150000.00", "start_date": "2026-02-01", "due_date": "2026-09-30"}]}
    project = ok(enterprise.post(f"{API}projects/", proposal, format="json"), 201)
    pid = project["id"]
    assert project["state"] == "draft" and project["eligible_amount"] == "3500000.00"

    # -- documents through the API: the type is judged by the bytes (R12)
    bad = upload(enterprise, pid, "plan", "方案.pdf", b"MZ\x90\x00 not a pdf")
    assert bad.status_code == 400 and "file" in bad.json()["fields"] and bad.json()["rule"] == "R12"
    assert upload(enterprise, pid, "contract", "方案.pdf").status_code == 400  # unknown kind names `kind`
    assert ok(enterprise.get(f"{API}projects/{pid}/attachments/"))["count"] == 0  # nothing stored
    plan = ok(upload(enterprise, pid, "plan", "合作方案.pdf"), 201)
    ok(upload(enterprise, pid, "agreement", "合作协议.png", PNG), 201)
    assert plan["kind"] == "plan" and plan["content_type"] == "application/pdf"
    downloaded = enterprise.get(plan["download"])
    assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content) == PDF

    # -- submission, 揭榜, acceptance, expert review, approval
    assert ok(enterprise.post(f"{API}projects/{pid}/submit/", {}, format="json"))["state"] == "submitted"
    assert ok(platform.post(f"{API}projects/{pid}/platform_sign/", {}, format="json"))["state"] == "signed"
    assert ok(reviewer.post(f"{API}projects/{pid}/accept/", {}, format="json"))["state"] == "accepted"
    assert ok(reviewer.post(f"{API}projects/{pid}/start_review/", {}, format="json"))["state"] == "under_review"
    drawn = ok(reviewer.get(f"{API}projects/{pid}/reviews/"))["results"]
    experts = {u.pk: u.username for u in (demo.expert1, demo.expert2, demo.expert3, demo.expert4)}
    assert drawn and all(r["status"] == "assigned" for r in drawn)
    for i, review in enumerate(drawn):
        expert = signed_in(experts[review["expert"]])
        body = {"scores": {"feasibility": 85 + i, "terms": 80, "cost": 90}, "opinion": "技术路线可行"}
        ok(expert.post(f"{API}projects/{pid}/reviews/", body, format="json"), 201)
    approved = ok(reviewer.post(f"{API}projects/{pid}/approve/", {"reason": "专家评审通过"}, format="json"))
    assert approved["state"] == "approved" and approved["notice_number"]

    # -- escrow: milestone 1 from deposit to release
    project = ok(reviewer.post(f"{API}projects/{pid}/open_escrow/", {}, format="json"))
    assert project["state"] == "active"
    m1, m2 = (m["id"] for m in sorted(project["milestones"], key=lambda m: m["seq"]))
    milestone = f"{API}milestones/{m1}/"
    assert ok(enterprise.get(milestone))["state"] == "deposit_due"
    ok(enterprise.post(f"{milestone}upload_receipt/", {"file": SimpleUploadedFile("回单.pdf", PDF)},
                       format="multipart"))
    ok(custodian.post(f"{milestone}confirm_deposit/", {"amount": "200000.00", "bank_ref": "HZ0001"}, format="json"))
    assert ok(enterprise.get(milestone))["state"] == "in_progress"
    ok(platform.post(f"{milestone}report_completion/",
                     {"description": "样机完成", "target_notes": '{"转速精度 0.01%": "实测达成"}',
                      "files": [SimpleUploadedFile("报告.pdf", PDF)]},
                     format="multipart"))
    assert ok(reviewer.post(f"{milestone}review_met/", {"reason": "达标"}, format="json"))["state"] == "balance_due"
    ok(enterprise.post(f"{milestone}upload_receipt/", {"file": SimpleUploadedFile("尾款回单.pdf", PDF)},
                       format="multipart"))
    ok(custodian.post(f"{milestone}confirm_balance/", {"amount": "1800000.00", "bank_ref": "HZ0002"}, format="json"))
    assert ok(custodian.get(milestone))["state"] == "releasable"
    released = ok(custodian.post(f"{milestone}release/", {}, format="json"))
    if released["operation"]["state"] == "awaiting_confirmation":  # above the threshold: maker–checker
        ok(custodian2.post(f"{API}operations/{released['operation']['id']}/confirm/", {}, format="json"))
    final = ok(platform.get(milestone))
    assert final["state"] == "released" and final["released_amount"] == "2000000.00"
    assert final["custody_balance"] == "0.00"

    # -- opening escrow called milestone 1's deposit; its release calls the next one's (R7): asking again is 409
    assert ok(enterprise.get(f"{API}milestones/{m2}/"))["state"] == "deposit_due"
    assert reviewer.post(f"{API}milestones/{m2}/request_deposit/", {}, format="json").status_code == 409
    history = ok(reviewer.get(f"{API}projects/{pid}/history/"))["results"]
    assert [h["to"] for h in history][:6] == ["draft", "submitted", "signed", "accepted", "under_review", "approved"]
