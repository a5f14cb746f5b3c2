"""The proposal API (api.md): shapes, rule ids in errors, permissions (404/403), 409 for a wrong state."""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from core.tests.factories import make_user, scheme_in_force
from projects.choices import ProjectState
from projects.models import Project
from projects.tests.factories import pdf_file, project_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _scheme_in_force(db):
    """I16: filing needs a version in force on the submission date."""
    scheme_in_force()

PAYLOAD = {
    "title": "高端轴承热处理工艺联合攻关", "platform": None, "mode": "project_cooperation",
    "total_amount": "6000000.00", "equipment_amount": "1000000.00", "budget": "2000000.00",
    "start_date": "2025-06-01", "end_date": "2027-05-31", "ip_terms": "阶段成果归企业", "profit_sharing": "按销售额 3%",
    "milestones": [
        {"seq": 1, "title": "工艺方案", "deliverables": "方案报告", "amount": "2000000.00",
         "deposit_amount": "200000.00", "start_date": "2025-06-01", "due_date": "2026-01-31"},
        {"seq": 2, "title": "中试", "deliverables": "中试样件", "amount": "1800000.00",
         "deposit_amount": "180000.00", "start_date": "2026-02-01", "due_date": "2026-09-30"},
        {"seq": 3, "title": "量产验证", "deliverables": "量产报告", "amount": "1200000.00",
         "deposit_amount": "120000.00", "start_date": "2026-10-01", "due_date": "2027-05-31"},
    ],
}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def file_documents(api, pk: int, kinds=("plan", "agreement")) -> None:
    """R12: the proposal's documents through `projects/{id}/attachments/`, as a program files them."""
    for kind in kinds:
        r = api.post(f"/api/v1/projects/{pk}/attachments/", {"kind": kind, "file": pdf_file(f"{kind}.pdf")},
                     format="multipart")
        assert r.status_code == 201, r.json()


def payload(demo, **changes):
    body = {**PAYLOAD, "platform": demo.plat1.pk, "milestones": [dict(m) for m in PAYLOAD["milestones"]]}
    body.update(changes)
    return body


