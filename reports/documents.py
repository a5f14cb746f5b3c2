"""PDF documents (WeasyPrint) and the dossier export (zip).

Every document is an HTML page of ``templates/reports/`` with the print CSS of
``static/reports/print.css`` inlined, so the HTML is self-contained and can be
rendered in a separate process. Small documents are rendered in one pass and
number their pages with the CSS counters ``page`` and ``pages``.

The annual audit report can cover a thousand projects. It is rendered in
parts — a front part (totals, pool, charts), one part per chunk of N projects,
a back part (subsidies, exceptions, opinion) — each part in a fresh process
(``pdfworker.py``) so that the worker's memory stays bounded. The parts are
rendered without the page footer, merged with pypdf, and the footer
(document number, date, 第 X 页 共 Y 页) is then stamped on every page from
a one-pass overlay of exactly as many blank pages, numbered by the same CSS
counters: the numbering is continuous and the total is right however many
parts there were.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string
from django.utils import timezone

from core.exceptions import DomainError
from core.money import ZERO, format_cny
from escrow.selectors import account_names as escrow_account_names

from . import selectors
from .annual import (  # noqa: F401  (the annual report's steps, read from here by the worker's tests and the benchmark)
    annual_audit,
    annual_audit_bodies,
    annual_audit_in_parts,
    annual_audit_plan,
    annual_audit_single_html,
)
from .capitals import amount_in_capitals
from .choices import ReportKind
from .rendering import (  # noqa: F401  (the primitives, read from here by tests and the benchmark)
    Output,
    Progress,
    _noop,
    page_context,
    render_in_child,
    render_parts,
    write_pdf,
)
from .rows import loan_rows, plain, subsidy_rows

# -- documents ------------------------------------------------------------


def _milestone_rows(milestones) -> list[dict]:
    return [{"obj": m, "amount": format_cny(m.amount), "deposit": format_cny(m.deposit_amount),
             "paid_in": format_cny(m.paid_in), "released": format_cny(m.released_amount),
             "forfeited": format_cny(m.forfeited_amount), "refunded": format_cny(m.refunded_amount),
             "custody": format_cny(getattr(m, "custody_balance", None) or ZERO),
             "custody_plain": plain(getattr(m, "custody_balance", None) or ZERO)}
            for m in milestones]


def _project_money(project) -> dict:
    milestones = list(project.milestones.all())
    return {"total": format_cny(project.total_amount), "equipment": format_cny(project.equipment_amount),
            "eligible": format_cny(project.eligible_amount),
            "eligible_capitals": amount_in_capitals(project.eligible_amount),
            "budget": format_cny(project.budget),
            "milestones_total": format_cny(sum((m.amount for m in milestones), ZERO)),
            "deposits_total": format_cny(sum((m.deposit_amount for m in milestones), ZERO))}


def approval_notice(project_id: int, *, issued_on: date | None = None) -> Output:
    project = selectors.project_detail(project_id)
    if not project.notice_number:
        raise DomainError("项目尚未立项，没有准予立项通知书", code="not_approved", rule="R13")
    if issued_on is None:
        issued_on = timezone.localdate(project.approved_at) if project.approved_at else timezone.localdate()
    title = "准予立项通知书"
    milestones = list(project.milestones.all())
    ctx = {**page_context(title=title, number=project.notice_number, issued_on=issued_on),
           "project": project, "m": _project_money(project), "milestones": _milestone_rows(milestones),
           "first_reference": milestones[0].payment_reference if milestones else "",
           "deposit_ratio": f"{(project.scheme.min_deposit_ratio * 100).normalize():f}%"}
    pdf, pages = write_pdf(render_to_string("reports/approval_notice.html", ctx))
    return Output(pdf, f"{title}-{project.notice_number}.pdf", title, project.notice_number, pages)


def action_label(action: str, labels: dict) -> str:
    """An audit row's action in words; a code without a label is never printed as such."""
    if action in labels:
        return str(labels[action])
    if action.isascii():
        return "其他办理事项"
    return action  # recorded already in words


