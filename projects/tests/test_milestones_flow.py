"""Milestones in motion: worked example 5, a 3-milestone project to close, overdue, extension, maker–checker."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from core.exceptions import ConflictError, DomainError, PermissionDeniedError, TransitionNotAllowed
from escrow import accounts as codes
from escrow.models import JournalEntry, MoneyOperation, Posting
from escrow.selectors import account_balance, pool_summary
from escrow.services import operation_confirm
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.choices import ProjectState
from projects.models import Attachment, Project
from projects.tests.factories import PNG_BYTES, tranche_project
from projects.tests.steps import (
    bank_ref,
    forfeit,
    fresh,
    full_cycle,
    pay_balance,
    pay_deposit,
    pdf,
    release,
    report,
    reported_milestone,
)

pytestmark = pytest.mark.django_db(transaction=True)


def d(x: str) -> Decimal:
    return Decimal(x)


def entry_lines(op: MoneyOperation) -> dict[str, Decimal]:
    return {p.account.code: p.amount for p in Posting.objects.filter(entry=op.entry).select_related("account")}


def _to_milestone_2(demo):
    p = tranche_project(demo, tranches=[("1000000.00", "100000.00"), ("2000000.00", "200000.00")],
                         budget="1000000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m1, m2 = p.milestones.order_by("seq")
    full_cycle(demo, m1, "100000.00")
    assert fresh(m2).state == M.DEPOSIT_DUE  # R7: k+1 opens when k is released
    return p, m2


@pytest.mark.postgres
def test_worked_example_5_deposit_only_goes_to_platform_R8(demo, ledger_ok):
    p, m2 = _to_milestone_2(demo)
    pay_deposit(demo, m2, "200000.00")
    report(demo, m2)
    ms.milestone_review_not_met(milestone=fresh(m2), actor=demo.reviewer, reason="样机未达到指标")
    plat_before = account_balance(codes.ext_platform(p.platform_id))
    op = forfeit(demo, m2)
    assert op.state == "done" and op.kind == "forfeit"
    assert entry_lines(op) == {codes.custody(p.pk, 2): d("-200000.00"),
                               codes.ext_platform(p.platform_id): d("200000.00")}
    m2 = fresh(m2)
    assert (m2.state, m2.forfeited_amount, m2.refunded_amount) == (M.FORFEITED, d("200000.00"), d("0.00"))
    assert account_balance(codes.custody(p.pk, 2)) == d("0.00")
    assert account_balance(codes.ext_platform(p.platform_id)) - plat_before == d("200000.00")


@pytest.mark.postgres
def test_worked_example_5_whole_tranche_paid_refunds_1800000_I3(demo, ledger_ok):
    p, m2 = _to_milestone_2(demo)
    ent_before = account_balance(codes.ext_enterprise(p.enterprise_id))
    pay_deposit(demo, m2, "2000000.00")  # the enterprise pays the whole tranche (R7)
    assert fresh(m2).paid_in == d("2000000.00")
    report(demo, m2)
    ms.milestone_review_not_met(milestone=fresh(m2), actor=demo.reviewer, reason="未达标")
    _m, op = ms.milestone_forfeit(milestone=fresh(m2), actor=demo.custodian)
    assert op.state == "awaiting_confirmation"  # 2,000,000 > threshold: maker–checker
    assert fresh(m2).state == M.FAILED
    op = operation_confirm(operation=op, actor=demo.custodian2)
    op = MoneyOperation.objects.get(pk=op.pk)
    assert entry_lines(op) == {codes.custody(p.pk, 2): d("-2000000.00"),
                               codes.ext_platform(p.platform_id): d("200000.00"),
                               codes.ext_enterprise(p.enterprise_id): d("1800000.00")}
    m2 = fresh(m2)
    assert (m2.state, m2.forfeited_amount, m2.refunded_amount) == (M.FORFEITED, d("200000.00"), d("1800000.00"))
    assert account_balance(codes.custody(p.pk, 2)) == 0
    # the enterprise's net outflow for milestone 2 is exactly the deposit
    assert ent_before - account_balance(codes.ext_enterprise(p.enterprise_id)) == d("200000.00")


def test_three_milestones_open_to_close_returns_the_pool(demo, ledger_ok):
    start = pool_summary().available
    tranches = [("1200000.00", "120000.00"), ("900000.00", "90000.00"), ("1500000.00", "1500000.00")]
    p = tranche_project(demo, tranches=tranches, budget="1200000.00")
    assert pool_summary().available == start - d("1200000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    plat_before = account_balance(codes.ext_platform(p.platform_id))
    m1, m2, m3 = p.milestones.order_by("seq")
    assert (fresh(m1).state, fresh(m2).state) == (M.DEPOSIT_DUE, M.PLANNED)
    full_cycle(demo, m1, "120000.00")
    full_cycle(demo, m2, "450000.00")
    assert fresh(m3).state == M.DEPOSIT_DUE
    pay_deposit(demo, m3, "1500000.00")
    report(demo, m3)
    assert ms.milestone_review_met(milestone=fresh(m3), actor=demo.reviewer, reason="ok").state == M.RELEASABLE
    release(demo, m3)
    for m in (m1, m2, m3):
        m = fresh(m)
        assert m.state == M.RELEASED and m.released_amount == m.amount == m.paid_in
        assert account_balance(codes.custody(p.pk, m.seq)) == 0
    paid = account_balance(codes.ext_platform(p.platform_id)) - plat_before
    assert paid == d("3600000.00")  # exactly Σ tranches
    ms.project_close(project=Project.objects.get(pk=p.pk), actor=demo.reviewer)
    p = Project.objects.get(pk=p.pk)
    assert p.state == ProjectState.COMPLETED
    assert account_balance(codes.pool_advanced(p.pk)) == 0
    assert pool_summary().available == start  # the advance came back (I2)
    assert pool_summary().losses == 0


def test_deposit_below_agreed_deposit_refused_R5(demo, ledger_ok):
    p = tranche_project(demo, tranches=[("1200000.00", "120000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    with pytest.raises(DomainError) as exc:
        ms.milestone_confirm_deposit(milestone=m, actor=demo.custodian, amount=d("119999.99"), bank_ref=bank_ref())
    assert exc.value.rule == "R5"
    with pytest.raises(DomainError) as exc:
        ms.milestone_confirm_deposit(milestone=m, actor=demo.custodian, amount=d("1200000.01"), bank_ref=bank_ref())
    assert exc.value.rule == "R7"
    assert not MoneyOperation.objects.filter(kind="deposit").exists()
    pay_deposit(demo, m, "120000.00")
    assert fresh(m).state == M.IN_PROGRESS and fresh(m).paid_in == d("120000.00")


def test_receipt_must_be_pdf_or_image_and_from_the_enterprise(demo, ledger_ok):
    from django.core.files.uploadedfile import SimpleUploadedFile

    p = tranche_project(demo, tranches=[("1200000.00", "120000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    fake = SimpleUploadedFile("回单.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(DomainError) as exc:
        ms.milestone_upload_receipt(milestone=m, actor=demo.enterprise, file=fake)
    assert exc.value.code == "file_type"
    with pytest.raises(PermissionDeniedError):
        ms.milestone_upload_receipt(milestone=m, actor=demo.enterprise2, file=pdf())
    from django.core.files.uploadedfile import SimpleUploadedFile as F

    att = ms.milestone_upload_receipt(milestone=m, actor=demo.enterprise, file=F("回单.png", PNG_BYTES, "image/png"))
    assert att.kind == "receipt" and att.content_type == "image/png"
    assert Attachment.objects.filter(milestone=m, kind="receipt").count() == 1


def test_evidence_must_be_pdf_or_image_r12(demo, ledger_ok):
    from django.core.files.uploadedfile import SimpleUploadedFile

    p = tranche_project(demo, tranches=[("1200000.00", "120000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "120000.00")
    m = fresh(m)
    exe = SimpleUploadedFile("成果.pdf", b"MZ\x90\x00 an executable", content_type="application/pdf")
    with pytest.raises(DomainError) as exc:
        ms.milestone_report_completion(milestone=m, actor=demo.platform, description="按计划完成",
                                       target_notes={t: "已完成" for t in ms.target_list(m)}, files=[exe])
    assert exc.value.rule == "R12"
    assert fresh(m).state == M.IN_PROGRESS and not fresh(m).attachments.filter(kind="evidence").exists()


def test_release_needs_second_custodian_above_threshold_first_gets_403(demo, ledger_ok):
    p = tranche_project(demo, tranches=[("1500000.00", "150000.00")], budget="1500000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "150000.00")
    report(demo, m)
    ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="ok")
    pay_balance(demo, m)
    assert fresh(m).state == M.RELEASABLE
    _m, op = ms.milestone_release(milestone=fresh(m), actor=demo.custodian)
    assert op.state == "awaiting_confirmation"
    with pytest.raises(PermissionDeniedError):
        operation_confirm(operation=op, actor=demo.custodian)
    with pytest.raises(ConflictError):  # a second order while one is pending
        ms.milestone_release(milestone=fresh(m), actor=demo.custodian2)
    assert fresh(m).state == M.RELEASABLE and account_balance(codes.custody(p.pk, 1)) == d("1500000.00")
    operation_confirm(operation=op, actor=demo.custodian2)
    assert fresh(m).state == M.RELEASED
    assert MoneyOperation.objects.get(pk=op.pk).confirmed_by == demo.custodian2


def test_reviewer_never_moves_money_and_custodian_never_decides(demo, ledger_ok):
    p = tranche_project(demo, tranches=[("1200000.00", "120000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    with pytest.raises(PermissionDeniedError):
        ms.milestone_confirm_deposit(milestone=m, actor=demo.reviewer, amount=d("120000.00"), bank_ref="X1")
    pay_deposit(demo, m, "120000.00")
    report(demo, m)
    with pytest.raises(PermissionDeniedError):
        ms.milestone_review_met(milestone=fresh(m), actor=demo.custodian, reason="ok")
    with pytest.raises(PermissionDeniedError):  # another platform cannot report
        ms.milestone_report_completion(milestone=fresh(m), actor=demo.platform2, description="x")


def test_review_met_needs_a_reason_R7_and_changes_nothing_without_one(demo):
    from core.models import AuditEvent

    m = reported_milestone(demo)
    audits = AuditEvent.objects.count()
    for reason in ("", "   "):
        with pytest.raises(DomainError) as exc:
            ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason=reason)
        assert exc.value.code == "reason_required" and exc.value.rule == "R7" and "R7" not in exc.value.detail
        assert "reason" in exc.value.fields
    assert fresh(m).state == M.REPORTED and fresh(m).decision_reason == "" and fresh(m).decided_at is None
    assert AuditEvent.objects.count() == audits


def test_expert_scores_required_when_scheme_asks_R16(demo, ledger_ok):
    demo.scheme.milestone_reviews_required = 1
    demo.scheme.save()
    p = tranche_project(demo, tranches=[("1200000.00", "1200000.00")])
    p.scheme.refresh_from_db()
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "1200000.00")
    report(demo, m)
    with pytest.raises(DomainError) as exc:
        ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="ok")
    assert exc.value.rule == "R16"
    ms.milestone_assign_expert(milestone=fresh(m), actor=demo.reviewer, expert=demo.expert1)
    ms.milestone_expert_score(milestone=fresh(m), actor=demo.expert1, feasibility=80, terms=85, cost=90)
    assert ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="ok").state == M.RELEASABLE


def test_milestone_experts_respect_recusal_R16(demo, ledger_ok):
    from core.tests.factories import make_user
    from projects.models import ConflictDeclaration

    p = tranche_project(demo, tranches=[("1200000.00", "1200000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "1200000.00")
    report(demo, m)
    ConflictDeclaration.objects.create(expert=demo.expert1, organization=p.enterprise, reason="曾任该企业顾问")
    staff_expert = make_user("platform_expert", p.platform, "expert")
    for expert in (demo.expert1, staff_expert):
        with pytest.raises(DomainError) as exc:
            ms.milestone_assign_expert(milestone=fresh(m), actor=demo.reviewer, expert=expert)
        assert exc.value.code == "expert_conflict"
    assert ms.milestone_assign_expert(milestone=fresh(m), actor=demo.reviewer, expert=demo.expert2).expert == demo.expert2


def test_nobody_decides_a_milestone_of_their_own_organisations_project(demo, ledger_ok):
    from core.tests.factories import make_user

    p = tranche_project(demo, tranches=[("1200000.00", "1200000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "1200000.00")
    report(demo, m)
    insider = make_user("platform_reviewer", p.platform, "reviewer")
    with pytest.raises(PermissionDeniedError):
        ms.milestone_review_met(milestone=fresh(m), actor=insider, reason="ok")
    with pytest.raises(PermissionDeniedError):
        ms.milestone_review_not_met(milestone=fresh(m), actor=insider, reason="no")
    assert fresh(m).state == M.REPORTED


def test_overdue_by_beat_task_then_extension_beyond_a_year_refused_R7(demo, ledger_ok):
    from django.conf import settings

    from projects.tasks import milestones_overdue_sweep

    beat = {v["task"] for v in settings.CELERY_BEAT_SCHEDULE.values()}
    assert milestones_overdue_sweep.name in beat
    with time_machine.travel(date(2025, 4, 1), tick=False):
        p = tranche_project(demo, tranches=[("1200000.00", "120000.00")], start=date(2025, 4, 1), months=6)
        ms.project_open_escrow(project=p, actor=demo.reviewer)
        m = p.milestones.get()
        pay_deposit(demo, m, "120000.00")
    due = fresh(m).due_date  # 2025-09-28
    with time_machine.travel(due.replace(day=20), tick=False):
        result = milestones_overdue_sweep.delay().get()
        assert result == {"reminded": [m.pk], "overdue": []}
        assert fresh(m).state == M.IN_PROGRESS and fresh(m).reminded_at is not None
        assert demo.enterprise.notifications.filter(verb="milestone_due_soon").count() == 1
    with time_machine.travel(due, tick=False):
        assert milestones_overdue_sweep.delay().get()["overdue"] == []
    with time_machine.travel(date(2025, 10, 1), tick=False):
        assert milestones_overdue_sweep.delay().get()["overdue"] == [m.pk]
        assert fresh(m).state == M.OVERDUE
        assert milestones_overdue_sweep.delay().get()["overdue"] == []  # once
        with pytest.raises(TransitionNotAllowed):
            report(demo, m)
        with pytest.raises(DomainError) as exc:
            ms.milestone_extend(milestone=fresh(m), actor=demo.reviewer, due_date=date(2026, 4, 2), reason="延期")
        assert exc.value.rule == "R7"
        assert fresh(m).state == M.OVERDUE
        ms.milestone_extend(milestone=fresh(m), actor=demo.reviewer, due_date=date(2026, 4, 1), reason="设备延误")
        m = fresh(m)
        assert (m.state, m.due_date) == (M.IN_PROGRESS, date(2026, 4, 1))


def test_overdue_can_be_declared_not_met_I7_then_terminated_with_write_off_I2(demo, ledger_ok):
    start = pool_summary().available
    p = tranche_project(demo, tranches=[("1200000.00", "120000.00"), ("1800000.00", "180000.00")],
                         budget="1200000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m1 = p.milestones.get(seq=1)
    pay_deposit(demo, m1, "300000.00")
    ms.milestones_mark_overdue(today=fresh(m1).due_date.replace(year=2026))
    assert fresh(m1).state == M.OVERDUE
    with pytest.raises(ConflictError) as exc:  # custody not settled yet (I3)
        ms.project_terminate(project=p, actor=demo.reviewer, reason="x", repaid_amount=d("0"))
    assert exc.value.rule == "I3"
    ms.milestone_review_not_met(milestone=fresh(m1), actor=demo.reviewer, reason="逾期未完成")
    op = forfeit(demo, m1)
    assert entry_lines(op)[codes.ext_enterprise(p.enterprise_id)] == d("180000.00")
    with pytest.raises(DomainError) as exc:
        ms.project_terminate(project=p, actor=demo.reviewer, reason="", repaid_amount=d("0"))
    ms.project_terminate(project=p, actor=demo.reviewer, reason="平台无力继续，归还部分垫付",
                         repaid_amount=d("1000000.00"))
    assert Project.objects.get(pk=p.pk).state == ProjectState.TERMINATED
    assert pool_summary().available == start - d("200000.00")
    assert account_balance(codes.POOL_LOSSES) == d("200000.00")
    assert account_balance(codes.pool_advanced(p.pk)) == 0


def test_continue_after_forfeit_opens_next_milestone(demo, ledger_ok):
    p = tranche_project(demo, tranches=[("1200000.00", "120000.00"), ("1800000.00", "180000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m1, m2 = p.milestones.order_by("seq")
    with pytest.raises(DomainError):
        ms.milestone_request_deposit(milestone=m2, actor=demo.reviewer)
    pay_deposit(demo, m1, "120000.00")
    report(demo, m1)
    ms.milestone_review_not_met(milestone=fresh(m1), actor=demo.reviewer, reason="未达标")
    forfeit(demo, m1)
    with pytest.raises(ConflictError):  # the last milestone was not released
        ms.project_close(project=p, actor=demo.reviewer)
    ms.project_continue(project=p, actor=demo.reviewer, reason="继续第二阶段")
    assert fresh(m2).state == M.DEPOSIT_DUE
    full_cycle(demo, m2, "180000.00")
    ms.project_close(project=Project.objects.get(pk=p.pk), actor=demo.reviewer)
    assert Project.objects.get(pk=p.pk).state == ProjectState.COMPLETED


def test_duplicate_delivery_of_release_task_changes_nothing_invariant_3(demo, ledger_ok):
    from escrow.services import operation_execute

    p = tranche_project(demo, tranches=[("1200000.00", "1200000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "1200000.00")
    report(demo, m)
    ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="ok")
    op = release(demo, m)
    entries = JournalEntry.objects.count()
    operation_execute(operation_id=op.pk)
    operation_execute(operation_id=op.pk)
    assert JournalEntry.objects.count() == entries
    assert fresh(m).released_amount == d("1200000.00")


def test_who_decided_a_milestone_never_moves_its_money(demo, ledger_ok):
    from projects.tests.steps import met_by_a_custodian_reviewer

    m = met_by_a_custodian_reviewer(demo)
    with pytest.raises(PermissionDeniedError) as exc:
        ms.milestone_release(milestone=fresh(m), actor=demo.reviewer)
    assert exc.value.code == "separation_of_duties"
    assert fresh(m).state == M.RELEASABLE
    release(demo, m)
    assert fresh(m).state == M.RELEASED


def test_typed_amounts_with_a_third_decimal_are_refused_not_rounded_i4(demo, ledger_ok):
    p = tranche_project(demo, tranches=[("1000000.00", "100000.00")], budget="1000000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    ms.milestone_upload_receipt(milestone=m, actor=demo.enterprise, file=pdf())
    with pytest.raises(DomainError) as err:
        ms.milestone_confirm_deposit(milestone=fresh(m), actor=demo.custodian, amount="100000.005",
                                     bank_ref=bank_ref())
    assert err.value.rule == "I4" and err.value.fields == {"amount": ["最多两位小数"]}
    assert not MoneyOperation.objects.filter(purpose=ms.P_DEPOSIT).exists() and fresh(m).paid_in == 0
    ms.milestone_confirm_deposit(milestone=fresh(m), actor=demo.custodian, amount="100,000.00", bank_ref=bank_ref())
    assert fresh(m).paid_in == d("100000.00")
    report(demo, m)
    ms.milestone_review_not_met(milestone=fresh(m), actor=demo.reviewer, reason="未达标")
    forfeit(demo, m)
    with pytest.raises(DomainError) as err:  # money() would have made it 999,999.99 without a word
        ms.project_terminate(project=Project.objects.get(pk=p.pk), actor=demo.reviewer, reason="终止",
                             repaid_amount="999999.994")
    assert err.value.rule == "I4" and "repaid_amount" in err.value.fields
    assert Project.objects.get(pk=p.pk).state == ProjectState.ACTIVE
    assert account_balance(codes.pool_advanced(p.pk)) == d("1000000.00")


def test_after_termination_a_milestone_waiting_for_its_deposit_takes_no_money(demo, ledger_ok):
    p = tranche_project(demo, tranches=[("1000000.00", "100000.00"), ("2000000.00", "200000.00")],
                         budget="1000000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m1 = p.milestones.get(seq=1)
    ms.milestone_upload_receipt(milestone=m1, actor=demo.enterprise, file=pdf())  # before: allowed
    ms.project_terminate(project=Project.objects.get(pk=p.pk), actor=demo.reviewer, reason="企业放弃合作",
                         repaid_amount="1000000.00")
    assert fresh(m1).state == M.CANCELLED  # I15: it never started, so it ends with the project
    with pytest.raises(TransitionNotAllowed) as err:
        ms.milestone_confirm_deposit(milestone=fresh(m1), actor=demo.custodian, amount="100000.00",
                                     bank_ref=bank_ref())
    assert err.value.code == "project_not_active" and "已终止" in err.value.detail
    with pytest.raises(TransitionNotAllowed):
        ms.milestone_upload_receipt(milestone=fresh(m1), actor=demo.enterprise, file=pdf())
    assert not MoneyOperation.objects.filter(purpose=ms.P_DEPOSIT).exists()
    assert account_balance(codes.custody(p.pk, 1)) == 0
    # The page offers nothing either: no receipt upload, no payment instructions, no confirmation.
    from django.test import Client

    for user, absent in ((demo.enterprise, "upload_receipt"), (demo.custodian, "confirm_deposit")):
        page = Client()
        page.force_login(user)
        html = page.get(f"/projects/{p.pk}/").content.decode()
        assert f'data-action="{absent}"' not in html and "pay-instructions" not in html
    home = Client()
    home.force_login(demo.enterprise)
    html = home.get("/").content.decode()
    todo = html[html.index('id="enterprise-todo"'):html.index("</table>", html.index('id="enterprise-todo"'))]
    assert p.title not in todo and "暂无待办" in todo  # nothing to pay on the enterprise's home page
