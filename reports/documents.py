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
import json
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from core.exceptions import DomainError
from core.money import ZERO, format_cny
from escrow.selectors import account_names as escrow_account_names

from . import charts, selectors
from .capitals import amount_in_capitals
from .choices import ReportKind

WORKER = Path(__file__).with_name("pdfworker.py")
Progress = Callable[[int], None]


def _noop(_percent: int) -> None:
    pass


# -- rendering primitives -------------------------------------------------


def print_css() -> str:
    path = finders.find("reports/print.css")
    return Path(path).read_text(encoding="utf-8")


def css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def page_context(*, title: str, number: str, issued_on: date, part: bool = False) -> dict:
    doc_date = chinese_date(issued_on)
    return {"title": title, "number": number, "issued_on": issued_on, "doc_date": doc_date, "part": part,
            "print_css": print_css(), "footer_css": css_string(f"{number}　{doc_date}")}


def write_pdf(html: str) -> tuple[bytes, int]:
    """One-pass rendering in this process: the PDF and its number of pages."""
    from weasyprint import HTML

    document = HTML(string=html).render()
    return document.write_pdf(), len(document.pages)


@dataclass
class ChildResult:
    path: Path
    pages: int
    maxrss_kb: int
    seconds: float
    pid: int = 0


def render_in_child(html: str, workdir: Path, name: str) -> ChildResult:
    """Render ``html`` in a fresh Python process; its memory is returned to the system when it exits."""
    source = workdir / f"{name}.html"
    target = workdir / f"{name}.pdf"
    source.write_text(html, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-P", str(WORKER), str(source), str(target)], capture_output=True,
                          text=True, timeout=getattr(settings, "REPORTS_PART_TIMEOUT", 1800), check=False,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    source.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"PDF part {name} failed: {proc.stderr.strip()[-2000:]}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    return ChildResult(path=target, pages=info["pages"], maxrss_kb=info["maxrss_kb"], seconds=info["seconds"])


@dataclass
class PartsResult:
    pdf: bytes
    pages: int
    part_pages: list[int] = field(default_factory=list)
    peak_rss_kb: int = 0  # the largest rendering process
    parts_size: int = 0   # bytes of the separately rendered parts and the footer overlay, before merging
    workers: int = 1
    peak_total_rss_kb: int = 0  # the rendering processes' peaks added up: a bound on what they held at once
    part_pids: list[int] = field(default_factory=list)


class _Child:
    """A rendering process (reports/pdfworker.py --serve) that renders parts one after the other."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-P", str(WORKER), "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.jobs = 0
        self.maxrss_kb = 0

    def render(self, source: Path, target: Path) -> ChildResult:
        self.proc.stdin.write(f"{source}\t{target}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"PDF part {source.stem}: the rendering process ended: {self.proc.stderr.read()[-2000:]}")
        info = json.loads(line)
        if "error" in info:
            raise RuntimeError(f"PDF part {source.stem} failed: {info['error']}")
        self.jobs += 1
        self.maxrss_kb = max(self.maxrss_kb, info["maxrss_kb"])
        return ChildResult(path=target, pages=info["pages"], maxrss_kb=info["maxrss_kb"], seconds=info["seconds"],
                           pid=info["pid"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class _ChildPool:
    """One rendering process per worker thread, replaced after ``parts_per_child`` parts (bounded memory)."""

    def __init__(self, parts_per_child: int):
        self.parts_per_child = max(1, parts_per_child)
        self.local = threading.local()
        self.lock = threading.Lock()
        self.peaks: list[int] = []
        self.children: list[_Child] = []

    def render(self, source: Path, target: Path) -> ChildResult:
        child = getattr(self.local, "child", None)
        if child is None or child.jobs >= self.parts_per_child:
            if child is not None:
                self._retire(child)
            child = self.local.child = _Child()
            with self.lock:
                self.children.append(child)
        return child.render(source, target)

    def _retire(self, child: _Child) -> None:
        child.close()
        with self.lock:
            self.children.remove(child)
            self.peaks.append(child.maxrss_kb)

    def close(self) -> list[int]:
        """Stop every process; the peak of each process that ran, retired ones included."""
        with self.lock:
            children = list(self.children)
        for child in children:
            self._retire(child)
        return self.peaks


def overlay_html(*, pages: int, number: str, issued_on: date) -> str:
    ctx = page_context(title="", number=number, issued_on=issued_on)
    return render_to_string("reports/overlay.html", {**ctx, "pages": range(pages)})


def render_parts(parts: Iterator[str], *, number: str, issued_on: date, progress: Progress = _noop,
                 expected_parts: int = 1, workers: int | None = None) -> PartsResult:
    """Render the HTML parts in parallel, a process per core, merge them in order, stamp the footer on every page.

    The parts are produced (read from the database) in this thread while earlier ones render; at most two
    per worker wait on disk at a time, so memory stays bounded however long the report. Progress is
    reported as parts finish.
    """
    from pypdf import PdfReader, PdfWriter

    workers = max(1, workers or getattr(settings, "REPORTS_WORKERS", 0) or os.cpu_count() or 1)
    pool = _ChildPool(getattr(settings, "REPORTS_PARTS_PER_CHILD", 8))
    with tempfile.TemporaryDirectory(prefix="anxinbao-report-") as tmp:
        workdir = Path(tmp)
        results: dict[int, ChildResult] = {}
        done = 0

        def finished(future) -> None:
            nonlocal done
            i, result = future.result()
            results[i] = result
            done += 1
            progress(min(90, 5 + 85 * done // max(expected_parts, done)))

        def job(i: int, source: Path) -> tuple[int, ChildResult]:
            try:
                return i, pool.render(source, workdir / f"part{i:04d}.pdf")
            finally:
                source.unlink(missing_ok=True)

        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pdf") as executor:
                running: set = set()
                for i, html in enumerate(parts):
                    source = workdir / f"part{i:04d}.html"
                    source.write_text(html, encoding="utf-8")
                    del html
                    running.add(executor.submit(job, i, source))
                    if len(running) >= 2 * workers:
                        finished_now, running = wait(running, return_when=FIRST_COMPLETED)
                        for future in finished_now:
                            finished(future)
                for future in as_completed(running):
                    finished(future)
            ordered = [results[i] for i in range(len(results))]
            writer = PdfWriter()
            for result in ordered:
                writer.append(PdfReader(result.path))
            total = len(writer.pages)
            source = workdir / "overlay.html"
            source.write_text(overlay_html(pages=total, number=number, issued_on=issued_on), encoding="utf-8")
            overlay = pool.render(source, workdir / "overlay.pdf")
        finally:
            peaks = pool.close()
        parts_size = sum(r.path.stat().st_size for r in [*ordered, overlay])
        stamps = PdfReader(overlay.path)
        if len(stamps.pages) != total:
            raise RuntimeError(f"footer overlay has {len(stamps.pages)} pages for {total}")
        for page, stamp in zip(writer.pages, stamps.pages):
            page.merge_page(stamp)
            # merge_page leaves the page's content uncompressed: compress it again (a 158-page
            # report otherwise grows from 3 MB to 18 MB).
            page.compress_content_streams()
        # The parts share identical objects (e.g. colour profiles, some font programs): keep one of each.
        writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
        progress(95)
        buffer = io.BytesIO()
        writer.write(buffer)
    top = sorted(peaks, reverse=True)[:workers]
    return PartsResult(pdf=buffer.getvalue(), pages=total, part_pages=[r.pages for r in ordered],
                       peak_rss_kb=max(peaks, default=0), parts_size=parts_size, workers=workers,
                       peak_total_rss_kb=sum(top), part_pids=[r.pid for r in ordered])


# -- documents ------------------------------------------------------------


@dataclass
class Output:
    content: bytes
    filename: str
    title: str
    number: str
    pages: int | None = None
    content_type: str = "application/pdf"


def _milestone_rows(milestones) -> list[dict]:
    return [{"obj": m, "amount": format_cny(m.amount), "deposit": format_cny(m.deposit_amount),
             "paid_in": format_cny(m.paid_in), "released": format_cny(m.released_amount),
             "forfeited": format_cny(m.forfeited_amount), "refunded": format_cny(m.refunded_amount),
             "custody": format_cny(getattr(m, "custody_balance", None) or ZERO),
             "custody_plain": _plain(getattr(m, "custody_balance", None) or ZERO)}
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
        raise DomainError("项目尚未立项，没有准予立项通知书（R13）", code="not_approved", rule="R13")
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


def _history_rows(project) -> list[dict]:
    from projects.choices import MilestoneState, ProjectState
    from projects.models import Project
    from projects.views import ACTION_LABELS as action_labels

    labels = {**dict(ProjectState.choices), **dict(MilestoneState.choices)}
    project_type = ContentType.objects.get_for_model(Project).pk
    milestones = {str(m.pk): m for m in project.milestones.all()}
    rows = []
    for e in selectors.project_history(project):
        target = "项目" if e.content_type_id == project_type else (
            f"里程碑 {milestones[e.object_id].seq}" if e.object_id in milestones else "里程碑")
        rows.append({"at": e.at, "target_label": target, "action": action_label(e.action, action_labels),
                     "from_label": labels.get(e.from_state, e.from_state),
                     "to_label": labels.get(e.to_state, e.to_state),
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
            "attachments": list(project.attachments.all()), "loans": _loan_rows([project.pk])}


def _loan_rows(project_ids) -> list[dict]:
    """R10: the guarantee loans of these projects, for the dossier and the annual report (no ledger figures)."""
    from projects.loans.selectors import loans_of_projects

    return [{"obj": loan, "amount": _plain(loan.amount), "rate": f"{loan.rate}%"}
            for loan in loans_of_projects(project_ids)]


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


def _trace_text(trace) -> str:
    if isinstance(trace, dict):
        return "；".join(f"{k}: {v}" for k, v in trace.items() if not isinstance(v, (dict, list)))[:300] or "—"
    if isinstance(trace, list):
        return "；".join(str(t) for t in trace)[:300]
    return str(trace or "—")


def _cny_text(value) -> str:
    from decimal import InvalidOperation

    try:
        return format_cny(Decimal(str(value)))
    except (InvalidOperation, TypeError, ValueError):
        return str(value or "—")


def _subsidy_rows(rows) -> list[dict]:
    """Each figure with its trace's lines (grant: per project, R11; premium: per insurance type, R9/I8)."""
    from subsidies.choices import PolicyType

    type_labels = dict(PolicyType.choices)
    out = []
    for r in rows:
        trace = r["trace"] if isinstance(r["trace"], dict) else {}
        projects = [{"label": f"{p.get('notice_number') or ''} {p.get('title') or p.get('project', '')}".strip(),
                     "input": _cny_text(p.get("input")), "claims": _cny_text(p.get("claims_paid")),
                     "base": _cny_text(p.get("base")), "share": _cny_text(p.get("share"))}
                    for p in trace.get("projects", []) if isinstance(p, dict)]
        # I12: one line per premium (policy); figures computed before it have one per insurance type
        types = [{"type": str(type_labels.get(t.get("type"), t.get("type", ""))), "premium": _cny_text(t.get("premium")),
                  "alone": _cny_text(t.get("alone")), "others": _cny_text(t.get("others_total")),
                  "best": _cny_text(t.get("best_single")), "due": _cny_text(t.get("due")),
                  "policy": t.get("number") or "", "after_start": bool(t.get("after_start"))}
                 for t in trace.get("premiums", trace.get("types", [])) if isinstance(t, dict)]
        recovery = {k: format_cny(r[k]) for k in ("recovery", "recovery_outstanding", "netted") if r.get(k)}  # I10
        out.append({**r, **{f"{k}_text": v for k, v in recovery.items()},
                    "amount_text": format_cny(r["amount"]), "uncapped_text": format_cny(r["uncapped"]),
                    "trace_text": _trace_text(trace), "projects": projects, "types": types,
                    "cap_text": _cny_text(trace["cap"]) if "cap" in trace else "",
                    "rate_text": f"{Decimal(trace['rate']) * 100:.0f}%" if "rate" in trace else ""})
    return out


def subsidy_decision_document(*, enterprise, year: int, figures: selectors.SubsidyFigures, number: str,
                              issued_on: date) -> Output:
    """The decision for one enterprise and year, from the subsidies' computed figures."""
    title = "科创安心宝资助决定书"
    grant_total, premium_total = figures.grant_total, figures.premium_total
    total = grant_total + premium_total
    ctx = {**page_context(title=title, number=number, issued_on=issued_on), "enterprise": enterprise, "year": year,
           "grants": _subsidy_rows(figures.grants), "premiums": _subsidy_rows(figures.premiums),
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
        raise DomainError(f"{enterprise.name} {year} 年度尚无经审定的资助或保费补助（R11、R9）",
                          code="subsidy_not_approved", rule="R11")
    return subsidy_decision_document(enterprise=enterprise, year=year, figures=figures, number=number,
                                     issued_on=issued_on)


# -- the annual audit report ----------------------------------------------


@dataclass
class AnnualAuditPlan:
    year: int
    number: str
    issued_on: date
    project_ids: list[int]
    chunk_size: int
    figures: selectors.SubsidyFigures

    @property
    def chunks(self) -> list[list[int]]:
        n = max(1, self.chunk_size)
        return [self.project_ids[i:i + n] for i in range(0, len(self.project_ids), n)]


def annual_audit_plan(year: int, *, number: str, issued_on: date, chunk_size: int | None = None) -> AnnualAuditPlan:
    from escrow.services.seal import chains_seal

    chains_seal()  # the closing section prints the chain heads: every row written so far is in them
    ids = list(selectors.projects_of_year(year).values_list("pk", flat=True))
    figures = selectors.subsidy_figures(year=year)
    return AnnualAuditPlan(year=year, number=number, issued_on=issued_on, project_ids=ids,
                           chunk_size=chunk_size or getattr(settings, "REPORTS_CHUNK_SIZE", 50), figures=figures)


def _front_body(plan: AnnualAuditPlan) -> str:
    months = selectors.custody_flows(year=plan.year, by_month=True)
    totals = selectors.Flows()
    for flows in months.values():  # every custody entry of the year falls in one of its months
        totals.add(flows)
    pool = selectors.pool_year(plan.year)
    summary = pool["summary"]
    ctx = {"year": plan.year, "number": plan.number, "doc_date": chinese_date(plan.issued_on),
           "project_count": len(plan.project_ids),
           "t": {k: format_cny(getattr(totals, k)) for k in ("inputs", "releases", "forfeitures", "refunds", "held")},
           "pool": {"funding": format_cny(summary.funding), "available": format_cny(summary.available),
                    "advanced": format_cny(summary.advanced), "losses": format_cny(summary.losses),
                    "year_in": format_cny(pool["moves"].get("in", ZERO)),
                    "year_out": format_cny(pool["moves"].get("out", ZERO))},
           "utilisation_svg": charts.pool_utilisation_svg(summary), "flows_svg": charts.monthly_flows_svg(months)}
    return render_to_string("reports/_annual_audit_front.html", ctx)


def _plain(value) -> str:
    from .templatetags.report_tags import plain

    return plain(value)


def _chunk_body(plan: AnnualAuditPlan, ids: list[int], start: int, first: bool) -> str:
    rows = []
    for i, row in enumerate(selectors.annual_audit_rows(ids, plan.year, plan.figures)):
        rows.append({"obj": row, "index": start + i + 1, "inputs": _plain(row.flows.inputs),
                     "releases": _plain(row.flows.releases), "forfeitures": _plain(row.flows.forfeitures),
                     "refunds": _plain(row.flows.refunds), "claims": _plain(row.claims_paid),
                     "audited": _plain(row.audited_input)})
    return render_to_string("reports/_annual_audit_chunk.html", {"rows": rows, "first": first})


CHAIN_TITLES = {"ledger": "记账分录", "audit": "审计记录"}


def _back_body(plan: AnnualAuditPlan) -> str:
    from escrow.invariants import ledger_violations
    from escrow.services.seal import chain_heads, chain_violations

    f = plan.figures
    ctx = {"subsidies_available": bool(f.grants or f.premiums), "grants": _subsidy_rows(f.grants),
           "premiums": _subsidy_rows(f.premiums), "grant_total": format_cny(f.grant_total),
           "premium_total": format_cny(f.premium_total),
           "exceptions": selectors.annual_exceptions(plan.year, plan.project_ids, f),
           "loans": _loan_rows(plan.project_ids),
           "ledger_problems": ledger_violations() + chain_violations(), "issued_on": plan.issued_on,
           "chain_heads": [{"title": CHAIN_TITLES.get(name, name), "seq": seq, "hash": digest}
                           for name, seq, digest in chain_heads()]}
    return render_to_string("reports/_annual_audit_back.html", ctx)


def annual_audit_bodies(plan: AnnualAuditPlan) -> Iterator[str]:
    """The report's body sections in order; each chunk's data is read only when it is needed."""
    yield _front_body(plan)
    start = 0
    for i, ids in enumerate(plan.chunks):
        yield _chunk_body(plan, ids, start, first=i == 0)
        start += len(ids)
    yield _back_body(plan)


def _wrap(plan: AnnualAuditPlan, body: str, *, part: bool) -> str:
    ctx = page_context(title=f"{plan.year} 年度专项审计报告", number=plan.number, issued_on=plan.issued_on, part=part)
    return render_to_string("reports/wrap.html", {**ctx, "body": body})


def annual_audit_in_parts(plan: AnnualAuditPlan, *, progress: Progress = _noop) -> PartsResult:
    parts = (_wrap(plan, body, part=True) for body in annual_audit_bodies(plan))
    return render_parts(parts, number=plan.number, issued_on=plan.issued_on, progress=progress,
                        expected_parts=len(plan.chunks) + 2)


def annual_audit_single_html(plan: AnnualAuditPlan) -> str:
    """The same document as one HTML page (for one-pass rendering and the benchmark's comparison)."""
    return _wrap(plan, "".join(annual_audit_bodies(plan)), part=False)


def annual_audit(year: int, *, number: str, issued_on: date, progress: Progress = _noop) -> Output:
    plan = annual_audit_plan(year, number=number, issued_on=issued_on)
    progress(3)
    result = annual_audit_in_parts(plan, progress=progress)
    title = f"{year} 年度专项审计报告"
    return Output(result.pdf, f"科创安心宝{year}年度专项审计报告.pdf", title, number, result.pages)


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