def state_label(state: str, labels: dict) -> str:
    """A state in words; a code without a label is never printed as such."""
    return str(labels[state]) if state in labels else "" if state.isascii() else state


def _history_rows(project) -> list[dict]:
    from projects.choices import MilestoneState, ProjectState
    from projects.models import Project
    from projects.registry import history_labels

    labels = {**dict(ProjectState.choices), **dict(MilestoneState.choices)}
    action_labels = history_labels()
    project_type = ContentType.objects.get_for_model(Project).pk
    milestones = {str(m.pk): m for m in project.milestones.all()}
    rows = []
    for e in selectors.project_history(project):
        target = "项目" if e.content_type_id == project_type else (
            f"里程碑 {milestones[e.object_id].seq}" if e.object_id in milestones else "里程碑")
        rows.append({"at": e.at, "target_label": target, "action": action_label(e.action, action_labels),
                     "from_label": state_label(e.from_state, labels),
                     "to_label": state_label(e.to_state, labels),
                     "actor_name": (e.actor.get_full_name() or e.actor.username) if e.actor else "系统",
                     "reason": e.reason})
    return rows


def dossier_context(project_id: int, *, number: str, issued_on: date) -> dict:
    project = selectors.project_detail(project_id)
    postings = selectors.project_postings(project)
    names = escrow_account_names((p.account.code for p in postings), project_titles={project.pk: project.title})
    for p in postings:
        p.amount_text = format_cny(p.amount)
        p.account_name = names[p.account.code]
    return {**page_context(title="项目档案", number=number, issued_on=issued_on), "project": project,
            "m": _project_money(project), "milestones": _milestone_rows(project.milestones.all()),
            "reviews": list(project.assignments.all()), "history": _history_rows(project), "postings": postings,
            "attachments": list(project.attachments.all()), "loans": loan_rows([project.pk])}


def project_dossier(project_id: int, *, number: str, issued_on: date) -> Output:
    ctx = dossier_context(project_id, number=number, issued_on=issued_on)
    pdf, pages = write_pdf(render_to_string("reports/project_dossier.html", ctx))
    return Output(pdf, f"项目档案-{ctx['project'].pk}.pdf", "项目档案", number, pages)


def custody_statement(project_id: int, *, number: str, issued_on: date) -> Output:
    project = selectors.project_detail(project_id)
    lines, balances = selectors.custody_statement(project)
    names = escrow_account_names(balances, project_titles={project.pk: project.title})
    rows, credits, debits = [], ZERO, ZERO
    for line in lines:
        credits += max(line.amount, ZERO)
        debits += max(-line.amount, ZERO)
        rows.append({"obj": line, "account_name": names.get(line.account, line.account),
                     "credit": format_cny(line.amount) if line.amount > 0 else "",
                     "debit": format_cny(-line.amount) if line.amount < 0 else "",
                     "balance": format_cny(line.balance), "total": format_cny(line.total_balance)})
    title = "安心宝监管账户对账单"
    ctx = {**page_context(title=title, number=number, issued_on=issued_on), "project": project, "lines": rows,
           "balances": [(names[code], format_cny(bal)) for code, bal in balances.items()],
           "total_balance": format_cny(sum(balances.values(), ZERO)),
           "credits": format_cny(credits), "debits": format_cny(debits)}
    pdf, pages = write_pdf(render_to_string("reports/custody_statement.html", ctx))
    return Output(pdf, f"{title}-{project.pk}.pdf", title, number, pages)


def subsidy_decision_document(*, enterprise, year: int, figures: selectors.SubsidyFigures, number: str,
                              issued_on: date) -> Output:
    """The decision for one enterprise and year, from the subsidies' computed figures."""
    title = "科创安心宝资助决定书"
    grant_total, premium_total = figures.grant_total, figures.premium_total
    total = grant_total + premium_total
    ctx = {**page_context(title=title, number=number, issued_on=issued_on), "enterprise": enterprise, "year": year,
           "grants": subsidy_rows(figures.grants), "premiums": subsidy_rows(figures.premiums),
           "grant_total": format_cny(grant_total), "grant_capitals": amount_in_capitals(grant_total),
           "premium_total": format_cny(premium_total), "premium_capitals": amount_in_capitals(premium_total),
           "total": format_cny(total), "total_capitals": amount_in_capitals(total)}
    pdf, pages = write_pdf(render_to_string("reports/subsidy_decision.html", ctx))
    return Output(pdf, f"{title}-{year}-{enterprise.pk}.pdf", title, number, pages)