def test_create_draft_with_nested_milestones_and_submit(demo):
    api = client_for(demo.enterprise)
    r = api.post("/api/v1/projects/", payload(demo), format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["state"] == "draft" and body["eligible_amount"] == "5000000.00"
    assert [m["seq"] for m in body["milestones"]] == [1, 2, 3] and all(m["id"] for m in body["milestones"])
    assert body["milestones"][0]["deposit_amount"] == "200000.00"
    assert body["milestones"][0]["custody_balance"] == "0.00"
    assert body["notice_number"] is None and body["insured"] is False
    file_documents(api, body["id"])
    r = api.post(f"/api/v1/projects/{body['id']}/submit/", {}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "submitted"
    r = api.patch(f"/api/v1/projects/{body['id']}/", {"title": "改名"}, format="json")
    assert r.status_code == 409  # PATCH is for drafts only


def test_worked_example_1_via_api_r2(demo):
    api = client_for(demo.enterprise)
    body = payload(demo, total_amount="5000000.00", equipment_amount="2500000.00", budget="1500000.00")
    body["milestones"] = [dict(body["milestones"][0], amount="1500000.00", deposit_amount="150000.00"),
                          dict(body["milestones"][1], amount="1000000.00", deposit_amount="100000.00")]
    body["end_date"] = "2026-09-30"
    pk = api.post("/api/v1/projects/", body, format="json").json()["id"]
    r = api.post(f"/api/v1/projects/{pk}/submit/", {}, format="json")
    assert r.status_code == 400
    err = r.json()
    assert err["code"] == "proposal_invalid" and err["rule"] == "R2"
    assert err["fields"]["total_amount"][0].startswith("不含企业设备购置费的合作经费")  # words; the rule in "rule"
    assert "¥2,500,000.00" in err["detail"]


def test_worked_example_2_via_api_r5(demo):
    api = client_for(demo.enterprise)
    body = payload(demo, total_amount="5000000.00", equipment_amount="0.00", budget="1200000.00")
    body["milestones"][0].update(amount="1200000.00", deposit_amount="119999.99")
    body["milestones"][1].update(amount="2600000.00", deposit_amount="260000.00")
    pk = api.post("/api/v1/projects/", body, format="json").json()["id"]
    r = api.post(f"/api/v1/projects/{pk}/submit/", {}, format="json")
    assert r.status_code == 400
    err = r.json()
    assert err["rule"] == "R5"
    assert "¥120,000.00" in err["fields"]["milestones.1.deposit_amount"][0]
    # Fixing the deposit through PATCH lets it through.
    body["milestones"][0]["deposit_amount"] = "120000.00"
    r = api.patch(f"/api/v1/projects/{pk}/", {"milestones": body["milestones"]}, format="json")
    assert r.status_code == 200, r.json()
    file_documents(api, pk)
    assert api.post(f"/api/v1/projects/{pk}/submit/", {}, format="json").json()["state"] == "submitted"


def test_more_than_two_decimals_refused_with_i4(demo):
    api = client_for(demo.enterprise)
    r = api.post("/api/v1/projects/", payload(demo, budget="2000000.001"), format="json")
    assert r.status_code == 400
    assert r.json()["rule"] == "I4" and "budget" in r.json()["fields"]


def test_enterprise_b_gets_404_for_enterprise_a_project_and_attachment(demo, client):
    project = project_at(demo, "submitted")
    attachment = project.attachments.first()
    other = client_for(demo.enterprise2)
    assert other.get(f"/api/v1/projects/{project.pk}/").status_code == 404
    assert other.get(f"/api/v1/projects/{project.pk}/history/").status_code == 404
    assert other.post(f"/api/v1/projects/{project.pk}/submit/", {}).status_code == 404
    assert other.get("/api/v1/projects/").json()["count"] == 0
    client.force_login(demo.enterprise2)
    assert client.get(f"/projects/attachments/{attachment.pk}/").status_code == 404
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    client.force_login(demo.enterprise)
    r = client.get(f"/projects/attachments/{attachment.pk}/")
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"%PDF")
    assert r["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(attachment.original_name)}"
    assert r["Content-Type"] == "application/pdf" and r["X-Content-Type-Options"] == "nosniff"
    assert r["Cache-Control"] == "private, no-store"
    attachment.file.storage.delete(attachment.file.name)   # gone from storage: a 404, not a 500
    assert client.get(f"/projects/attachments/{attachment.pk}/").status_code == 404


def test_platform_sees_no_drafts_and_other_platform_sees_nothing(demo):
    draft = project_at(demo, "draft")
    submitted = project_at(demo, "submitted", title="已提交项目")
    ids = [p["id"] for p in client_for(demo.platform).get("/api/v1/projects/").json()["results"]]
    assert ids == [submitted.pk]
    assert client_for(demo.platform).get(f"/api/v1/projects/{draft.pk}/").status_code == 404
    assert client_for(demo.platform2).get(f"/api/v1/projects/{submitted.pk}/").status_code == 404


def test_expert_sees_only_assigned_projects(demo):
    reviewed = project_at(demo, "under_review")
    project_at(demo, "accepted", title="未抽专家的项目")
    drawn = list(reviewed.assignments.values_list("expert__username", flat=True))
    not_drawn = ({"expert1", "expert2", "expert3", "expert4"} - set(drawn)).pop()
    ids = [p["id"] for p in client_for(getattr(demo, drawn[0])).get("/api/v1/projects/").json()["results"]]
    assert ids == [reviewed.pk]
    assert client_for(getattr(demo, not_drawn)).get(f"/api/v1/projects/{reviewed.pk}/").status_code == 404


def test_platform_cannot_accept_403_and_reviewer_cannot_sign_403(demo):
    project = project_at(demo, "submitted")
    r = client_for(demo.reviewer).post(f"/api/v1/projects/{project.pk}/platform_sign/", {})
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert client_for(demo.platform).post(f"/api/v1/projects/{project.pk}/platform_sign/", {}).status_code == 200
    r = client_for(demo.platform).post(f"/api/v1/projects/{project.pk}/accept/", {})
    assert r.status_code == 403
    assert "审核人员" in r.json()["detail"]


def test_nobody_approves_own_organisations_project_403(demo):
    project = project_at(demo, "reviewed")
    insider = make_user("bureau_insider", demo.ent1, "reviewer")
    r = client_for(insider).post(f"/api/v1/projects/{project.pk}/approve/", {"reason": "专家评审通过"})
    assert r.status_code == 403
    assert Project.objects.get(pk=project.pk).state == ProjectState.UNDER_REVIEW


def test_wrong_state_is_409_and_unknown_action_404(demo):
    project = project_at(demo, "submitted")
    r = client_for(demo.reviewer).post(f"/api/v1/projects/{project.pk}/approve/", {"reason": "专家评审通过"})
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed"
    assert client_for(demo.reviewer).post(f"/api/v1/projects/{project.pk}/fly/", {}).status_code == 404


def test_reject_needs_reason_and_history_lists_transitions(demo):
    project = project_at(demo, "reviewed")
    api = client_for(demo.reviewer)
    assert api.post(f"/api/v1/projects/{project.pk}/reject/", {}).status_code == 400
    r = api.post(f"/api/v1/projects/{project.pk}/reject/", {"reason": "研发成本测算依据不足"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    body = client_for(demo.enterprise).get(f"/api/v1/projects/{project.pk}/history/").json()
    assert body["count"] == 6 and body["next"] is None  # paginated like every list (api.md)
    history = body["results"]
    assert [h["action"] for h in history] == ["create", "submit", "platform_sign", "accept", "start_review",
                                                  "reject"]
    assert history[-1] == {**history[-1], "from": "under_review", "to": "rejected", "actor": "reviewer",
                           "reason": "研发成本测算依据不足"}


def test_approve_without_reason_is_400_naming_r13(demo):
    project = project_at(demo, "reviewed")
    api = client_for(demo.reviewer)
    for body in ({}, {"reason": "  "}):
        r = api.post(f"/api/v1/projects/{project.pk}/approve/", body, format="json")
        assert r.status_code == 400
        assert r.json()["code"] == "reason_required" and r.json()["rule"] == "R13" and "reason" in r.json()["fields"]
    project = Project.objects.get(pk=project.pk)
    assert project.state == ProjectState.UNDER_REVIEW and project.notice_number is None


def test_reviews_post_scores_and_get_mean(demo):
    project = project_at(demo, "under_review")
    experts = [a.expert for a in project.assignments.select_related("expert")]
    for expert, s in zip(experts, (70, 80, 90)):
        r = client_for(expert).post(f"/api/v1/projects/{project.pk}/reviews/", {
            "scores": {"feasibility": s, "terms": s, "cost": s + 3}, "opinion": "可行"}, format="json")
        assert r.status_code == 201, r.json()
        assert r.json()["score"] == f"{s + 1}.00"
    r = client_for(experts[0]).post(f"/api/v1/projects/{project.pk}/reviews/", {
        "scores": {"feasibility": 1, "terms": 1, "cost": 1}, "opinion": "再评"}, format="json")
    assert r.status_code == 409
    body = client_for(demo.reviewer).get(f"/api/v1/projects/{project.pk}/reviews/").json()
    assert body["count"] == 3 and body["mean_score"] == "81.00"
    # The parties see the scores but not who gave them; an expert sees only their own review.
    party = client_for(demo.enterprise).get(f"/api/v1/projects/{project.pk}/reviews/").json()
    assert party["count"] == 3 and all(r["expert"] is None for r in party["results"])
    assert client_for(experts[1]).get(f"/api/v1/projects/{project.pk}/reviews/").json()["count"] == 1
    r = client_for(demo.reviewer).post(f"/api/v1/projects/{project.pk}/reviews/", {
        "scores": {"feasibility": 1, "terms": 1, "cost": 1}, "opinion": "x"}, format="json")
    assert r.status_code == 403


def test_review_out_of_range_400_r13_and_conflict_draws_replacement(demo):
    project = project_at(demo, "under_review")
    expert = project.assignments.first().expert
    r = client_for(expert).post(f"/api/v1/projects/{project.pk}/reviews/", {
        "scores": {"feasibility": 120, "terms": 1, "cost": 1}, "opinion": "x"}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "R13"
    r = client_for(expert).post(f"/api/v1/projects/{project.pk}/reviews/", {
        "conflict_of_interest": True, "reason": "曾任该企业顾问"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn" and r.json()["replacement_drawn"] is True
    assert client_for(expert).get(f"/api/v1/projects/{project.pk}/").status_code == 404


def test_approve_via_api_answers_notice_number_or_queued(demo, ledger_ok):
    project = project_at(demo, "reviewed")
    body = {"reason": "专家评审通过"}
    r = client_for(demo.reviewer).post(f"/api/v1/projects/{project.pk}/approve/", body, format="json",
                                       HTTP_IDEMPOTENCY_KEY="approve-1")
    assert r.status_code == 200
    assert r.json()["state"] == "approved" and r.json()["notice_number"].startswith("萧科安〔")
    again = client_for(demo.reviewer).post(f"/api/v1/projects/{project.pk}/approve/", body, format="json",
                                           HTTP_IDEMPOTENCY_KEY="approve-1")
    assert again.status_code == 200 and again.json() == r.json()
    short = project_at(demo, "reviewed", title="大项目", budget=Decimal("99000000.00"))
    r = client_for(demo.reviewer).post(f"/api/v1/projects/{short.pk}/approve/", body, format="json")
    assert r.status_code == 200 and r.json()["state"] == "waitlisted" and r.json()["queued"] is True
    assert "风险池可用余额" in r.json()["detail"] and "I2" not in r.json()["detail"]


def test_list_filters_and_query_count(demo, django_assert_max_num_queries):
    for i in range(4):
        project_at(demo, "submitted", title=f"项目{i}")
    project_at(demo, "draft", title="草稿")
    api = client_for(demo.reviewer)
    with django_assert_max_num_queries(8):
        r = api.get("/api/v1/projects/?state=submitted")
    assert r.json()["count"] == 4
    assert api.get(f"/api/v1/projects/?platform={demo.plat2.pk}").json()["count"] == 0
    assert api.get(f"/api/v1/projects/?enterprise={demo.ent1.pk}").json()["count"] == 5
    assert api.get("/api/v1/projects/?state=nonsense").status_code == 400
    one = Project.objects.filter(title="项目0").get()
    years = range(one.start_date.year, one.end_date.year + 1)
    assert api.get(f"/api/v1/projects/?year={years[0]}").json()["count"] == 5
    assert api.get(f"/api/v1/projects/?year={years[-1] + 1}").json()["count"] == 0
    assert api.get(f"/api/v1/projects/?year={years[0] - 1}").json()["count"] == 0
    assert api.get("/api/v1/projects/?year=soon").status_code == 400


def test_upload_checks_bytes_not_name(demo, client):
    project = project_at(demo, "draft")
    client.force_login(demo.enterprise)
    fake = pdf_file("伪装.pdf", content=b"MZ\x90\x00 this is an executable")
    r = client.post(f"/projects/{project.pk}/attachments/", {"kind": "plan", "file": fake}, follow=True)
    assert "R12" in r.content.decode()
    assert project.attachments.count() == 0
    png = pdf_file("scan.pdf", content=b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    client.post(f"/projects/{project.pk}/attachments/", {"kind": "plan", "file": png})
    assert project.attachments.get().content_type == "image/png"


def test_only_enterprise_staff_create_and_idempotency_key_replays_create(demo):
    assert client_for(demo.platform).post("/api/v1/projects/", payload(demo), format="json").status_code == 403
    api = client_for(demo.enterprise)
    first = api.post("/api/v1/projects/", payload(demo), format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    again = api.post("/api/v1/projects/", payload(demo), format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    other = api.post("/api/v1/projects/", payload(demo, title="另一个"), format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert other.status_code == 409
    assert Project.objects.count() == 1
    pk = first.json()["id"]
    assert client_for(demo.enterprise2).patch(f"/api/v1/projects/{pk}/", {"title": "x"}, format="json").status_code == 404


def test_unauthenticated_is_401(db):
    assert APIClient().get("/api/v1/projects/").status_code == 401


def test_open_escrow_through_the_action_endpoint_reaches_the_milestone_services(demo, ledger_ok):
    project = project_at(demo, "approved")
    assert client_for(demo.enterprise).post(f"/api/v1/projects/{project.pk}/open_escrow/", {}).status_code == 403
    r = client_for(demo.reviewer).post(f"/api/v1/projects/{project.pk}/open_escrow/", {}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "active"
    assert r.json()["milestones"][0]["state"] == "deposit_due"
    r = client_for(demo.reviewer).post(f"/api/v1/projects/{project.pk}/open_escrow/", {}, format="json")
    assert r.status_code == 409
