"""R18: the bureau publishes exemplary cases; the public page needs no login and shows amounts only if marked."""
from __future__ import annotations

import pytest
from django.urls import reverse

from core.exceptions import DomainError, PermissionDeniedError
from core.models import AuditEvent
from dashboards.services import project_publish_case, project_withdraw_case
from projects.tests.factories import make_project


@pytest.fixture
def projects(demo):
    return {"shown": make_project(demo, title="视觉检测联合攻关"),
            "with_amounts": make_project(demo, title="新材料中试", enterprise=demo.ent2),
            "unmarked": make_project(demo, title="未公开的项目")}


@pytest.mark.django_db
def test_r18_public_cases_page_works_without_login_and_lists_only_marked_projects(client, demo, projects):
    project_publish_case(project=projects["shown"], actor=demo.reviewer, summary="视觉检测样机已在产线应用")
    project_publish_case(project=projects["with_amounts"], actor=demo.reviewer, summary="新材料中试线建成",
                         public_amounts=True)
    response = client.get(reverse("cases"))  # anonymous
    assert response.status_code == 200
    html = response.content.decode()
    assert "视觉检测联合攻关" in html and "视觉检测样机已在产线应用" in html
    assert "新材料中试" in html
    assert "未公开的项目" not in html


@pytest.mark.django_db
def test_r18_amounts_hidden_unless_marked_public(client, demo, projects):
    project_publish_case(project=projects["shown"], actor=demo.reviewer, summary="摘要甲")
    html = client.get(reverse("cases")).content.decode()
    assert "¥" not in html and "5,000,000.00" not in html
    project_publish_case(project=projects["shown"], actor=demo.reviewer, summary="摘要甲", public_amounts=True)
    html = client.get(reverse("cases")).content.decode()
    assert "¥5,000,000.00" in html


@pytest.mark.django_db
def test_r18_publishing_writes_an_audit_row_and_withdrawal_removes_the_case(client, demo, projects):
    p = projects["shown"]
    project_publish_case(project=p, actor=demo.reviewer, summary="摘要")
    assert AuditEvent.objects.filter(object_id=str(p.pk), action="case_publish", actor=demo.reviewer).exists()
    project_withdraw_case(project=p, actor=demo.reviewer, reason="企业要求撤下")
    assert AuditEvent.objects.filter(object_id=str(p.pk), action="case_withdraw").exists()
    assert "视觉检测联合攻关" not in client.get(reverse("cases")).content.decode()


@pytest.mark.django_db
def test_r18_only_the_bureau_publishes_and_a_summary_is_required(demo, projects):
    with pytest.raises(PermissionDeniedError):
        project_publish_case(project=projects["shown"], actor=demo.enterprise, summary="自说自话")
    with pytest.raises(DomainError) as exc:
        project_publish_case(project=projects["shown"], actor=demo.reviewer, summary="  ")
    assert exc.value.rule == "R18"
    draft = make_project(demo, title="草稿项目", state="draft")
    with pytest.raises(DomainError):
        project_publish_case(project=draft, actor=demo.reviewer, summary="不可公开")


@pytest.mark.django_db
def test_r18_reviewer_publishes_through_the_page(client, demo, projects):
    p = projects["shown"]
    client.force_login(demo.enterprise)
    assert client.post(reverse("dashboards:case_edit", args=[p.pk]), {"summary": "x"}).status_code == 403
    client.force_login(demo.reviewer)
    response = client.post(reverse("dashboards:case_edit", args=[p.pk]),
                           {"summary": "经审定的公开摘要", "public_amounts": ""})
    assert response.status_code == 302
    from projects.models import Project

    p = Project.objects.get(pk=p.pk)
    assert p.exemplary and p.public_summary == "经审定的公开摘要" and not p.public_amounts
