"""Messages next to the thing acted on, typed values kept when refused: the htmx answers (the section
rendered again in place) and the redirect without JavaScript (the message inside the anchored section)."""
from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import Notification
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.tests.factories import PDF_BYTES, project_at, tranche_project

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
EXE = b"MZ\x90\x00 an executable renamed .pdf"


def section(html: str, element_id: str) -> str:
    """The element with ``element_id`` up to the end of the text (enough to say what is inside it)."""
    start = html.index(f'id="{element_id}"')
    return html[start:]


def feedback_of(html: str, place: str) -> str:
    m = re.search(rf'<div class="messages feedback" id="feedback-{place}"[^>]*>(.*?)</div>', html, re.S)
    assert m, f"no message placed at {place}"
    return m.group(1)


def top_messages(html: str) -> str:
    """The messages printed at the top of the page (base.html), before the page's own content."""
    main = html[html.index('<main class="container">') + len('<main class="container">'):]
    return main[:main.index("<h1")]


@pytest.fixture
def deposit_due(demo):
    project = tranche_project(demo, tranches=[("1500000.00", "150000.00"), ("1500000.00", "150000.00")],
                              budget="1500000.00")
    ms.project_open_escrow(project=project, actor=demo.reviewer)
    return project.milestones.get(seq=1)


def confirm(client, m, *, htmx: bool, amount="15O,000", bank_ref="HZRCB20250401001", confirmed=True):
    """The deposit confirmation as posted by the confirmation page (``confirmed``), or as first sent from the
    panel (``confirmed=False``: answered with the confirmation page)."""
    page = reverse("projects:detail", args=[m.project_id])
    data = {"amount": amount, "bank_ref": bank_ref, "next": page, **({"confirmed": "1"} if confirmed else {})}
    return client.post(reverse("milestones:action", args=[m.pk, "confirm_deposit"]), data, **(HTMX if htmx else {}))


def test_htmx_money_action_answers_with_the_confirmation_page_in_place_of_the_body(client, demo, deposit_due):
    client.force_login(demo.custodian)
    r = confirm(client, deposit_due, htmx=True, amount="1500000.00", confirmed=False)
    assert r.status_code == 200
    assert r["HX-Retarget"] == "body" and r["HX-Reswap"].startswith("innerHTML")  # not swapped into the panel
    html = r.content.decode()
    assert 'data-action="confirm"' in html and 'name="confirmed"' in html
    assert 'value="HZRCB20250401001"' in html  # what was typed is carried to the confirmation
    assert deposit_due.__class__.objects.get(pk=deposit_due.pk).state == M.DEPOSIT_DUE  # nothing done yet


def test_htmx_refused_deposit_answers_422_with_the_panel_the_message_in_the_row_and_the_typed_values(
        client, demo, deposit_due):
    client.force_login(demo.custodian)
    r = confirm(client, deposit_due, htmx=True)
    assert r.status_code == 422
    html = r.content.decode()
    assert html.lstrip().startswith('<section class="card milestones-panel" id="milestones"')  # the section only
    assert "<html" not in html
    assert "金额格式不正确" in feedback_of(html, f"m{deposit_due.pk}")
    detail = section(html, f"feedback-m{deposit_due.pk}")
    assert 'name="amount"' in detail and 'value="15O,000"' in detail  # the typed amount, in its field
    assert 'value="HZRCB20250401001"' in detail
    # the forms keep posting back to the project page the person is on
    assert f'name="next" value="{reverse("projects:detail", args=[deposit_due.project_id])}"' in html
    assert 'hx-swap-oob="true" id="unread-count"' in html
    assert deposit_due.__class__.objects.get(pk=deposit_due.pk).state == M.DEPOSIT_DUE


@pytest.mark.django_db(transaction=True)  # the deposit's operation executes on commit, as in production
def test_htmx_confirmed_deposit_answers_200_with_the_message_in_the_row_and_empty_fields(
        client, demo, deposit_due, ledger_ok):
    client.force_login(demo.custodian)
    r = confirm(client, deposit_due, htmx=True, amount="1500000.00")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'class="msg-success"' in feedback_of(html, f"m{deposit_due.pk}")
    assert 'value="HZRCB20250401001"' not in html  # done: nothing kept
    assert deposit_due.__class__.objects.get(pk=deposit_due.pk).state == M.IN_PROGRESS
    assert f'data-state="{M.IN_PROGRESS}"' in html


def test_htmx_answer_carries_the_unread_count_after_the_action(client, demo, deposit_due):
    """The header's count is swapped out of band with what the page would show once loaded again: the
    person's notices about this project are read by opening it, others are counted."""
    page = reverse("projects:detail", args=[deposit_due.project_id])
    Notification.objects.create(user=demo.custodian, verb="x", text="这个项目", url=page)
    Notification.objects.create(user=demo.custodian, verb="x", text="别的事", url="/elsewhere/")
    client.force_login(demo.custodian)
    r = confirm(client, deposit_due, htmx=True)
    assert re.search(r'hx-swap-oob="true" id="unread-count">1<', r.content.decode())


