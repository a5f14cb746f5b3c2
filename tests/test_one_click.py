"""One click, one effect: a form's one-time token (``core.once``) makes a resend or a double-click act once
and show the first result."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import IdempotencyRecord
from core.once import FIELD
from projects.models import Project
from projects.tests.test_views import ROWS, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _scheme_in_force(db):
    from core.tests.factories import scheme_in_force

    scheme_in_force()


def token_of(html: str) -> str:
    match = re.search(rf'name="{FIELD}" value="([0-9a-f]+)"', html)
    assert match, "the form carries no one-time token"
    return match.group(1)


def test_proposal_posted_twice_with_one_token_makes_one_proposal(demo, client):
    client.force_login(demo.enterprise)
    token = token_of(client.get(reverse("projects:create")).content.decode())
    data = {**form_data(demo, ROWS), FIELD: token}
    first = client.post(reverse("projects:create"), data)
    second = client.post(reverse("projects:create"), data)
    assert first.status_code == 302 and second.status_code == 302
    assert Project.objects.count() == 1
    assert second["Location"] == first["Location"]  # the resend shows the first result
    page = client.get(second["Location"]).content.decode()
    assert "此表单已提交过" in page
    # a new rendering of the form has a new token and makes a second proposal
    token2 = token_of(client.get(reverse("projects:create")).content.decode())
    assert token2 != token
    client.post(reverse("projects:create"), {**form_data(demo, ROWS), FIELD: token2})
    assert Project.objects.count() == 2


def test_refused_post_leaves_the_token_usable(demo, client):
    """A form sent with an error and corrected keeps working: the refusal stored nothing."""
    client.force_login(demo.enterprise)
    token = token_of(client.get(reverse("projects:create")).content.decode())
    bad = {**form_data(demo, ROWS, title=""), FIELD: token}
    r = client.post(reverse("projects:create"), bad)
    assert r.status_code in (200, 400) and Project.objects.count() == 0
    # the page shown again carries a fresh token; the corrected form goes through once
    fresh = token_of(r.content.decode())
    good = {**form_data(demo, ROWS), FIELD: fresh}
    assert client.post(reverse("projects:create"), good).status_code == 302
    assert client.post(reverse("projects:create"), good).status_code == 302
    assert Project.objects.count() == 1


def test_tokens_are_kept_per_user(demo, client):
    client.force_login(demo.enterprise)
    data = {**form_data(demo, ROWS), FIELD: "a" * 32}
    client.post(reverse("projects:create"), data)
    assert IdempotencyRecord.objects.filter(user=demo.enterprise, key=f"web:form:{'a' * 32}").count() == 1


def test_annual_audit_generated_twice_with_one_token_makes_one_report_and_one_number(
        demo, client, django_capture_on_commit_callbacks):
    from reports.models import Report

    client.force_login(demo.auditor)
    token = token_of(client.get(reverse("reports:index")).content.decode())
    data = {"kind": "annual_audit", "year": timezone.localdate().year, FIELD: token}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("reports:index"), data)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(reverse("reports:index"), data)
    assert first.status_code == second.status_code == 302 and second["Location"] == first["Location"]
    report = Report.objects.get()
    assert report.state == "done" and re.fullmatch(r"萧科安审〔\d{4}〕\d+号", report.number)


def test_report_form_without_a_project_says_so_in_words(demo, client):
    client.force_login(demo.auditor)
    r = client.post(reverse("reports:index"), {"kind": "project_dossier", "project": ""})
    html = r.content.decode()
    assert "请选择项目" in html
    assert "params." not in html and "必须是整数" not in html


def test_every_creating_form_carries_a_token(demo, client):
    client.force_login(demo.enterprise)
    for name in ("projects:create", "reports:index"):
        token_of(client.get(reverse(name)).content.decode())
