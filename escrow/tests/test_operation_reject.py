"""Maker–checker: the second operator reads the order in words and confirms it, or rejects it with a reason."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.exceptions import ConflictError, DomainError, PermissionDeniedError
from core.models import AuditEvent, Notification
from escrow import accounts as codes
from escrow.choices import OperationState
from escrow.models import JournalEntry, MoneyOperation, Posting
from escrow.services import operation_confirm, operation_reject
from projects.tests.factories import make_project

from .factories import balance, deposit, request_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def big(demo):
    """A release of ¥1,200,000.00 awaiting a second operator (above the 1,000,000.00 threshold)."""
    demo.p1 = make_project(demo)
    deposit(demo, project=demo.p1.pk, seq=1, amount="1500000.00")
    op = request_release(demo, project=demo.p1.pk, seq=1, amount="1200000.00")
    assert op.state == OperationState.AWAITING_CONFIRMATION
    return op


def _ledger(op):
    return JournalEntry.objects.count(), Posting.objects.count(), balance(codes.custody(op.project_ref, 1))


def api(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_reject_ends_the_order_failed_with_checker_and_reason_moves_nothing_tells_maker(demo, big, ledger_ok):
    before = _ledger(big)
    operation_reject(operation=big, actor=demo.custodian2, reason="收款账户与协议不符，请核实")
    op = MoneyOperation.objects.get(pk=big.pk)
    assert op.state == OperationState.FAILED and op.rejected_by == demo.custodian2 and op.entry_id is None
    assert op.failure_reason == "收款账户与协议不符，请核实" and op.confirmed_by is None
    assert _ledger(big) == before  # nothing posted, nothing to reverse
    event = AuditEvent.objects.get(action="reject", object_id=str(op.pk))
    assert event.actor == demo.custodian2 and event.reason == "收款账户与协议不符，请核实"
    assert (event.from_state, event.to_state) == ("awaiting_confirmation", "failed")
    notice = Notification.objects.get(user=demo.custodian, verb="operation_rejected")
    assert "收款账户与协议不符" in str(notice.params)
    with pytest.raises(ConflictError):  # a confirmation after the rejection: 409, still nothing moves
        operation_confirm(operation=op, actor=demo.custodian2)
    assert _ledger(big) == before


def test_maker_cannot_reject_own_order_service_api_and_page(demo, big, client):
    with pytest.raises(PermissionDeniedError):
        operation_reject(operation=big, actor=demo.custodian, reason="自己驳回自己")
    r = api(demo.custodian).post(f"/api/v1/operations/{big.pk}/reject/", {"reason": "自己驳回"}, format="json")
    assert r.status_code == 403 and r.json()["code"] == "maker_checker"
    client.force_login(demo.custodian)
    client.post(reverse("escrow:operation_reject", args=[big.pk]), {"reason": "自己驳回"})
    assert MoneyOperation.objects.get(pk=big.pk).state == OperationState.AWAITING_CONFIRMATION
    page = client.get(reverse("escrow:operation_review", args=[big.pk])).content.decode()
    assert 'data-action="reject_operation"' not in page and "发起人不能复核自己发起的操作" in page


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reject_requires_a_reason_service_api_and_page(demo, big, client, reason):
    with pytest.raises(DomainError) as exc:
        operation_reject(operation=big, actor=demo.custodian2, reason=reason)
    assert exc.value.status_code == 400 and "reason" in exc.value.fields
    body = {} if reason is None else {"reason": reason}
    r = api(demo.custodian2).post(f"/api/v1/operations/{big.pk}/reject/", body, format="json")
    assert r.status_code == 400 and "reason" in r.json()["fields"]
    client.force_login(demo.custodian2)
    r = client.post(reverse("escrow:operation_reject", args=[big.pk]), body)
    assert r.status_code == 302 and reverse("escrow:operation_review", args=[big.pk]) in r["Location"]
    assert MoneyOperation.objects.get(pk=big.pk).state == OperationState.AWAITING_CONFIRMATION


def test_reject_by_api_answers_the_operation_and_only_a_custodian_may(demo, big):
    assert api(demo.reviewer).post(f"/api/v1/operations/{big.pk}/reject/", {"reason": "x"},
                                   format="json").status_code == 403
    r = api(demo.custodian2).post(f"/api/v1/operations/{big.pk}/reject/", {"reason": "金额有误"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "failed" and r.json()["rejected_by"] == demo.custodian2.username
    assert r.json()["failure_reason"] == "金额有误"
    again = api(demo.custodian2).post(f"/api/v1/operations/{big.pk}/reject/", {"reason": "再驳回"}, format="json")
    assert again.status_code == 409


def test_review_page_says_the_order_in_words_and_rejecting_returns_to_where_it_came_from(demo, big, client):
    client.force_login(demo.custodian2)
    html = client.get(reverse("escrow:operation_review", args=[big.pk]) + "?next=/projects/").content.decode()
    assert demo.plat1.name in html and "¥1,200,000.00" in html
    assert "托管账户·" in html and f"custody:{demo.p1.pk}" not in html  # the account in words, not its code
    assert 'data-action="confirm_operation"' in html and 'data-action="reject_operation"' in html
    assert 'name="reason" required' in html
    r = client.post(reverse("escrow:operation_reject", args=[big.pk]), {"reason": "证据不足", "next": "/projects/"})
    assert r.status_code == 302 and r["Location"] == "/projects/"
    assert MoneyOperation.objects.get(pk=big.pk).state == OperationState.FAILED
    desk = client.get(reverse("escrow:desk")).content.decode()
    assert "复核驳回" in desk and "证据不足" in desk


def test_review_page_is_for_custodians_only(demo, big, client):
    for user in (demo.enterprise, demo.reviewer, demo.auditor):
        client.force_login(user)
        assert client.get(reverse("escrow:operation_review", args=[big.pk])).status_code == 403
    assert Decimal(big.amount) == Decimal("1200000.00")


def test_pool_top_up_says_what_it_records_before_recording_it(demo, client, ledger_ok):
    from escrow.models import PoolTranche

    client.force_login(demo.poolmanager)
    data = {"amount": "300万元", "decided_on": "2025-12-01", "decision_ref": "萧科〔2025〕31号", "token": "tq1"}
    before = (PoolTranche.objects.count(), JournalEntry.objects.count())
    r = client.post(reverse("escrow:pool"), data)
    html = r.content.decode()
    assert r.status_code == 200 and 'data-confirm="top_up"' in html
    assert "¥3,000,000.00" in html and "风险池·资金来源" in html and "风险池·可用余额" in html
    assert "萧科〔2025〕31号" in html and "pool:funding" not in html
    assert (PoolTranche.objects.count(), JournalEntry.objects.count()) == before  # nothing recorded yet
    assert client.post(reverse("escrow:pool"), {**data, "confirmed": "1"}).status_code == 302
    assert PoolTranche.objects.count() == before[0] + 1


def test_review_page_and_top_up_summary_in_english(demo, big, client):
    """The order in words follows the reader's language, the accounts' words too (the names stay as entered)."""
    import re

    from tests.test_i18n import CJK, _all_data_strings

    def chinese_left(html: str) -> list[str]:
        html = re.sub(r"<script.*?</script>|<option.*?</option>", "", html, flags=re.S)
        for name in _all_data_strings():
            html = html.replace(name, "")
        return [line.strip() for line in re.sub(r"<[^>]+>", "\n", html).splitlines() if CJK.search(line)]

    client.force_login(demo.custodian2)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(reverse("escrow:operation_review", args=[big.pk])).content.decode()
    assert "Custody account · Project" in html and "Confirm and execute" in html
    assert chinese_left(html) == []
    client.force_login(demo.poolmanager)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.post(reverse("escrow:pool"), {"amount": "1000.00", "decided_on": "2025-12-01",
                                                "token": "en1"}).content.decode()
    assert "Risk pool · available" in html and chinese_left(html) == []