def test_without_javascript_refused_deposit_lands_on_the_milestone_with_message_and_typed_values(
        client, demo, deposit_due):
    client.force_login(demo.custodian)
    r = confirm(client, deposit_due, htmx=False)
    page = reverse("projects:detail", args=[deposit_due.project_id])
    assert r.status_code == 302 and r["Location"] == f"{page}#m1"
    html = client.get(page).content.decode()
    assert "金额格式不正确" in feedback_of(html, f"m{deposit_due.pk}")
    assert "金额格式不正确" not in top_messages(html)
    detail = section(html, f"feedback-m{deposit_due.pk}")
    assert 'value="15O,000"' in detail and 'value="HZRCB20250401001"' in detail
    again = client.get(page).content.decode()  # shown once, then dropped
    assert 'value="HZRCB20250401001"' not in again and "金额格式不正确" not in again


def test_project_action_lands_on_the_panel_with_its_message(client, demo):
    """The project's own actions change the whole page: a redirect to the panel, where the message is."""
    project = tranche_project(demo, tranches=[("1500000.00", "150000.00")], budget="1500000.00")
    client.force_login(demo.reviewer)
    page = reverse("projects:detail", args=[project.pk])
    r = client.post(reverse("milestones:project-action", args=[project.pk, "open_escrow"]), {"next": page})
    assert r.status_code == 302 and r["Location"] == f"{page}#milestones"
    html = client.get(page).content.decode()
    assert 'class="msg-success"' in feedback_of(html, "milestones")
    assert not top_messages(html).strip()


def test_refused_termination_keeps_the_amount_and_reason_typed(client, demo, deposit_due):
    project = deposit_due.project
    client.force_login(demo.reviewer)
    page = reverse("projects:detail", args=[project.pk])
    r = client.post(reverse("milestones:project-action", args=[project.pk, "terminate"]),
                    {"repaid_amount": "十万零几", "reason": "企业撤资", "next": page})
    assert r["Location"] == f"{page}#milestones"
    html = client.get(page).content.decode()
    assert 'class="msg-error"' in feedback_of(html, "milestones")
    assert 'value="十万零几"' in html and 'value="企业撤资"' in html
    assert "<details open>" in html  # the terminate form stays open with what was typed


def test_receipt_renamed_exe_is_refused_next_to_the_milestone_both_ways(client, demo, deposit_due):
    client.force_login(demo.enterprise)
    url = reverse("milestones:action", args=[deposit_due.pk, "upload_receipt"])
    page = reverse("projects:detail", args=[deposit_due.project_id])
    r = client.post(url, {"file": SimpleUploadedFile("回单.pdf", EXE, "application/pdf"), "next": page}, **HTMX)
    assert r.status_code == 422
    assert 'class="msg-error"' in feedback_of(r.content.decode(), f"m{deposit_due.pk}")
    r = client.post(url, {"file": SimpleUploadedFile("回单.pdf", EXE, "application/pdf"), "next": page})
    assert r["Location"] == f"{page}#m1"
    assert 'class="msg-error"' in feedback_of(client.get(page).content.decode(), f"m{deposit_due.pk}")
    assert not deposit_due.attachments.exists()


def test_project_attachment_renamed_exe_is_refused_in_the_attachments_card(client, demo):
    project = project_at(demo, "submitted")
    client.force_login(demo.enterprise)
    url = reverse("projects:attachment_upload", args=[project.pk])
    page = reverse("projects:detail", args=[project.pk])
    r = client.post(url, {"kind": "agreement", "file": SimpleUploadedFile("协议.pdf", EXE, "application/pdf")}, **HTMX)
    assert r.status_code == 422
    html = r.content.decode()
    assert html.lstrip().startswith('<div class="card" id="attachments"')
    assert 'class="msg-error"' in feedback_of(html, "attachments")
    assert re.search(r'<option value="agreement" selected>', html)  # the kind chosen is kept
    r = client.post(url, {"kind": "agreement", "file": SimpleUploadedFile("协议.pdf", EXE, "application/pdf")})
    assert r.status_code == 302 and r["Location"] == f"{page}#attachments"
    html = client.get(page).content.decode()
    assert 'class="msg-error"' in feedback_of(html, "attachments")
    assert not project.attachments.filter(original_name="协议.pdf").exists()
    r = client.post(url, {"kind": "plan", "file": SimpleUploadedFile("方案.pdf", PDF_BYTES, "application/pdf")},
                    **HTMX)
    assert r.status_code == 200
    assert "方案.pdf" in r.content.decode() and 'class="msg-success"' in feedback_of(r.content.decode(), "attachments")


