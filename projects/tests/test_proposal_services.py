"""Proposal services: the rules of submit and approve (R2, R5–R7, R13, R17, I2, I9), with real postings."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.choices import Role
from core.exceptions import DomainError, PermissionDeniedError, TransitionNotAllowed
from core.models import AuditEvent, Notification
from core.services import organization_blacklist, users_with_role
from core.tests.factories import make_user
from escrow import accounts
from escrow.models import JournalEntry
from escrow.selectors import account_balance, pool_summary
from escrow.services import pool_top_up
from projects import services
from projects.choices import ProjectState
from projects.models import ConflictDeclaration, ExpertAssignment, Project
from projects.selectors import waitlist_ranked
from projects.tests.factories import milestone_rows, pdf_file, project_at, proposal_values, score_all

pytestmark = pytest.mark.django_db


def test_worked_example_1_total_minus_equipment_below_minimum_rejected_under_r2(demo):
    # domain.md worked example 1: 5,000,000 − 2,500,000 = 2,500,000 < 3,000,000.
    rows = milestone_rows(amounts=("1500000.00", "1000000.00"))
    project = services.project_create(actor=demo.enterprise, **proposal_values(
        demo, milestones=rows, total_amount=Decimal("5000000.00"), equipment_amount=Decimal("2500000.00")))
    with pytest.raises(DomainError) as exc:
        services.project_submit(project=project, actor=demo.enterprise)
    assert exc.value.rule == "R2"
    assert exc.value.rule == "R2" and any("¥2,500,000.00" in m for m in exc.value.fields["total_amount"])
    project = Project.objects.get(pk=project.pk)
    assert project.state == ProjectState.DRAFT


def test_worked_example_2_deposit_one_fen_short_refused_under_r5(demo):
    # domain.md worked example 2: tranche 1 = 1,200,000 → minimum deposit 120,000.00; 119,999.99 is refused.
    rows = milestone_rows(amounts=("1200000.00", "1800000.00", "1000000.00"),
                          deposits=("119999.99", "180000.00", "100000.00"))
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo, milestones=rows))
    with pytest.raises(DomainError) as exc:
        services.project_submit(project=project, actor=demo.enterprise)
    assert exc.value.rule == "R5"
    assert list(exc.value.fields) == ["milestones.1.deposit_amount"]
    assert "¥120,000.00" in exc.value.fields["milestones.1.deposit_amount"][0]


def test_deposit_compared_exactly_without_rounding_r5(demo):
    # 10 % of 1,000,000.05 is 100,000.005: 100,000.00 is short, even though it rounds to the fen.
    rows = milestone_rows(amounts=("1000000.05", "2000000.00", "1999999.95"),
                          deposits=("100000.00", "200000.00", "200000.00"))
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo, milestones=rows))
    with pytest.raises(DomainError) as exc:
        services.project_submit(project=project, actor=demo.enterprise)
    assert set(exc.value.fields) == {"milestones.1.deposit_amount"}
    assert "100,000.005" in exc.value.fields["milestones.1.deposit_amount"][0]


def test_submit_collects_every_rule_broken_at_once_i9_r6_r7(demo):
    rows = milestone_rows()
    rows[1]["due_date"] = rows[1]["start_date"].replace(year=rows[1]["start_date"].year + 1, day=2)  # > 12 months
    rows[2]["start_date"] = rows[1]["start_date"]  # overlaps milestone 2
    values = proposal_values(demo, milestones=rows, budget=Decimal("1000000.00"))
    values["total_amount"] += Decimal("0.01")  # tranches no longer add up (I9)
    values["end_date"] = rows[1]["due_date"] if rows[1]["due_date"] > rows[2]["due_date"] else rows[2]["due_date"]
    project = services.project_create(actor=demo.enterprise, **values)
    with pytest.raises(DomainError) as exc:
        services.project_submit(project=project, actor=demo.enterprise)
    messages = [m for msgs in exc.value.fields.values() for m in msgs]
    assert "budget" in exc.value.fields and len(messages) >= 3  # every rule broken, each in words
    assert not any(m.split("：")[0] in {"I9", "R6", "R7"} for m in messages)
    assert "milestones.2.due_date" in exc.value.fields  # longer than 12 months
    assert "milestones.3.start_date" in exc.value.fields  # not in sequence


def test_draft_refuses_more_than_two_decimals_and_negative_amounts_i4(demo):
    rows = milestone_rows()
    rows[0]["amount"] = Decimal("2000000.001")
    with pytest.raises(DomainError) as exc:
        services.project_create(actor=demo.enterprise, **proposal_values(demo, milestones=rows,
                                                                         budget=Decimal("-1")))
    assert "milestones.1.amount" in exc.value.fields and "budget" in exc.value.fields
    assert Project.objects.count() == 0


def test_blacklisted_enterprise_cannot_submit_r17(demo):
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo))
    organization_blacklist(organization=demo.ent1, actor=demo.reviewer, reason="虚报经费", evidence=pdf_file("证据.pdf"))
    with pytest.raises(DomainError) as exc:
        services.project_submit(project=project, actor=demo.enterprise)
    assert "黑名单" in exc.value.fields["enterprise"][0] and exc.value.rule == "R17"


def test_full_path_to_approval_posts_advance_and_numbers_notice_i2(demo, ledger_ok):
    before = pool_summary()
    project = project_at(demo, "approved")
    assert project.state == ProjectState.APPROVED
    assert project.notice_number == f"萧科安〔{project.notice_year}〕1号"
    assert account_balance(accounts.pool_advanced(project.pk)) == Decimal("2000000.00")
    after = pool_summary()
    assert after.available == before.available - Decimal("2000000.00")
    assert after.advanced == before.advanced + Decimal("2000000.00")
    entry = JournalEntry.objects.get(operation__purpose="project_advance")
    assert {(p.account.code, p.amount) for p in entry.postings.all()} == {
        (accounts.POOL_AVAILABLE, Decimal("-2000000.00")), (accounts.pool_advanced(project.pk), Decimal("2000000.00"))}
    actions = list(AuditEvent.objects.filter(object_id=str(project.pk), content_type__model="project")
                   .exclude(from_state="").values_list("action", "from_state", "to_state"))
    assert actions == [("submit", "draft", "submitted"), ("platform_sign", "submitted", "signed"),
                       ("accept", "signed", "accepted"), ("start_review", "accepted", "under_review"),
                       ("approve", "under_review", "approved")]
    assert Notification.objects.filter(user=demo.enterprise, verb="project_approved").exists()


def test_notice_numbers_follow_each_other(demo, ledger_ok):
    first = project_at(demo, "approved")
    second = project_at(demo, "approved", title="第二个项目")
    assert second.notice_seq == first.notice_seq + 1
    assert second.notice_number == f"萧科安〔{second.notice_year}〕{second.notice_seq}号"


def test_approve_needs_required_reviews_r13(demo, ledger_ok):
    project = project_at(demo, "under_review")
    with pytest.raises(DomainError) as exc:
        services.project_approve(project=project, actor=demo.reviewer, reason="专家评审通过")
    assert exc.value.rule == "R13"


@pytest.mark.parametrize("reason", ["", "   "])
def test_approve_needs_a_reason_r13_and_changes_nothing_without_one(demo, reason):
    project = project_at(demo, "reviewed")
    audits, entries = AuditEvent.objects.count(), JournalEntry.objects.count()
    with pytest.raises(DomainError) as exc:
        services.project_approve(project=project, actor=demo.reviewer, reason=reason)
    assert exc.value.code == "reason_required" and exc.value.rule == "R13" and "R13" not in exc.value.detail
    assert "reason" in exc.value.fields
    project = Project.objects.get(pk=project.pk)
    assert project.state == ProjectState.UNDER_REVIEW and project.notice_number is None
    assert AuditEvent.objects.count() == audits and JournalEntry.objects.count() == entries


def test_approve_revalidates_blacklist_r17(demo, ledger_ok):
    project = project_at(demo, "reviewed")
    organization_blacklist(organization=demo.ent1, actor=demo.reviewer, reason="失信", evidence=pdf_file("证据.pdf"))
    with pytest.raises(DomainError) as exc:
        services.project_approve(project=project, actor=demo.reviewer, reason="专家评审通过")
    assert exc.value.rule == "R17"


def test_experts_drawn_with_recusal_never_party_staff_or_conflicted(demo):
    # expert1 works for the platform; expert2 declared a conflict with the enterprise: neither may be drawn.
    demo.expert1.organization = demo.plat1
    demo.expert1.save()
    ConflictDeclaration.objects.create(expert=demo.expert2, organization=demo.ent1, reason="曾任顾问")
    extra = make_user("expert5", demo.experts, "expert")
    project = project_at(demo, "under_review")
    drawn = set(project.assignments.values_list("expert__username", flat=True))
    assert drawn == {"expert3", "expert4", extra.username}


def test_conflict_declaration_withdraws_and_draws_replacement(demo):
    project = project_at(demo, "under_review")
    first = project.assignments.first()
    replacement = services.review_declare_conflict(project=project, expert=first.expert, reason="亲属任职")
    first.refresh_from_db()
    assert first.status == ExpertAssignment.Status.WITHDRAWN
    assert replacement is not None and replacement.expert_id != first.expert_id
    assert ConflictDeclaration.objects.filter(expert=first.expert, organization=demo.ent1).exists()
    assert project.assignments.filter(status=ExpertAssignment.Status.ASSIGNED).count() == 3


def test_review_scores_must_be_0_to_100_and_mean_is_kept(demo):
    project = project_at(demo, "under_review")
    a = project.assignments.first()
    with pytest.raises(DomainError) as exc:
        services.review_submit(project=project, expert=a.expert, feasibility=101, terms=50, cost=50, opinion="x")
    assert exc.value.rule == "R13" and "feasibility" in exc.value.fields
    score_all(project, scores=(70, 80, 93))
    project = Project.objects.get(pk=project.pk)
    assert project.mean_score == Decimal("81.00")


def test_platform_cannot_accept_and_reviewer_cannot_sign(demo):
    project = project_at(demo, "submitted")
    with pytest.raises(PermissionDeniedError):
        services.project_platform_sign(project=project, actor=demo.reviewer)
    with pytest.raises(PermissionDeniedError):
        services.project_platform_sign(project=project, actor=demo.platform2)  # not the addressed platform
    services.project_platform_sign(project=project, actor=demo.platform)
    with pytest.raises(PermissionDeniedError):
        services.project_accept(project=project, actor=demo.platform)


def test_nobody_approves_own_organisations_project(demo, ledger_ok):
    project = project_at(demo, "reviewed")
    insider = make_user("insider", demo.plat1, "reviewer")
    with pytest.raises(PermissionDeniedError) as exc:
        services.project_approve(project=project, actor=insider, reason="专家评审通过")
    assert "回避" in exc.value.detail


def test_transition_from_wrong_state_is_409(demo):
    project = project_at(demo, "submitted")
    with pytest.raises(TransitionNotAllowed):
        services.project_accept(project=project, actor=demo.reviewer)


def test_decline_and_return_for_changes_go_back_to_draft_with_reason(demo):
    project = project_at(demo, "submitted")
    with pytest.raises(DomainError):
        services.project_platform_decline(project=project, actor=demo.platform, reason=" ")
    services.project_platform_decline(project=project, actor=demo.platform, reason="研究方向不匹配")
    project = Project.objects.get(pk=project.pk)
    assert project.state == ProjectState.DRAFT and project.state_reason == "研究方向不匹配"
    project = project_at(demo, "accepted")
    services.project_return_for_changes(project=project, actor=demo.reviewer, reason="补充经费测算")
    project = Project.objects.get(pk=project.pk)
    assert project.state == ProjectState.DRAFT


def test_submit_requires_plan_and_agreement_r12(demo):
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo, documents=None))
    with pytest.raises(DomainError) as exc:
        services.project_submit(project=project, actor=demo.enterprise)
    assert (exc.value.rule, exc.value.code, sorted(exc.value.fields)) == ("R12", "attachments_missing",
                                                                          ["agreement", "plan"])
    assert Project.objects.get(pk=project.pk).state == ProjectState.DRAFT


def test_pool_short_waitlists_then_top_up_approves_in_rank_order(demo, ledger_ok):
    # Spend the pool down to 1,000,000 so a B of 2,000,000 no longer fits (I2).
    big = project_at(demo, "approved", budget=Decimal("99000000.00"))
    assert pool_summary().available == Decimal("1000000.00")
    low = project_at(demo, "reviewed", title="低分项目", scores=(60, 60, 60))
    high = project_at(demo, "reviewed", title="高分项目", scores=(90, 90, 90))
    for p in (low, high):
        result = services.project_approve(project=p, actor=demo.reviewer, reason="专家评审通过")
        assert result.state == ProjectState.WAITLISTED
        assert "低于项目预算 B" in result.state_reason
        assert result.notice_number is None
    assert list(waitlist_ranked()) == [high, low]
    assert account_balance(accounts.pool_advanced(low.pk)) == 0
    with pytest.raises(DomainError) as exc:  # still short
        services.project_approve(project=high, actor=demo.reviewer, reason="专家评审通过")
    assert exc.value.rule == "I2"
    pool_top_up(amount=Decimal("5000000.00"), decided_on=big.start_date, actor=demo.poolmanager,
                idempotency_key="test:topup")
    with pytest.raises(DomainError) as exc:  # competitive selection: from the top (I14: the higher one fits)
        services.project_approve(project=low, actor=demo.reviewer, reason="专家评审通过")
    assert (exc.value.rule, exc.value.code) == ("I14", "not_top_of_waitlist")
    high = services.project_approve(project=high, actor=demo.reviewer, reason="专家评审通过")
    low = services.project_approve(project=low, actor=demo.reviewer, reason="专家评审通过")
    assert (high.state, low.state) == (ProjectState.APPROVED, ProjectState.APPROVED)
    assert low.notice_seq == high.notice_seq + 1 == big.notice_seq + 2
    summary = pool_summary()
    assert summary.available == Decimal("2000000.00")
    assert summary.advanced == Decimal("103000000.00")


def test_top_up_tells_the_reviewers_when_projects_wait_for_the_pool_i2(demo, ledger_ok):
    pool_top_up(amount=Decimal("1000000.00"), decided_on=date(2025, 5, 1), actor=demo.poolmanager,
                idempotency_key="test:topup:none-waiting")
    assert not Notification.objects.filter(verb="pool_topped_up").exists()  # nobody waits: nothing to say
    big = project_at(demo, "approved", budget=Decimal("100000000.00"))
    waiting = project_at(demo, "reviewed", title="排队项目")
    approved = services.project_approve(project=waiting, actor=demo.reviewer, reason="评审通过，排队待资")
    assert approved.state == ProjectState.WAITLISTED
    pool_top_up(amount=Decimal("5000000.00"), decided_on=big.start_date, actor=demo.poolmanager,
                idempotency_key="test:topup:waiting")
    notified = Notification.objects.filter(verb="pool_topped_up")
    assert set(notified.values_list("user_id", flat=True)) == set(
        users_with_role(Role.REVIEWER).values_list("pk", flat=True))
    assert not notified.filter(user__in=[demo.poolmanager, demo.enterprise, demo.platform]).exists()
    notice = notified.get(user=demo.reviewer)
    assert "1 个" in notice.text and "I2" not in notice.text and notice.url == "/projects/queue/"


def test_each_step_notifies_whoever_acts_next_in_app_and_by_mail(demo, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        project = project_at(demo, "submitted")
    assert Notification.objects.filter(user=demo.platform, verb="project_submitted").exists()
    assert any(demo.platform.email in m.to for m in mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.project_platform_sign(project=project, actor=demo.platform)
    assert Notification.objects.filter(user=demo.reviewer, verb="project_to_accept").exists()
    services.project_accept(project=project, actor=demo.reviewer)
    services.project_start_review(project=project, actor=demo.reviewer)
    drawn = set(project.assignments.values_list("expert_id", flat=True))
    assert set(Notification.objects.filter(verb="review_assigned").values_list("user_id", flat=True)) == drawn


def test_attachment_over_20_mb_or_not_pdf_or_image_refused_r12(demo, settings):
    from core.files import MAX_BYTES

    project = project_at(demo, "draft")
    big = pdf_file()
    big.size = MAX_BYTES + 1
    with pytest.raises(DomainError) as exc:
        services.attachment_add(project=project, actor=demo.enterprise, kind="plan", file=big)
    assert exc.value.code == "file_too_large"
    with pytest.raises(DomainError) as exc:
        services.attachment_add(project=project, actor=demo.enterprise, kind="plan",
                                file=pdf_file("ok.pdf", content=b"<html><script>alert(1)</script></html>"))
    assert exc.value.code == "file_type"
    with pytest.raises(PermissionDeniedError):
        services.attachment_add(project=project, actor=demo.enterprise2, kind="plan", file=pdf_file())
    stored = services.attachment_add(project=project, actor=demo.enterprise, kind="plan", file=pdf_file())
    from pathlib import Path

    path = Path(stored.file.path)
    assert path.is_relative_to(Path(settings.MEDIA_ROOT)) and not path.is_relative_to(Path(settings.STATIC_ROOT))
    assert path.name != "合作方案.pdf"  # stored under a random name; the original name is kept in the row
    assert stored.content_type == "application/pdf" and len(stored.sha256) == 64


def test_newcomer_joins_the_waitlist_instead_of_jumping_it_r13(demo, ledger_ok):
    waiting = project_at(demo, "waitlisted", title="排队中", scores=(70, 70, 70))
    newcomer = project_at(demo, "reviewed", title="新来的高分项目", scores=(95, 95, 95))
    result = services.project_approve(project=newcomer, actor=demo.reviewer, reason="专家评审通过")
    assert result.state == ProjectState.WAITLISTED and "择优排队" in result.state_reason
    assert list(waitlist_ranked()) == [newcomer, waiting]
    for p in (newcomer, waiting):
        assert services.project_approve(project=p, actor=demo.reviewer, reason="专家评审通过").state == ProjectState.APPROVED
