"""The panel's money and official actions say what they do before they act (the confirmation page).

The first POST answers with the payee, the amount and its split, the account in words and the evidence, and
changes nothing (ledger, operations, audit rows, notices, states); only the page's explicit confirmation, with
the typed values and a one-time form token, runs the action, once however often it is clicked.
"""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import AuditEvent, Notification
from escrow.models import JournalEntry, MoneyOperation, Posting
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.choices import ProjectState
from projects.models import Attachment, Project
from projects.tests.steps import confirmed, fresh, one_milestone, pay_deposit, pdf, releasable_milestone, release, report

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "智能视觉检测样机研发"


def snapshot():
    """Everything an action may write: the ledger, operations, audit rows, notices."""
    return (JournalEntry.objects.count(), Posting.objects.count(), MoneyOperation.objects.count(),
            AuditEvent.objects.count(), Notification.objects.count())


def once_token(html: str) -> str:
    return re.search(r'name="_once" value="([0-9a-f]+)"', html).group(1)


def hidden(html: str) -> dict:
    """The confirmation form's hidden fields (what it carries through)."""
    form = html[html.index('id="action-confirm"'):]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_release_first_post_shows_payee_amount_account_and_evidence_and_moves_nothing(demo, client, ledger_ok):
    m = releasable_milestone(demo, "1500000.00", deposit="150000.00", title=TITLE, reason="样机指标全部达到，同意拨付")
    p = m.project
    client.force_login(demo.custodian)
    before = snapshot()
    r = client.post(reverse("milestones:action", args=[m.pk, "release"]), {"next": f"/projects/{p.pk}/"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="action-confirm"' in html and 'data-confirm="release"' in html
    assert f'data-payee="{demo.plat1.name}"' in html  # the payee, by name
    assert "¥1,500,000.00" in html  # the amount
    assert f"托管账户·{TITLE}·里程碑 1" in html and "custody:" not in html  # the account it comes from, in words
    for att in Attachment.objects.filter(milestone=m):  # evidence and bank receipts: links that download
        assert f'href="{reverse("milestones:attachment", args=[att.pk])}" download' in html
    assert {a.kind for a in Attachment.objects.filter(milestone=m)} == {"evidence", "receipt"}
    assert "按计划完成" in html  # the completion report
    assert "样机指标全部达到，同意拨付" in html and (demo.reviewer.get_full_name() or demo.reviewer.username) in html
    assert "双人复核" in html  # above the threshold: a second operator will confirm
    assert snapshot() == before and fresh(m).state == M.RELEASABLE  # nothing moved, nothing written

    fields = hidden(html)
    assert fields["confirmed"] == "1" and fields["next"] == f"/projects/{p.pk}/" and fields["_once"]
    r = client.post(reverse("milestones:action", args=[m.pk, "release"]), fields)
    assert r.status_code == 302 and r["Location"].startswith(f"/projects/{p.pk}/")
    op = MoneyOperation.objects.get(purpose=ms.P_RELEASE)
    assert op.state == "awaiting_confirmation" and op.ordered_by == demo.custodian
    # a double-click (the same form token) is one operation
    client.post(reverse("milestones:action", args=[m.pk, "release"]), fields)
    assert MoneyOperation.objects.filter(purpose=ms.P_RELEASE).count() == 1


def test_the_api_orders_without_a_confirmation_step(demo, ledger_ok):
    from rest_framework.test import APIClient

    m = releasable_milestone(demo, "1500000.00", deposit="150000.00")
    c = APIClient()
    c.force_authenticate(demo.custodian)
    r = c.post(f"/api/v1/milestones/{m.pk}/release/", {}, format="json")
    assert r.status_code == 200 and r.json()["operation"]["state"] == "awaiting_confirmation"


def test_deposit_confirmation_carries_the_typed_amount_and_bank_reference(demo, client, ledger_ok):
    m = one_milestone(demo, "800000.00", "80000.00", title=TITLE)
    ms.milestone_upload_receipt(milestone=m, actor=demo.enterprise, file=pdf("保证金回单.pdf"))
    client.force_login(demo.custodian)
    url = reverse("milestones:action", args=[m.pk, "confirm_deposit"])
    before = snapshot()
    html = client.post(url, {"amount": "80000.00", "bank_ref": "HZRCB-CONF-1"}).content.decode()
    assert 'data-confirm="confirm_deposit"' in html and "¥80,000.00" in html and "HZRCB-CONF-1" in html
    assert f"企业·{demo.ent1.name}" in html and f"托管账户·{TITLE}·里程碑 1" in html  # from whom, into which account
    assert "保证金回单.pdf" in html
    assert snapshot() == before and fresh(m).state == M.DEPOSIT_DUE
    fields = hidden(html)
    assert fields["amount"] == "80000.00" and fields["bank_ref"] == "HZRCB-CONF-1"
    client.post(url, fields)
    assert fresh(m).state == M.IN_PROGRESS and fresh(m).paid_in == Decimal("80000.00")


def test_a_refused_action_says_why_instead_of_asking_to_confirm(demo, client, ledger_ok):
    m = one_milestone(demo, "800000.00", "80000.00", title=TITLE)
    client.force_login(demo.custodian)
    before = snapshot()
    r = client.post(reverse("milestones:action", args=[m.pk, "confirm_deposit"]),
                    {"amount": "1.00", "bank_ref": "LOW-1"}, follow=True)
    html = r.content.decode()
    assert 'id="action-confirm"' not in html and "低于约定保证金" in html
    assert snapshot() == before


def test_forfeit_confirmation_splits_the_forfeited_and_refunded_parts(demo, client, ledger_ok):
    m = one_milestone(demo, "1200000.00", "120000.00", title=TITLE)
    pay_deposit(demo, m, "300000.00")
    report(demo, m)
    ms.milestone_review_not_met(milestone=fresh(m), actor=demo.reviewer, reason="样机未通过测试")
    client.force_login(demo.custodian)
    before = snapshot()
    html = client.post(reverse("milestones:action", args=[m.pk, "forfeit"]), {}).content.decode()
    assert f'data-payee="{demo.plat1.name}"' in html and f'data-payee="{demo.ent1.name}"' in html
    assert "¥120,000.00" in html and "¥180,000.00" in html and "¥300,000.00" in html  # D, the rest, in all
    assert "罚没保证金，支付给平台" in html and "其余退还企业" in html and "样机未通过测试" in html
    assert snapshot() == before and fresh(m).state == M.FAILED


def test_close_confirmation_shows_the_advance_repaid_and_written_off(demo, client, ledger_ok):
    m = releasable_milestone(demo, "800000.00", title=TITLE)
    p = m.project
    release(demo, m)
    client.force_login(demo.reviewer)
    url = reverse("milestones:project-action", args=[p.pk, "close"])
    before = snapshot()
    html = client.post(url, {"repaid_amount": "600000.00", "reason": "平台部分归还"}).content.decode()
    assert 'data-confirm="close"' in html and "¥600,000.00" in html and "¥200,000.00" in html
    assert "风险池·可用余额" in html and "风险池·核销损失" in html and f"风险池·已垫付·{TITLE}" in html
    assert snapshot() == before
    assert Project.objects.get(pk=p.pk).state == ProjectState.ACTIVE
    client.post(url, hidden(html))
    assert Project.objects.get(pk=p.pk).state == ProjectState.COMPLETED


def test_breach_confirmation_says_what_the_forfeiture_will_do(demo, client, ledger_ok):
    from datetime import timedelta

    m = one_milestone(demo, "1200000.00", "120000.00", title=TITLE)
    confirmed(demo, pay_deposit(demo, m, "120000.00"))
    report(demo, m)
    ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="ok")
    assert ms.milestones_mark_balance_overdue(today=fresh(m).balance_due_date + timedelta(days=1)) == [m.pk]
    client.force_login(demo.reviewer)
    before = snapshot()
    html = client.post(reverse("milestones:action", args=[m.pk, "declare_breach"]),
                       {"reason": "尾款逾期未缴", "repaid_amount": ""}).content.decode()
    assert 'data-confirm="declare_breach"' in html and "尾款逾期未缴" in html
    assert "¥120,000.00" in html and demo.plat1.name in html and "项目终止" in html
    assert snapshot() == before and fresh(m).state == M.BALANCE_OVERDUE


def test_the_checker_reads_the_same_summary_with_the_evidence_before_confirming(demo, client, ledger_ok):
    m = releasable_milestone(demo, "1500000.00", deposit="150000.00", title=TITLE, reason="样机指标全部达到，同意拨付")
    _m, op = ms.milestone_release(milestone=m, actor=demo.custodian)
    assert op.state == "awaiting_confirmation"
    client.force_login(demo.custodian2)
    panel = client.get(reverse("milestones:project", args=[m.project_id])).content.decode()
    review = reverse("escrow:operation_review", args=[op.pk])
    assert f'href="{review}?next=' in panel and 'data-action="review_operation"' in panel
    assert reverse("milestones:operation-confirm", args=[op.pk]) not in panel  # no one-click confirmation
    html = client.get(review).content.decode()
    assert f'data-payee="{demo.plat1.name}"' in html and "¥1,500,000.00" in html
    assert f"托管账户·{TITLE}·里程碑 1" in html and "样机指标全部达到，同意拨付" in html and "按计划完成" in html
    for att in Attachment.objects.filter(milestone=m):
        assert f'href="{reverse("milestones:attachment", args=[att.pk])}" download' in html
    assert 'data-action="confirm_operation"' in html and 'data-action="reject_operation"' in html