def test_refused_proposal_action_lands_on_the_actions_card_with_the_reason_kept(client, demo):
    project = project_at(demo, "under_review")  # no expert has scored yet: 立项 is refused (R13)
    client.force_login(demo.reviewer)
    page = reverse("projects:detail", args=[project.pk])
    r = client.post(reverse("projects:action", args=[project.pk, "approve"]), {"reason": "专家意见一致，予以立项"})
    assert r.status_code == 302 and r["Location"] == f"{page}#actions"
    html = client.get(page).content.decode()
    assert 'class="msg-error"' in feedback_of(html, "actions")
    assert not top_messages(html).strip()
    assert re.search(r'<textarea name="reason" id="reason-approve"[^>]*>专家意见一致，予以立项</textarea>', html)
    assert "专家意见一致" not in client.get(page).content.decode()  # once


@pytest.mark.django_db(transaction=True)
def test_htmx_action_that_ends_the_project_reloads_the_whole_page_with_its_message(client, demo, ledger_ok):
    """A breach's forfeiture terminates the project (I15): the whole page changes, so the answer asks htmx to load
    it again, and the message waits for that page, placed at the milestone."""
    from datetime import timedelta

    from projects.choices import ProjectState
    from projects.tests.steps import fresh, pay_deposit, report

    project = tranche_project(demo, tranches=[("1200000.00", "120000.00"), ("1800000.00", "180000.00")],
                              budget="1200000.00")
    ms.project_open_escrow(project=project, actor=demo.reviewer)
    m1 = project.milestones.get(seq=1)
    pay_deposit(demo, m1, "120000.00")
    report(demo, m1)
    ms.milestone_review_met(milestone=fresh(m1), actor=demo.reviewer, reason="达到约定目标")
    ms.milestones_mark_balance_overdue(today=fresh(m1).balance_due_date + timedelta(days=1))
    ms.milestone_declare_breach(milestone=fresh(m1), actor=demo.reviewer, reason="尾款逾期")
    client.force_login(demo.custodian)
    page = reverse("projects:detail", args=[project.pk])
    r = client.post(reverse("milestones:action", args=[m1.pk, "forfeit"]), {"next": page, "confirmed": "1"}, **HTMX)
    assert r.status_code == 200 and r["HX-Refresh"] == "true" and not r.content
    assert project.__class__.objects.get(pk=project.pk).state == ProjectState.TERMINATED
    assert 'class="msg-success"' in feedback_of(client.get(page).content.decode(), f"m{m1.pk}")


def test_a_message_an_htmx_answer_does_not_show_waits_for_the_next_page(client, demo, deposit_due):
    client.force_login(demo.reviewer)
    page = reverse("projects:detail", args=[deposit_due.project_id])
    # a proposal action refused without JavaScript: its message waits for the page (the redirect not followed)
    r = client.post(reverse("projects:action", args=[deposit_due.project_id, "approve"]), {"reason": "再次立项"})
    assert r.status_code == 302
    # an htmx answer of the panel shows its own message, not the one placed in the 办理 card
    r = client.post(reverse("milestones:action", args=[deposit_due.pk, "extend"]),
                    {"due_date": "2026-02-30", "reason": "延期", "next": page}, **HTMX)
    assert r.status_code == 422
    assert feedback_of(r.content.decode(), f"m{deposit_due.pk}") and 'id="feedback-actions"' not in r.content.decode()
    html = client.get(page).content.decode()
    assert 'class="msg-error"' in feedback_of(html, "actions")  # it was not lost
    assert f'id="feedback-m{deposit_due.pk}"' not in html  # and the one shown is not shown twice


@pytest.mark.django_db(transaction=True)  # the deposit's operation executes on commit, as in production
def test_htmx_form_keeps_its_one_time_token(client, demo, ledger_ok):
    """A resend of the draw through htmx draws nothing more and leads to the page (core.once); the section
    answered in place carries a fresh token for the next draw."""
    from projects.models import ExpertAssignment
    from projects.tests.steps import reported_milestone

    m = reported_milestone(demo)
    client.force_login(demo.reviewer)
    page = reverse("projects:detail", args=[m.project_id])
    url = reverse("milestones:action", args=[m.pk, "draw_expert"])
    form = re.compile(rf'action="{url}"[^>]*>.*?name="_once" value="(\w+)"', re.S)
    token = form.search(client.get(page).content.decode()).group(1)
    first = client.post(url, {"_once": token, "next": page}, **HTMX)
    assert first.status_code == 200
    assert 'class="msg-success"' in feedback_of(first.content.decode(), f"m{m.pk}")
    fresh_token = form.search(first.content.decode())
    assert fresh_token is None or fresh_token.group(1) != token
    second = client.post(url, {"_once": token, "next": page}, **HTMX)
    assert second["HX-Redirect"] == page
    assert ExpertAssignment.objects.filter(milestone=m).count() == 1
