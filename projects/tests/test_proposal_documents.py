"""R12: the proposal is filed with its plan and agreement (and the policy when insured), on the page and in
the API; a proposal 受理 still refuses can be returned for changes, and the enterprise is told why."""
from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEvent, Notification
from projects import services
from projects.choices import AttachmentKind, ProjectState
from projects.models import Attachment, Project
from projects.registry import project_panel
from projects.tests.factories import pdf_file, project_at
from projects.tests.test_views import ROWS, documents, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _scheme_in_force(db):
    """I16: filing needs a version in force on the submission date."""
    from core.tests.factories import scheme_in_force

    scheme_in_force()


def field_block(html: str, name: str) -> str:
    """The form's field wrapper of ``name`` (its input, help text and error list)."""
    match = re.search(rf'<div class="field field-{name}">(.*?)</div>', html, re.S)
    assert match, f"no field {name} on the page"
    return match.group(1)


def errors_of(html: str, name: str) -> list[str]:
    """The messages shown beside the field ``name``."""
    block = field_block(html, name)
    return re.findall(r"<li>(.*?)</li>", block.split('class="errorlist"', 1)[1]) if 'class="errorlist"' in block else []


# -- the page ---------------------------------------------------------------------------------------------

def test_form_submit_without_documents_is_refused_naming_each_beside_its_input(demo, client):
    client.force_login(demo.enterprise)
    r = client.post(reverse("projects:create"), form_data(demo, ROWS, with_documents=False, insured="on"))
    assert r.status_code == 200
    html = r.content.decode()
    assert errors_of(html, "plan") == ["请上传合作方案"]
    assert errors_of(html, "agreement") == ["请上传合作协议"]
    assert errors_of(html, "policy") == ["请上传保险保单"]  # insured: the policy too
    assert 'href="#id_plan"' in html  # the banner links to the file input
    project = Project.objects.get()
    assert project.state == ProjectState.DRAFT and project.insured  # kept as a draft, not submitted
    assert not Notification.objects.filter(verb="project_submitted").exists()


def test_form_uninsured_needs_no_policy(demo, client):
    client.force_login(demo.enterprise)
    r = client.post(reverse("projects:create"), form_data(demo, ROWS, with_documents=False))
    html = r.content.decode()
    assert errors_of(html, "plan") and errors_of(html, "agreement") and not errors_of(html, "policy")


def test_form_with_documents_files_one_proposal_with_its_attachments(demo, client):
    client.force_login(demo.enterprise)
    data = form_data(demo, ROWS, with_documents=False, insured="on", **documents(insured=True))
    r = client.post(reverse("projects:create"), data)
    assert r.status_code == 302
    project = Project.objects.get()
    assert project.state == ProjectState.SUBMITTED and project.insured
    kinds = sorted(project.attachments.values_list("kind", flat=True))
    assert kinds == ["agreement", "plan", "policy"]
    assert Attachment.objects.count() == 3
    assert AuditEvent.objects.filter(action="attachment_added").count() == 3
    names = dict(project.attachments.values_list("kind", "original_name"))
    assert names["agreement"] == "合作协议.pdf" and names["policy"] == "保险保单.pdf"


def test_form_invalid_file_refused_with_the_typed_values_kept(demo, client):
    client.force_login(demo.enterprise)
    fake = SimpleUploadedFile("合作方案.pdf", b"MZ\x90\x00 an executable", content_type="application/pdf")
    data = form_data(demo, ROWS, title="保留输入的项目", plan=fake)
    r = client.post(reverse("projects:create"), data)
    assert r.status_code == 200
    html = r.content.decode()
    assert Project.objects.count() == 0 and Attachment.objects.count() == 0  # nothing half-saved
    assert any("只接受 PDF 或图片" in e for e in errors_of(html, "plan"))
    assert 'value="保留输入的项目"' in html and 'value="6000000.00"' in html and 'value="1800000.00"' in html


