"""Milestone states, step by step (shared by the milestone tests): each calls one service, as a page or the API would."""
from __future__ import annotations

import threading
from decimal import Decimal
from itertools import count

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from core.exceptions import DomainError
from escrow.models import MoneyOperation
from escrow.services import operation_confirm
from projects import milestones as ms
from projects.models import Milestone
from projects.tests.factories import pdf_file, tranche_project

_refs = count(1)


def pdf(name: str = "回单.pdf") -> SimpleUploadedFile:
    return pdf_file(name)


def evidence(name: str = "测试报告.pdf") -> SimpleUploadedFile:
    return pdf_file(name)


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
    p = tranche_project(demo, tranches=[tranche])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, tranche[1])
    report(demo, m)
    return fresh(m)


def one_milestone(demo, amount: str, deposit: str, *, title: str | None = None) -> Milestone:
    """A one-milestone project (B = T) with its deposit channel open: the deposit of ``deposit`` is due."""
    p = tranche_project(demo, tranches=[(amount, deposit)], budget=amount, **({"title": title} if title else {}))
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    return p.milestones.get()


def releasable_milestone(demo, amount: str = "800000.00", *, deposit: str | None = None, title: str | None = None,
                         reason: str = "ok") -> Milestone:
    """A one-milestone project paid in full at once, completion reported with evidence and found met: the
    custodian releases next."""
    m = one_milestone(demo, amount, deposit or amount, title=title)
    pay_deposit(demo, m, amount)
    report(demo, m)
    ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason=reason)
    return fresh(m)


def race(*calls) -> list:
    """Run ``calls`` at the same moment in threads of their own (PostgreSQL tests): each one's ("ok", result),
    ("error", DomainError) or ("crash", any other exception)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = ("ok", fn())
        except DomainError as exc:
            results[i] = ("error", exc)
        except Exception as exc:  # noqa: BLE001  (reported by the caller's assertion)
            results[i] = ("crash", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def pay_balance(demo, m: Milestone) -> MoneyOperation | None:
    m = fresh(m)
    due = m.amount - m.paid_in
    if due == 0:
        return None
    ms.milestone_upload_receipt(milestone=m, actor=demo.enterprise, file=pdf())
    return ms.milestone_confirm_balance(milestone=m, actor=demo.custodian, amount=due, bank_ref=bank_ref())


def confirmed(demo, op: MoneyOperation | None) -> MoneyOperation | None:
    """One custodian ordered ``op``; above the threshold the second confirms it (maker–checker)."""
    if op is None:
        return None
    if op.state == "awaiting_confirmation":
        op = operation_confirm(operation=op, actor=demo.custodian2)
    return MoneyOperation.objects.get(pk=op.pk)


def release(demo, m: Milestone) -> MoneyOperation:
    _m, op = ms.milestone_release(milestone=fresh(m), actor=demo.custodian)
    return confirmed(demo, op)


def forfeit(demo, m: Milestone) -> MoneyOperation:
    _m, op = ms.milestone_forfeit(milestone=fresh(m), actor=demo.custodian)
    return confirmed(demo, op)


def full_cycle(demo, m: Milestone, deposit) -> None:
    """deposit_due → released (money above the threshold confirmed by the second custodian)."""
    confirmed(demo, pay_deposit(demo, fresh(m), deposit))
    report(demo, m)
    ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="达到约定目标")
    confirmed(demo, pay_balance(demo, m))
    release(demo, m)


def met_by_a_custodian_reviewer(demo) -> Milestone:
    """A one-milestone project paid in full and found met by a reviewer who is also a custodian operator (the
    decider a separation of duties keeps away from the release)."""
    from django.contrib.auth.models import Group

    demo.reviewer.groups.add(Group.objects.get_or_create(name="custodian")[0])
    p = tranche_project(demo, tranches=[("800000.00", "800000.00")], budget="800000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "800000.00")
    report(demo, m)
    ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="ok")
    return fresh(m)
