"""POST reports/ → 202; GET reports/{id}/ → state, progress, download; other organisations get 404."""
import io
import zipfile
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from reports.models import Report

from .pdfcheck import cjk_embedded, squeeze, text


def client_for(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


def _request(user, kind, params, capture):
    with capture(execute=True):
        resp = client_for(user).post("/api/v1/reports/", {"kind": kind, "params": params}, format="json")
    return resp


@pytest.mark.django_db
def test_post_answers_202_and_get_shows_progress_and_download(projects, demo, django_capture_on_commit_callbacks):
    project = projects[0]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resp = client_for(demo.enterprise).post("/api/v1/reports/",
                                                {"kind": "approval_notice", "params": {"project": project.pk}},
                                                format="json")
    assert resp.status_code == 202, resp.content
    rid = resp.json()["id"]
    assert resp.json()["state"] == "queued" and resp.json()["progress"] == 0 and resp.json()["download"] is None
    assert len(callbacks) == 1
    callbacks[0]()   # the worker (eager Celery) runs the task dispatched on commit
    got = client_for(demo.enterprise).get(f"/api/v1/reports/{rid}/").json()
    assert got["state"] == "done" and got["progress"] == 100
    assert got["number"] == "萧科安〔2025〕7号" and got["pages"] == 1
    assert got["download"].endswith(f"/api/v1/reports/{rid}/download/")
    pdf = client_for(demo.enterprise).get(got["download"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    filename = Report.objects.get(pk=rid).filename
    assert filename.startswith("准予立项通知书")
    assert pdf["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(filename)}"
    assert pdf["X-Content-Type-Options"] == "nosniff" and pdf["Cache-Control"] == "private, no-store"
    content = b"".join(pdf.streaming_content)
    assert "准予立项通知书" in squeeze(text(content)) and cjk_embedded(content)
    stored = Report.objects.get(pk=rid).file
    stored.storage.delete(stored.name)   # gone from storage: a 404 in the API's shape, not a 500
    gone = client_for(demo.enterprise).get(got["download"])
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"


@pytest.mark.django_db
def test_progress_is_recorded_while_the_annual_audit_renders(projects, demo, settings,
                                                             django_capture_on_commit_callbacks, monkeypatch):
    from django.utils import timezone

    from reports import services

    settings.REPORTS_CHUNK_SIZE = 1
    seen = []
    real = services._set_progress

    def spy(report_id, percent):
        real(report_id, percent)
        seen.append(Report.objects.values_list("state", "progress").get(pk=report_id))

    monkeypatch.setattr(services, "_set_progress", spy)
    resp = _request(demo.auditor, "annual_audit", {"year": timezone.localdate().year},
                    django_capture_on_commit_callbacks)
    assert resp.status_code == 202
    report = Report.objects.get(pk=resp.json()["id"])
    assert report.state == "done" and report.progress == 100 and report.pages >= 4
    assert all(state == "running" for state, _p in seen)
    progress = [p for _s, p in seen]
    assert progress == sorted(progress) and len(set(progress)) >= 4 and max(progress) < 100


@pytest.mark.django_db
def test_enterprise_cannot_request_or_read_another_enterprises_documents_404(projects, demo,
                                                                            django_capture_on_commit_callbacks):
    other_project = projects[2]   # enterprise 2's project
    for kind in ("approval_notice", "project_dossier", "custody_statement", "dossier_export"):
        resp = _request(demo.enterprise, kind, {"project": other_project.pk}, django_capture_on_commit_callbacks)
        assert resp.status_code == 404, (kind, resp.content)
    resp = _request(demo.enterprise, "subsidy_decision", {"enterprise": demo.ent2.pk, "year": 2025},
                    django_capture_on_commit_callbacks)
    assert resp.status_code == 404
    resp = _request(demo.enterprise, "annual_audit", {"year": 2025}, django_capture_on_commit_callbacks)
    assert resp.status_code == 403 and resp.json()["code"] == "permission_denied"

    # enterprise 2 has its own dossier rendered; enterprise 1 can neither see it nor download it
    resp = _request(demo.enterprise2, "project_dossier", {"project": other_project.pk},
                    django_capture_on_commit_callbacks)
    assert resp.status_code == 202
    rid = resp.json()["id"]
    assert Report.objects.get(pk=rid).state == "done"
    c = client_for(demo.enterprise)
    assert c.get(f"/api/v1/reports/{rid}/").status_code == 404
    assert c.get(f"/api/v1/reports/{rid}/download/").status_code == 404
    assert rid not in [r["id"] for r in c.get("/api/v1/reports/").json()["results"]]
    from django.test import Client

    browser = Client()
    browser.force_login(demo.enterprise)
    assert browser.get(f"/reports/{rid}/").status_code == 404
    assert browser.get(f"/reports/{rid}/download/").status_code == 404
    assert browser.get(f"/reports/{rid}/progress/").status_code == 404
    # its own staff and the auditor can
    assert client_for(demo.enterprise2).get(f"/api/v1/reports/{rid}/download/").status_code == 200
    assert client_for(demo.auditor).get(f"/api/v1/reports/{rid}/download/").status_code == 200
    # reports are scoped by the requesting organisation: the project's platform does not see this one
    assert client_for(demo.platform).get(f"/api/v1/reports/{rid}/").status_code == 404


@pytest.mark.django_db
def test_platform_sees_only_its_own_projects_documents(projects, demo, django_capture_on_commit_callbacks):
    mine, theirs = projects[0], projects[1]   # plat1's and plat2's projects
    assert _request(demo.platform, "custody_statement", {"project": mine.pk},
                    django_capture_on_commit_callbacks).status_code == 202
    assert _request(demo.platform, "custody_statement", {"project": theirs.pk},
                    django_capture_on_commit_callbacks).status_code == 404


@pytest.mark.django_db
def test_invalid_requests_answer_400(demo, projects, django_capture_on_commit_callbacks):
    resp = _request(demo.auditor, "nonsense", {}, django_capture_on_commit_callbacks)
    assert resp.status_code == 400 and resp.json()["code"] == "invalid"
    resp = _request(demo.auditor, "project_dossier", {"project": "x"}, django_capture_on_commit_callbacks)
    assert resp.status_code == 400 and "params.project" in resp.json()["fields"]
    resp = _request(demo.auditor, "subsidy_decision", {"enterprise": demo.ent1.pk, "year": 2025},
                    django_capture_on_commit_callbacks)
    assert resp.status_code == 400 and resp.json()["rule"] == "R11"
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_dossier_export_zip_has_pdf_attachments_and_csv(projects, demo, django_capture_on_commit_callbacks):
    from projects.models import Attachment, ExpertAssignment

    project = projects[0]
    Attachment.objects.create(project=project, kind="agreement", file=ContentFile(b"agreement bytes", name="a.pdf"),
                              original_name="合作协议.pdf", content_type="application/pdf", size=15,
                              sha256="cd" * 32, uploaded_by=demo.enterprise)
    Attachment.objects.create(project=project, kind="receipt", file=ContentFile(b"receipt bytes", name="r.png"),
                              original_name="银行回单.png", content_type="image/png", size=13, sha256="ef" * 32,
                              uploaded_by=demo.enterprise)
    ExpertAssignment.objects.create(project=project, expert=demo.expert2, status="scored", feasibility=70, terms=80,
                                    cost=90, opinion="预算合理")
    resp = _request(demo.enterprise, "dossier_export", {"project": project.pk}, django_capture_on_commit_callbacks)
    assert resp.status_code == 202
    got = client_for(demo.enterprise).get(f"/api/v1/reports/{resp.json()['id']}/").json()
    assert got["state"] == "done"
    data = client_for(demo.enterprise).get(got["download"])
    assert data["Content-Type"] == "application/zip" and data["X-Content-Type-Options"] == "nosniff"
    zf = zipfile.ZipFile(io.BytesIO(b"".join(data.streaming_content)))
    names = zf.namelist()
    assert f"项目档案-{project.pk}.pdf" in names
    assert "attachments/001-合作协议.pdf" in names and "attachments/002-银行回单.png" in names
    assert zf.read("attachments/001-合作协议.pdf") == b"agreement bytes"
    reviews = zf.read("reviews.csv").decode("utf-8-sig")
    assert "expert2" in reviews and "80.00" in reviews and "预算合理" in reviews
    postings = zf.read("postings.csv").decode("utf-8-sig").splitlines()
    assert postings[0] == "entry,created_at,memo,account,amount,actor"
    amounts = [line.rsplit(",", 2)[1] for line in postings[1:]]
    assert "5000000.00" in amounts and "-1000000.00" in amounts and "700000.00" in amounts
    assert "科创安心宝项目档案" in squeeze(text(zf.read(f"项目档案-{project.pk}.pdf")))


@pytest.mark.django_db
def test_task_delivered_twice_renders_once(projects, demo, django_capture_on_commit_callbacks):
    from reports.tasks import render_report

    resp = _request(demo.auditor, "custody_statement", {"project": projects[0].pk}, django_capture_on_commit_callbacks)
    report = Report.objects.get(pk=resp.json()["id"])
    name = report.file.name
    assert render_report.apply(args=[report.pk]).get() == "done"
    again = Report.objects.get(pk=report.pk)
    assert again.file.name == name and again.attempts == 1 and again.number.startswith("萧科安账〔")


@pytest.mark.django_db
def test_report_list_query_count_is_bounded(projects, demo, django_capture_on_commit_callbacks,
                                            django_assert_max_num_queries):
    for p in projects:
        _request(demo.auditor, "custody_statement", {"project": p.pk}, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(6):
        resp = client_for(demo.auditor).get("/api/v1/reports/")
    assert resp.json()["count"] == 3


@pytest.mark.django_db
def test_report_page_polls_while_rendering_and_stops_when_done(projects, demo):
    from django.test import Client

    report = Report.objects.create(kind="custody_statement", params={"project": projects[0].pk},
                                   requested_by=demo.auditor, organization=demo.auditor.organization)
    browser = Client()
    browser.force_login(demo.auditor)
    page = browser.get(f"/reports/{report.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and f"/reports/{report.pk}/progress/" in page
    Report.objects.filter(pk=report.pk).update(state="done", progress=100, file="reports/x.pdf")
    fragment = browser.get(f"/reports/{report.pk}/progress/").content.decode()
    assert "hx-trigger" not in fragment and 'aria-valuenow="100"' in fragment and "下载" in fragment


@pytest.mark.django_db
def test_an_assigned_expert_sees_the_project_but_cannot_export_its_documents_403(projects, demo,
                                                                                 django_capture_on_commit_callbacks):
    from projects.models import ExpertAssignment

    ExpertAssignment.objects.create(project=projects[0], expert=demo.expert1)
    resp = _request(demo.expert1, "project_dossier", {"project": projects[0].pk}, django_capture_on_commit_callbacks)
    assert resp.status_code == 403
    resp = _request(demo.expert1, "project_dossier", {"project": projects[1].pk}, django_capture_on_commit_callbacks)
    assert resp.status_code == 404


@pytest.mark.django_db
def test_project_page_offers_the_documents_to_the_parties_not_to_experts(projects, demo):
    from django.test import Client
    from django.urls import reverse

    from projects.models import ExpertAssignment

    project = projects[0]
    url = reverse("projects:detail", args=[project.pk])
    browser = Client()
    browser.force_login(demo.enterprise)
    page = browser.get(url).content.decode()
    assert 'id="documents"' in page and 'value="approval_notice"' in page and 'value="dossier_export"' in page
    ExpertAssignment.objects.create(project=project, expert=demo.expert1)
    browser.force_login(demo.expert1)
    page = browser.get(url)
    assert page.status_code == 200 and 'id="documents"' not in page.content.decode()


@pytest.mark.django_db
def test_requesting_from_the_page_renders_and_redirects_to_the_progress_page(projects, demo,
                                                                             django_capture_on_commit_callbacks):
    from django.test import Client

    browser = Client()
    browser.force_login(demo.enterprise)
    with django_capture_on_commit_callbacks(execute=True):
        resp = browser.post("/reports/", {"kind": "custody_statement", "project": projects[0].pk})
    report = Report.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/reports/{report.pk}/"
    assert report.state == "done" and report.requested_by == demo.enterprise
    page = browser.get("/reports/").content.decode()
    assert report.number in page and f"/reports/{report.pk}/download/" in page
    got = browser.get(f"/reports/{report.pk}/download/")
    assert got.status_code == 200 and b"".join(got.streaming_content)[:5] == b"%PDF-"
    assert got["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(report.filename)}"
    assert got["X-Content-Type-Options"] == "nosniff" and got["Cache-Control"] == "private, no-store"
    report.file.storage.delete(report.file.name)   # gone from storage: a 404, not a 500
    assert browser.get(f"/reports/{report.pk}/download/").status_code == 404
    resp = browser.post("/reports/", {"kind": "custody_statement", "project": projects[2].pk})
    assert resp.status_code == 200 and Report.objects.count() == 1   # not among the choices offered


@pytest.mark.django_db
def test_post_with_the_same_idempotency_key_creates_one_report(projects, demo, django_capture_on_commit_callbacks):
    c = client_for(demo.auditor)
    body = {"kind": "custody_statement", "params": {"project": projects[0].pk}}
    with django_capture_on_commit_callbacks(execute=False):
        first = c.post("/api/v1/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY="rep-1")
        again = c.post("/api/v1/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY="rep-1")
        other = c.post("/api/v1/reports/", {**body, "kind": "project_dossier"}, format="json",
                       HTTP_IDEMPOTENCY_KEY="rep-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_a_failed_rendering_is_recorded_and_can_be_retried(projects, demo, django_capture_on_commit_callbacks,
                                                           monkeypatch):
    from reports import documents

    real = documents.build

    def broken(*args, **kwargs):
        raise RuntimeError("font cache unavailable")

    monkeypatch.setattr(documents, "build", broken)
    resp = _request(demo.auditor, "custody_statement", {"project": projects[0].pk}, django_capture_on_commit_callbacks)
    rid = resp.json()["id"]
    got = client_for(demo.auditor).get(f"/api/v1/reports/{rid}/").json()
    assert got["state"] == "failed" and "font cache unavailable" in got["error"] and got["download"] is None
    assert client_for(demo.auditor).get(f"/api/v1/reports/{rid}/download/").status_code == 409
    monkeypatch.setattr(documents, "build", real)
    with django_capture_on_commit_callbacks(execute=True):
        retry = client_for(demo.auditor).post(f"/api/v1/reports/{rid}/retry/")
    assert retry.status_code == 202
    got = client_for(demo.auditor).get(f"/api/v1/reports/{rid}/").json()
    assert got["state"] == "done" and got["error"] == "" and Report.objects.get(pk=rid).attempts == 2
    with django_capture_on_commit_callbacks(execute=True):
        again = client_for(demo.auditor).post(f"/api/v1/reports/{rid}/retry/")
    assert again.status_code == 409