def test_draft_without_documents_gets_them_on_the_project_page_and_only_then_submits(demo, client):
    client.force_login(demo.enterprise)
    data = form_data(demo, ROWS, with_documents=False)
    data.pop("submit")
    data["save"] = "1"
    assert client.post(reverse("projects:create"), data).status_code == 302
    project = Project.objects.get()
    detail = reverse("projects:detail", args=[project.pk])
    r = client.post(reverse("projects:action", args=[project.pk, "submit"]), follow=True)
    assert "尚未上传合作方案、合作协议，不能提交申报" in r.content.decode()
    assert Project.objects.get().state == ProjectState.DRAFT
    for kind in ("plan", "agreement"):
        client.post(reverse("projects:attachment_upload", args=[project.pk]),
                    {"kind": kind, "file": pdf_file(f"{kind}.pdf")})
    html = client.get(reverse("projects:edit", args=[project.pk])).content.decode()
    assert 'id="on-file-plan"' in html and "plan.pdf" in html  # the form says what is on file
    r = client.post(reverse("projects:action", args=[project.pk, "submit"]))
    assert r.status_code == 302 and r["Location"] == detail + "#actions"  # back at the actions, with the message
    assert Project.objects.get().state == ProjectState.SUBMITTED


# -- the API ----------------------------------------------------------------------------------------------

def test_api_submit_without_documents_is_400_naming_each_field(demo):
    from projects.tests.test_api import file_documents, payload

    api = APIClient()
    api.force_authenticate(demo.enterprise)
    body = api.post("/api/v1/projects/", payload(demo, insured=True), format="json").json()
    assert body["insured"] is True
    pk = body["id"]
    r = api.post(f"/api/v1/projects/{pk}/submit/", {}, format="json")
    assert r.status_code == 400
    err = r.json()
    assert (err["code"], err["rule"]) == ("attachments_missing", "R12")
    assert sorted(err["fields"]) == ["agreement", "plan", "policy"]
    assert err["fields"]["policy"] == ["请上传保险保单"]
    file_documents(api, pk, kinds=("plan", "agreement"))
    err = api.post(f"/api/v1/projects/{pk}/submit/", {}, format="json").json()
    assert list(err["fields"]) == ["policy"]
    file_documents(api, pk, kinds=("policy",))
    assert api.post(f"/api/v1/projects/{pk}/submit/", {}, format="json").json()["state"] == "submitted"


# -- 受理 still checks (R12), and a refusal can be returned for changes -------------------------------------

def test_accept_refused_r12_then_returned_for_changes_and_the_enterprise_is_told(demo, client):
    project = project_at(demo, "signed")
    # A proposal filed before submission required its documents: the agreement is not on file.
    project.attachments.filter(kind=AttachmentKind.AGREEMENT).delete()
    client.force_login(demo.reviewer)
    r = client.post(reverse("projects:action", args=[project.pk, "accept"]), follow=True)
    html = r.content.decode()
    assert "尚未上传合作协议，不能受理" in html and "可“退回修改”并写明原因" in html
    assert Project.objects.get(pk=project.pk).state == ProjectState.SIGNED
    panel = {item["name"]: item["allowed"] for item in project_panel(demo.reviewer, Project.objects.get(pk=project.pk))}
    assert panel["return_for_changes"]  # no longer greyed out on a signed proposal
    assert 'id="action-return_for_changes"' in html
    r = client.post(reverse("projects:action", args=[project.pk, "return_for_changes"]),
                    {"reason": "请补充合作协议"})
    assert r.status_code == 302
    project = Project.objects.get(pk=project.pk)
    assert project.state == ProjectState.DRAFT and project.state_reason == "请补充合作协议"
    told = Notification.objects.get(user=demo.enterprise, verb="project_returned")
    assert "请补充合作协议" in told.text
    assert Notification.objects.filter(user=demo.platform, verb="project_returned").exists()
    # The enterprise adds the agreement and files again; the platform signs and 受理 goes through.
    services.attachment_add(project=project, actor=demo.enterprise, kind=AttachmentKind.AGREEMENT,
                            file=pdf_file("合作协议.pdf"))
    services.project_submit(project=project, actor=demo.enterprise)
    services.project_platform_sign(project=project, actor=demo.platform)
    assert services.project_accept(project=project, actor=demo.reviewer).state == ProjectState.ACCEPTED


def test_accept_refused_for_a_missing_policy_names_the_return_path(demo):
    from core.exceptions import DomainError

    project = project_at(demo, "signed")
    Project.objects.filter(pk=project.pk).update(insured=True)  # insured after filing, policy not on file
    with pytest.raises(DomainError) as exc:
        services.project_accept(project=Project.objects.get(pk=project.pk), actor=demo.reviewer)
    assert exc.value.rule == "R12" and list(exc.value.fields) == ["policy"]
    assert "退回修改" in exc.value.detail
