"""Pages: the custodian's desk, the pool page, accounts and statements (with Excel), reconciliation."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from escrow import accounts as codes
from escrow.choices import OperationKind, OperationState
from escrow.models import Account, BankStatement, BankStatementLine, MoneyOperation, PoolTranche
from escrow.selectors import pool_days, pool_history, pool_recent
from escrow.services import operation_request
from escrow.services.reconciliation import parse_statement
from projects.tests.factories import make_project

from .factories import deposit, request_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo):
    demo.p1 = make_project(demo)
    demo.p2 = make_project(demo, enterprise=demo.ent2, platform=demo.plat2, title="新材料中试")
    amount = Decimal("1500000.00")
    operation_request(kind=OperationKind.DEPOSIT, amount=amount, memo="保证金到账",
                      lines=[(codes.ext_enterprise(demo.ent1.pk), -amount), (codes.custody(demo.p1.pk, 1), amount)],
                      idempotency_key="w:dep1", ordered_by=demo.custodian, bank_ref="BK-0001",
                      reference=f"AXB-{demo.p1.pk}-1", context={"project": demo.p1.pk}, inline=True)
    deposit(demo, project=demo.p2.pk, seq=1, amount="300.00")
    demo.big = request_release(demo, project=demo.p1.pk, seq=1, amount="1200000.00")  # awaits confirmation
    return demo


def login(client, user):
    client.force_login(user)
    return client


def test_desk_lists_awaiting_with_confirm_button_for_other_operator(world, client, django_assert_max_num_queries):
    login(client, world.custodian2)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("escrow:desk"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="op-{world.big.pk}"' in html
    # No one-click confirmation on the desk: the operator opens the order, reads it, then confirms or rejects.
    assert reverse("escrow:operation_confirm", args=[world.big.pk]) not in html
    assert f'href="{reverse("escrow:operation_review", args=[world.big.pk])}" data-action="review_operation"' in html

    html = login(client, world.custodian).get(reverse("escrow:desk")).content.decode()
    assert 'data-action="review_operation"' not in html  # the maker has no button
    assert "须由另一名操作员复核" in html


def test_desk_is_custodian_only_403(world, client):
    assert login(client, world.enterprise).get(reverse("escrow:desk")).status_code == 403
    assert login(client, world.reviewer).get(reverse("escrow:desk")).status_code == 403


def test_desk_and_its_services_agree_a_superuser_without_the_custodian_role_is_refused_by_both(world, client):
    """The desk used to let a superuser in whom every desk service then refused (one decision now)."""
    from core.exceptions import PermissionDeniedError
    from core.models import User
    from escrow import permissions as perms
    from escrow.services import operation_confirm

    admin = User.objects.create_superuser(username="desk-root", password="x-x-x-x-x-x", email="root@example.org")
    assert not perms.can_operate(admin)
    assert login(client, admin).get(reverse("escrow:desk")).status_code == 403
    assert client.post(reverse("escrow:operation_confirm", args=[world.big.pk])).status_code == 403
    with pytest.raises(PermissionDeniedError):
        operation_confirm(operation=world.big, actor=admin)
    assert MoneyOperation.objects.get(pk=world.big.pk).state == OperationState.AWAITING_CONFIRMATION
    assert perms.can_operate(world.custodian2)  # the operator the desk is for


def test_desk_confirm_by_second_operator_executes(world, client, ledger_ok, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, world.custodian2).post(reverse("escrow:operation_confirm", args=[world.big.pk]))
    assert response.status_code == 302
    assert MoneyOperation.objects.get(pk=world.big.pk).state == OperationState.DONE


def test_desk_confirm_by_maker_changes_nothing(world, client):
    response = login(client, world.custodian).post(reverse("escrow:operation_confirm", args=[world.big.pk]))
    assert MoneyOperation.objects.get(pk=world.big.pk).state == OperationState.AWAITING_CONFIRMATION
    # back to the desk at the section the form was in, where the refusal is said (not at the page's top)
    assert response["Location"] == reverse("escrow:desk") + "#awaiting"
    html = client.get(response["Location"]).content.decode()
    awaiting = html[html.index('id="awaiting"'):html.index('id="pending"')]
    assert '<div class="messages feedback" id="feedback-awaiting"' in awaiting and 'class="msg-error"' in awaiting


def test_pool_page_shows_figures_and_svg_chart(world, client, django_assert_max_num_queries):
    login(client, world.poolmanager)
    with django_assert_max_num_queries(14):  # the first view of the day also stores the closed days
        client.get(reverse("escrow:pool"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("escrow:pool"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg id="pool-chart"' in html and 'class="series-available"' in html
    assert "¥100,000,000.00" in html
    assert "<script" not in html.split("<main", 1)[1]  # server-rendered, no chart library


def test_pool_page_403_for_enterprise(world, client):
    assert login(client, world.enterprise).get(reverse("escrow:pool")).status_code == 403


def test_pool_top_up_form_double_submit_records_once(world, client, ledger_ok):
    client = login(client, world.poolmanager)
    data = {"amount": "2000000.00", "decided_on": "2025-12-01", "decision_ref": "萧科〔2025〕30号", "token": "abc123",
            "confirmed": "1"}
    assert client.post(reverse("escrow:pool"), data).status_code == 302
    assert client.post(reverse("escrow:pool"), data).status_code == 302
    assert PoolTranche.objects.count() == 2
    assert Account.objects.get(code=codes.POOL_AVAILABLE).balance == Decimal("99600000.00")  # 97.6 M + 2 M, once


def test_pool_top_up_form_refused_for_auditor(world, client, ledger_ok):
    data = {"amount": "1.00", "decided_on": "2025-12-01", "token": "x", "confirmed": "1"}
    assert login(client, world.auditor).post(reverse("escrow:pool"), data).status_code == 403


def test_pool_history_follows_postings(demo, ledger_ok):
    b = Decimal("1000000.00")
    operation_request(kind=OperationKind.ADVANCE, amount=b, memo="垫付", idempotency_key="h:adv", inline=True,
                      lines=[(codes.POOL_AVAILABLE, -b), (codes.pool_advanced(5), b)], ordered_by=demo.reviewer)
    operation_request(kind=OperationKind.REPAYMENT, amount=Decimal("600000.00"), memo="归还", idempotency_key="h:rep",
                      inline=True, lines=[(codes.pool_advanced(5), Decimal("-600000.00")),
                                          (codes.POOL_AVAILABLE, Decimal("600000.00"))])
    operation_request(kind=OperationKind.WRITE_OFF, amount=Decimal("400000.00"), memo="核销", idempotency_key="h:wo",
                      inline=True, lines=[(codes.pool_advanced(5), Decimal("-400000.00")),
                                          (codes.POOL_LOSSES, Decimal("400000.00"))])
    deposit(demo, project=5, seq=1, amount="10.00")  # not a pool entry: no point
    points = pool_history()
    assert [(p.available, p.advanced, p.losses) for p in points] == [
        (Decimal("100000000.00"), 0, 0),
        (Decimal("99000000.00"), Decimal("1000000.00"), 0),
        (Decimal("99600000.00"), Decimal("400000.00"), 0),
        (Decimal("99600000.00"), 0, Decimal("400000.00")),
    ]
    assert all(p.funding == Decimal("100000000.00") for p in points)


def test_accounts_page_scoped_for_enterprise(world, client, django_assert_max_num_queries):
    login(client, world.enterprise2)
    with django_assert_max_num_queries(10):
        html = client.get(reverse("escrow:accounts")).content.decode()
    assert codes.custody(world.p2.pk, 1) in html
    assert codes.custody(world.p1.pk, 1) not in html and codes.POOL_AVAILABLE not in html
    # words first, the code only as a small reference beside them
    own = f"托管账户·项目 {world.p2.pk}·里程碑 1</a> <small class=\"muted account-code\">{codes.custody(world.p2.pk, 1)}"
    assert own in html


def test_statement_running_balance_and_excel_export(world, client, ledger_ok):
    code = codes.custody(world.p2.pk, 1)
    for i in range(3):
        deposit(world, project=world.p2.pk, seq=1, amount=f"{10 * (i + 1)}.00")
    account = Account.objects.get(code=code)
    client = login(client, world.enterprise2)
    html = client.get(reverse("escrow:account_statement", args=[account.pk])).content.decode()
    assert f"<h1>账户对账单 · 托管账户·项目 {world.p2.pk}·里程碑 1</h1>" in html
    assert html.count('class="num running"') == 4
    assert "¥360.00" in html  # 300 + 10 + 20 + 30

    response = client.get(reverse("escrow:account_statement", args=[account.pk]) + "?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Cache-Control"] == "private, no-store"  # a confidential statement: not kept by caches
    assert response["Content-Disposition"].startswith('attachment; filename="statement-')
    ws = load_workbook(io.BytesIO(response.content)).active
    values = [row for row in ws.iter_rows(values_only=True)]
    assert values[-1][-1] == 360
    assert [r[-1] for r in values[5:-1]] == [300, 310, 330, 360]


def test_statement_excel_headers_follow_the_language(world):
    from django.utils import translation

    from escrow.documents import statement_xlsx
    from escrow.selectors import account_statement

    deposit(world, project=world.p2.pk, seq=1, amount="10.00")
    statement = account_statement(Account.objects.get(code=codes.custody(world.p2.pk, 1)), start=None, end=None)

    def sheet():
        ws = load_workbook(io.BytesIO(statement_xlsx(statement))).active
        return ws.title, [row for row in ws.iter_rows(values_only=True)]

    title, rows = sheet()
    assert title == "账户对账单" and rows[1][0] == "期间" and rows[1][1].startswith("开户 至 ")
    assert rows[4] == ("日期时间", "分录号", "摘要", "资金操作", "对方科目", "金额", "余额") and rows[-1][0] == "期末余额"
    with translation.override("en"):
        title, rows = sheet()
    assert title == "Account statement" and rows[0][0].startswith("Account statement ")
    assert rows[1][0] == "Period" and rows[1][1].startswith("account opening to ") and rows[1][3] == "Currency"
    assert rows[2][0] == "Opening balance" and rows[-1][0] == "Closing balance"
    assert rows[4] == ("Date and time", "Entry no.", "Memo", "Money operation", "Counter account", "Amount", "Balance")


def test_statement_of_other_organisations_account_404(world, client):
    account = Account.objects.get(code=codes.custody(world.p1.pk, 1))
    assert login(client, world.enterprise2).get(reverse("escrow:account_statement", args=[account.pk])).status_code == 404


def csv_ok() -> str:
    today = timezone.localdate().isoformat()  # the operations finished today (local time)
    return ("date,amount,direction,bank_ref,counterparty\n"
            f"{today},1500000.00,in,BK-0001,杭州萧山智能装备有限公司\n"
            f"{today},88.00,in,BK-9999,未知汇款人\n")


def upload(client, content: str, name: str = "statement.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("escrow:statement_upload"),
                       {"file": SimpleUploadedFile(name, content.encode(), content_type="text/csv")})


def test_reconciliation_matches_by_reference_and_amount(world, client):
    response = upload(login(client, world.custodian), csv_ok())
    assert response.status_code == 302
    statement = BankStatement.objects.get()
    lines = {ln.bank_ref: ln for ln in statement.lines.all()}
    assert lines["BK-0001"].operation.idempotency_key == "w:dep1"
    assert lines["BK-9999"].operation is None
    html = client.get(response["Location"]).content.decode()
    assert 'id="unmatched-lines-count">1<' in html
    assert "BK-9999" in html
    # the p2 deposit (done, no bank line) is an unmatched operation
    assert html.count('class="unmatched-op"') == MoneyOperation.objects.filter(
        kind=OperationKind.DEPOSIT, state=OperationState.DONE).count() - 1


def test_reconciliation_malformed_file_refused_with_line_number_nothing_imported(world, client):
    bad = csv_ok() + "2025-05-08,12.345,in,BK-7,某公司\n"
    response = upload(login(client, world.custodian), bad)
    assert response.status_code == 400
    assert "第 4 行" in response.content.decode()
    assert BankStatement.objects.count() == 0 and BankStatementLine.objects.count() == 0


@pytest.mark.parametrize(("content", "line"), [
    ("amount,direction\n1,in\n", 1),
    ("date,amount,direction,bank_ref\n2025-13-01,1.00,in,A\n", 2),
    ("date,amount,direction,bank_ref\n2025-01-01,1.00,sideways,A\n", 2),
    ("date,amount,direction,bank_ref\n2025-01-01,1.00,in,A\n2025-01-02,-5,out,B\n", 3),
    ("date,amount,direction,bank_ref\n2025-01-01,1.00,in,A\n2025-01-02,5,out,A\n", 3),
    ("date,amount,direction,bank_ref\n2025-01-01,1.00,in\n", 2),
])
def test_parse_statement_names_the_bad_line(content, line):
    from core.exceptions import DomainError

    with pytest.raises(DomainError) as err:
        parse_statement(content.encode())
    assert f"第 {line} 行" in err.value.detail


def test_parse_statement_accepts_chinese_headers_and_gbk():
    content = "日期,金额,方向,银行流水号,对方户名\n2025-01-01,\"1,200.00\",收,A1,某公司\n".encode("gb18030")
    [line] = parse_statement(content)
    assert (line.date, line.amount, line.direction, line.bank_ref) == (date(2025, 1, 1), Decimal("1200.00"), "in", "A1")


def test_reconciliation_upload_custodian_only(world, client):
    assert upload(login(client, world.auditor), csv_ok()).status_code == 403


def test_desk_redispatch_executes_pending_operation_once(world, client, ledger_ok, django_capture_on_commit_callbacks):
    from unittest import mock

    deposit(world, project=world.p2.pk, seq=2, amount="40.00")
    with mock.patch("escrow.services.operations._send"):  # the first message is lost
        op = request_release(world, project=world.p2.pk, seq=2, amount="40.00")
    login(client, world.custodian)
    html = client.get(reverse("escrow:desk")).content.decode()
    assert reverse("escrow:operation_redispatch", args=[op.pk]) in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("escrow:operation_redispatch", args=[op.pk]))
    assert MoneyOperation.objects.get(pk=op.pk).state == OperationState.DONE
    response = client.post(reverse("escrow:operation_redispatch", args=[op.pk]), follow=True)
    assert "不能重新派发" in response.content.decode()
    assert login(client, world.auditor).post(reverse("escrow:operation_redispatch", args=[op.pk])).status_code == 403


def _advance(demo, i: int) -> None:
    b = Decimal("1000.00") * (i + 1)
    operation_request(kind=OperationKind.ADVANCE, amount=b, memo=f"垫付{i}", idempotency_key=f"t:adv:{i}", inline=True,
                      lines=[(codes.POOL_AVAILABLE, -b), (codes.pool_advanced(100 + i), b)], ordered_by=demo.reviewer)


def test_pool_recent_is_the_tail_of_the_history_worked_back_from_the_balances(demo, ledger_ok):
    for i in range(12):
        _advance(demo, i)
    deposit(demo, project=5, seq=1, amount="10.00")  # not a pool entry
    full = pool_history()
    assert pool_recent(5) == list(reversed(full[-5:]))
    assert pool_recent(100) == list(reversed(full))


def test_pool_days_stores_each_closed_day_once_and_adds_today_live(demo, ledger_ok, django_assert_max_num_queries):
    import time_machine
    from django.utils import timezone

    from escrow.models import PoolDay

    start = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    for day in range(3):  # two advances on each of three past days
        with time_machine.travel(start + timedelta(days=day), tick=False):
            _advance(demo, 2 * day)
            _advance(demo, 2 * day + 1)
    _advance(demo, 99)  # today
    history = pool_history()
    by_day: dict = {}
    for p in history:
        by_day[timezone.localdate(p.at)] = p  # the last point of each day
    days = pool_days()
    assert [timezone.localdate(p.at) for p in days] == sorted(by_day)  # the last closed day had entries
    for p in days:
        last = by_day[timezone.localdate(p.at)]
        assert (p.funding, p.available, p.advanced, p.losses) == (last.funding, last.available, last.advanced,
                                                                  last.losses)
    stored = list(PoolDay.objects.values_list("day", "entries"))
    # every closed day with pool entries is stored, and the last closed day marks how far the series goes
    stored_days = dict(stored)
    assert all(stored_days[(start + timedelta(days=d)).date()] == 2 for d in range(3))
    assert timezone.localdate() not in stored_days  # today is read live
    with django_assert_max_num_queries(4):  # the stored rows, the open day's check, the balances
        again = pool_days()
    assert again[:-1] == days[:-1] and again[-1].available == days[-1].available  # today's point is "now"
    assert list(PoolDay.objects.values_list("day", "entries")) == stored


def test_reconciliation_over_5_mb_refused_by_the_service(world):
    from core.exceptions import DomainError
    from escrow.models import BankStatement
    from escrow.services.reconciliation import MAX_STATEMENT_BYTES, statement_import

    raw = csv_ok().encode() + b"#" * MAX_STATEMENT_BYTES
    with pytest.raises(DomainError) as exc:
        statement_import(filename="big.csv", raw=raw, actor=world.custodian)
    assert exc.value.code == "file_too_large" and not BankStatement.objects.exists()


def test_pool_days_count_an_entry_committed_after_its_day_was_stored(demo, ledger_ok):
    """An entry stamped in a closed day but committed after the day was stored (a long transaction around
    midnight) is not lost: the series checks itself against the balances and is summed afresh."""
    import time_machine
    from django.utils import timezone

    start = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=2)
    with time_machine.travel(start, tick=False):
        _advance(demo, 1)
    before = pool_days()  # the closed days are stored now
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        _advance(demo, 2)  # stamped in the stored day, "committed" after it was stored
    days = pool_days()
    history = pool_history()
    stored_day = timezone.localdate(start)
    last_of_day = [p for p in history if timezone.localdate(p.at) == stored_day][-1]
    point = [p for p in days if timezone.localdate(p.at) == stored_day][0]
    stored_before = [p for p in before if timezone.localdate(p.at) == stored_day][0]
    assert point.available == last_of_day.available != stored_before.available


def test_pool_days_do_not_plot_the_quiet_day_that_marks_the_closed_series(demo, ledger_ok):
    """The demo funds the pool today: yesterday is stored with no entries (so it is not summed again), but the
    chart shows one point, today, not a flat zero before it."""
    from django.utils import timezone

    from escrow.models import PoolDay

    days = pool_days()
    assert PoolDay.objects.filter(entries=0).exists()
    assert [timezone.localdate(p.at) for p in days] == [timezone.localdate()]


def test_pool_chart_of_one_day_draws_each_level_across_the_plot_with_one_date():
    """All of the pool's history on one day (a fresh installation, the demo): each series is a visible line
    across the plot, and the axis names that day once, inside the chart."""
    from types import SimpleNamespace

    from escrow.charts import pool_chart

    at = timezone.now()
    chart = pool_chart([SimpleNamespace(at=at, available=Decimal("72000000.00"), advanced=Decimal("26000000.00"),
                                        losses=Decimal("2000000.00"))])
    for s in chart["series"]:
        (x0, y0), (x1, y1) = (tuple(map(float, c.split(","))) for c in s.points.split())
        assert (x0, x1) == (chart["left"], chart["right"]) and y0 == y1, s.key
    assert [t["label"] for t in chart["xticks"]] == [timezone.localdate(at).isoformat()]
    assert chart["xticks"][0]["anchor"] == "middle"
