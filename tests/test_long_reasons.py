"""A person's reason has no length limit that breaks a step: every action that takes a reason (or an opinion, a
summary) goes through with 2,000 characters on PostgreSQL — where a too-short column answers ``DataError`` — and
keeps the reason whole in its audit row, on the object and in the notice that quotes it.

Milestone actions are called through ``projects.milestones``.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from core.models import AuditEvent, BlacklistEntry, Notification
from core.services import organization_blacklist, organization_lift_blacklist
from dashboards.services import project_publish_case, project_withdraw_case
from projects import milestones as ms
from projects import services
from projects.loans import services as loans
from projects.models import ExpertAssignment, Project
from projects.tests.factories import approved_project as filed_and_approved
from projects.tests.factories import pdf_file, project_at, tranche_project
from projects.tests.steps import forfeit, fresh, pay_deposit, report
from subsidies.models import AnnualAudit
from subsidies.services import audit_opinion, audit_save

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LONG = ("企业未按合作协议约定完成关键技术指标，经专家复核确认样机性能不达标；" * 60)[:1999] + "。"
assert len(LONG) == 2000


def said(target, action: str) -> AuditEvent:
    """The audit row of ``action`` on ``target``, with the whole reason."""
    events = AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(type(target)),
                                       object_id=str(target.pk), action=action)
    event = events.latest("pk")
    assert event.reason == LONG, action
    return event


def quoted(verb: str) -> None:
    """The notice of ``verb`` quotes the reason whole, in its stored parameters and as read."""
    notice = Notification.objects.filter(verb=verb).latest("pk")
    assert LONG in notice.render() and LONG in notice.text, verb


# (state it starts in, service, who acts, audit action, notice verb); approval before queueing: while one
# project waits, a new approval joins the queue instead.
PROPOSAL_ACTIONS = [
    ("submitted", "project_platform_decline", "platform", "platform_decline", "project_declined"),
    ("reviewed", "project_return_for_changes", "reviewer", "return_for_changes", "project_returned"),
    ("reviewed", "project_approve", "reviewer", "approve", "project_approved"),
    ("reviewed", "project_queue", "reviewer", "queue", "project_waitlisted"),
    ("reviewed", "project_reject", "reviewer", "reject", "project_rejected"),
]


def test_proposal_actions_take_a_2000_character_reason(demo):
    for state, service, who, action, verb in PROPOSAL_ACTIONS:
        project = project_at(demo, state)
        getattr(services, service)(project=project, actor=getattr(demo, who), reason=LONG)
        said(project, action)
        assert Project.objects.get(pk=project.pk).state_reason == LONG, action
        if action != "approve":  # the approval's notice gives the notice number, not the reason
            quoted(verb)


def test_review_conflict_and_public_case_take_a_2000_character_reason(demo):
    project = project_at(demo, "under_review")
    assignment = ExpertAssignment.objects.filter(project=project, status="assigned").first()
    services.review_declare_conflict(project=project, expert=assignment.expert, reason=LONG)
    said(project, "review_conflict")
    assert ExpertAssignment.objects.get(pk=assignment.pk).conflict_reason == LONG

    case = filed_and_approved(demo)
    project_publish_case(project=case, actor=demo.reviewer, summary=LONG)
    said(case, "case_publish")
    assert Project.objects.get(pk=case.pk).public_summary == LONG
    project_withdraw_case(project=case, actor=demo.reviewer, reason=LONG)
    said(case, "case_withdraw")


def test_loan_actions_take_a_2000_character_reason(demo):
    project = filed_and_approved(demo)
    values = {"lender": "杭州银行萧山支行", "guarantor": "萧山区融资担保有限公司", "amount": "3000000",
              "rate": "3.45", "term_months": 24, "purpose": "样机试制"}
    loan = loans.loan_create(project=project, actor=demo.enterprise, **values)
    loans.loan_recommend(loan=loan, actor=demo.reviewer, reason=LONG)
    said(loan, "loan_recommend")
    loans.loan_grant(loan=loan, actor=demo.enterprise)
    loans.loan_default(loan=loan, actor=demo.reviewer, reason=LONG)
    said(loan, "loan_default")
    quoted("loan_defaulted")
    other = loans.loan_create(project=project, actor=demo.enterprise, **values)
    loans.loan_decline(loan=other, actor=demo.reviewer, reason=LONG)
    said(other, "loan_decline")


def test_milestone_decisions_take_a_2000_character_reason(demo):
    p = tranche_project(demo, tranches=[("1200000.00", "120000.00"), ("1800000.00", "180000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer, reason=LONG)
    said(p, "open_escrow")
    m1, m2 = p.milestones.order_by("seq")
    pay_deposit(demo, m1, "120000.00")
    report(demo, m1)
    ms.milestone_review_not_met(milestone=fresh(m1), actor=demo.reviewer, reason=LONG)
    said(m1, "review_not_met")
    assert fresh(m1).decision_reason == LONG
    forfeit(demo, m1)
    ms.project_continue(project=Project.objects.get(pk=p.pk), actor=demo.reviewer, reason=LONG)
    said(p, "continue")
    pay_deposit(demo, fresh(m2), "180000.00")
    report(demo, m2)
    ms.milestone_review_met(milestone=fresh(m2), actor=demo.reviewer, reason=LONG)
    said(m2, "review_met")
    m2 = fresh(m2)
    ms.milestones_mark_balance_overdue(today=m2.balance_due_date + timedelta(days=1))
    later = timezone.localdate() + timedelta(days=15)
    ms.milestone_extend(milestone=fresh(m2), actor=demo.reviewer, due_date=later, reason=LONG)
    said(m2, "extend")
    ms.milestones_mark_balance_overdue(today=later + timedelta(days=1))
    ms.milestone_declare_breach(milestone=fresh(m2), actor=demo.reviewer, reason=LONG, repaid_amount="0")
    said(m2, "declare_breach")
    assert fresh(m2).breach_reason == LONG
    forfeit(demo, m2)
    assert Project.objects.get(pk=p.pk).state == "terminated"


def test_milestone_overdue_extension_and_termination_take_a_2000_character_reason(demo):
    with time_machine.travel(date(2025, 4, 1), tick=False):
        p = tranche_project(demo, tranches=[("1200000.00", "120000.00"), ("1800000.00", "180000.00")],
                             start=date(2025, 4, 1), months=6)
        ms.project_open_escrow(project=p, actor=demo.reviewer)
        m = p.milestones.get(seq=1)
        pay_deposit(demo, m, "120000.00")
    with time_machine.travel(date(2025, 10, 1), tick=False):
        ms.milestones_mark_overdue(today=date(2025, 10, 1))
        ms.milestone_extend(milestone=fresh(m), actor=demo.reviewer, due_date=date(2026, 3, 1), reason=LONG)
        said(m, "extend")
    ms.milestones_mark_overdue(today=date(2026, 3, 2))
    ms.milestone_review_not_met(milestone=fresh(m), actor=demo.reviewer, reason=LONG)
    forfeit(demo, m)
    ms.project_terminate(project=Project.objects.get(pk=p.pk), actor=demo.reviewer, reason=LONG,
                         repaid_amount="1200000.00")
    said(p, "terminate")
    assert Project.objects.get(pk=p.pk).state_reason == LONG
    quoted("project_terminated")


def test_closing_a_project_takes_a_2000_character_reason(demo):
    p = tranche_project(demo, tranches=[("1200000.00", "1200000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "1200000.00")
    report(demo, m)
    ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason=LONG)
    from projects.tests.steps import release

    release(demo, m)
    ms.project_close(project=Project.objects.get(pk=p.pk), actor=demo.reviewer, reason=LONG)
    said(p, "close")


def test_subsidy_audit_and_opinion_take_a_2000_character_reason(demo):
    project = filed_and_approved(demo)
    audit = audit_save(actor=demo.auditor, project=project, year=2025, audited_input=Decimal("123.45"), reason=LONG,
                       expert_evaluation=LONG)
    said(audit, "audit_save")
    assert AnnualAudit.objects.get(pk=audit.pk).reason == LONG
    audit_opinion(actor=demo.enterprise, audit=audit, opinion=LONG)
    said(audit, "audit_opinion")
    assert AnnualAudit.objects.get(pk=audit.pk).opinion == LONG


def test_blacklisting_takes_a_2000_character_reason(demo):
    organization_blacklist(organization=demo.ent2, actor=demo.reviewer, reason=LONG, evidence=pdf_file("证据.pdf"))
    said(demo.ent2, "blacklist")
    organization_lift_blacklist(organization=demo.ent2, actor=demo.reviewer, reason=LONG)
    said(demo.ent2, "lift_blacklist")
    assert list(BlacklistEntry.objects.filter(organization=demo.ent2).values_list("reason", flat=True)) == [LONG] * 2