def subsidy_decision(enterprise_id: int, year: int, *, number: str, issued_on: date) -> Output:
    from core.models import Organization

    enterprise = Organization.objects.get(pk=enterprise_id)
    figures = selectors.subsidy_figures(year=year, enterprise_id=enterprise_id, decided_only=True)
    if not (figures.grants or figures.premiums):
        raise DomainError(f"{enterprise.name} {year} 年度尚无经审定的资助或保费补助",
                          code="subsidy_not_approved", rule="R11")
    return subsidy_decision_document(enterprise=enterprise, year=year, figures=figures, number=number,
                                     issued_on=issued_on)


# -- dossier export (zip) -------------------------------------------------


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: opens correctly in spreadsheet programs


def dossier_export(project_id: int, *, number: str, issued_on: date, progress: Progress = _noop) -> Output:
    """One zip: the dossier PDF, every attachment, the reviews and the ledger postings as CSV."""
    dossier = project_dossier(project_id, number=number, issued_on=issued_on)
    progress(60)
    project = selectors.project_detail(project_id)
    reviews = [["expert", "milestone", "status", "feasibility", "terms", "cost", "score", "opinion",
                "conflict_reason", "assigned_at", "scored_at"]]
    for a in project.assignments.all():
        reviews.append([a.expert.username, a.milestone.seq if a.milestone else "", a.status, a.feasibility, a.terms,
                        a.cost, a.score, a.opinion, a.conflict_reason, a.assigned_at.isoformat(),
                        a.scored_at.isoformat() if a.scored_at else ""])
    postings = [["entry", "created_at", "memo", "account", "amount", "actor"]]
    for p in selectors.project_postings(project):
        postings.append([p.entry_id, p.entry.created_at.isoformat(), p.entry.memo, p.account.code, f"{p.amount:.2f}",
                         p.entry.actor.username if p.entry.actor else ""])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(dossier.filename, dossier.content)
        zf.writestr("reviews.csv", _csv(reviews))
        zf.writestr("postings.csv", _csv(postings))
        used: set[str] = set()
        for i, att in enumerate(project.attachments.all(), start=1):
            name = f"attachments/{i:03d}-{Path(att.original_name).name or 'file'}"
            while name in used:
                name += "_"
            used.add(name)
            with att.file.open("rb") as fh:
                zf.writestr(name, fh.read())
    progress(95)
    return Output(buffer.getvalue(), f"项目档案-{project.pk}.zip", "项目档案导出", number, dossier.pages,
                  content_type="application/zip")


def build(kind: str, params: dict, *, number: str, issued_on: date, progress: Progress = _noop) -> Output:
    if kind == ReportKind.APPROVAL_NOTICE:
        return approval_notice(params["project"])
    if kind == ReportKind.PROJECT_DOSSIER:
        return project_dossier(params["project"], number=number, issued_on=issued_on)
    if kind == ReportKind.CUSTODY_STATEMENT:
        return custody_statement(params["project"], number=number, issued_on=issued_on)
    if kind == ReportKind.ANNUAL_AUDIT:
        return annual_audit(params["year"], number=number, issued_on=issued_on, progress=progress)
    if kind == ReportKind.SUBSIDY_DECISION:
        return subsidy_decision(params["enterprise"], params["year"], number=number, issued_on=issued_on)
    if kind == ReportKind.DOSSIER_EXPORT:
        return dossier_export(params["project"], number=number, issued_on=issued_on, progress=progress)
    raise ValueError(f"unknown report kind {kind!r}")
