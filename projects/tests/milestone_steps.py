"""Steps shared by the milestone tests: each calls one service, as a page or the API would."""
from __future__ import annotations

from decimal import Decimal
from itertools import count

from django.core.files.uploadedfile import SimpleUploadedFile

from escrow.models import MoneyOperation
from escrow.services import operation_confirm
from projects import milestones as ms
from projects.models import Milestone

_refs = count(1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf(name: str = "回单.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def evidence(name: str = "测试报告.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def fresh(m: Milestone) -> Milestone:
    return Milestone.objects.get(pk=m.pk)


def bank_ref() -> str:
    return f"HZRCB2025{next(_refs):06d}"


def pay_deposit(demo, m: Milestone, amount) -> MoneyOperation:
    ms.milestone_upload_receipt(milestone=m, actor=demo.enterprise, file=pdf())
    return ms.milestone_confirm_deposit(milestone=m, actor=demo.custodian, amount=Decimal(amount), bank_ref=bank_ref())


def report(demo, m: Milestone) -> Milestone:
    m = fresh(m)
    notes = {t: f"已完成：{t}" for t in ms.target_list(m)}
    return ms.milestone_report_completion(milestone=m, actor=demo.platform, description="按计划完成",
                                          target_notes=notes, files=[evidence()])


def reported_milestone(demo, tranche: tuple[str, str] = ("1200000.00", "120000.00")) -> Milestone:
    """A one-milestone project, escrow open, deposit paid and completion reported: the bureau decides next."""
    from projects.tests.milestone_factory import approved_project

    p = approved_project(demo, tranches=[tranche])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, tranche[1])
    report(demo, m)
    return fresh(m)


def pay_balance(demo, m: Milestone) -> MoneyOperation | None:
    m = fresh(m)
    due = m.amount - m.paid_in
    if due == 0:
        return None
    ms.milestone_upload_receipt(milestone=m, actor=demo.enterprise, file=pdf())
    return ms.milestone_confirm_balance(milestone=m, actor=demo.custodian, amount=due, bank_ref=bank_ref())


def release(demo, m: Milestone) -> MoneyOperation:
    """One custodian orders; above the threshold the second confirms (maker–checker)."""
    _m, op = ms.milestone_release(milestone=fresh(m), actor=demo.custodian)
    if op.state == "awaiting_confirmation":
        op = operation_confirm(operation=op, actor=demo.custodian2)
    return MoneyOperation.objects.get(pk=op.pk)


def forfeit(demo, m: Milestone) -> MoneyOperation:
    _m, op = ms.milestone_forfeit(milestone=fresh(m), actor=demo.custodian)
    if op.state == "awaiting_confirmation":
        op = operation_confirm(operation=op, actor=demo.custodian2)
    return MoneyOperation.objects.get(pk=op.pk)


def full_cycle(demo, m: Milestone, deposit) -> None:
    """deposit_due → released."""
    pay_deposit(demo, fresh(m), deposit)
    report(demo, m)
    ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="达到约定目标")
    pay_balance(demo, m)
    release(demo, m)


def met_by_a_custodian_reviewer(demo) -> Milestone:
    """A one-milestone project paid in full and found met by a reviewer who is also a custodian operator (the
    decider a separation of duties keeps away from the release)."""
    from django.contrib.auth.models import Group

    from projects.tests.milestone_factory import approved_project

    demo.reviewer.groups.add(Group.objects.get_or_create(name="custodian")[0])
    p = approved_project(demo, tranches=[("800000.00", "800000.00")], budget="800000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "800000.00")
    report(demo, m)
    ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="ok")
    return fresh(m)
