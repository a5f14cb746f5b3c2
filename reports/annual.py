"""The annual audit report (R15): a front part, one part per chunk of projects, a back part (``reports.documents``
explains how the parts are rendered and numbered)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.template.loader import render_to_string

from core.money import ZERO, format_cny

from . import charts, selectors
from .rendering import Output, PartsResult, Progress, _noop, chinese_date, page_context, render_parts
from .rows import loan_rows, plain, subsidy_rows

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


def _chunk_body(plan: AnnualAuditPlan, ids: list[int], start: int, first: bool) -> str:
    rows = []
    for i, row in enumerate(selectors.annual_audit_rows(ids, plan.year, plan.figures)):
        rows.append({"obj": row, "index": start + i + 1, "inputs": plain(row.flows.inputs),
                     "releases": plain(row.flows.releases), "forfeitures": plain(row.flows.forfeitures),
                     "refunds": plain(row.flows.refunds), "claims": plain(row.claims_paid),
                     "audited": plain(row.audited_input)})
    return render_to_string("reports/_annual_audit_chunk.html", {"rows": rows, "first": first})


CHAIN_TITLES = {"ledger": "记账分录", "audit": "审计记录"}


def _back_body(plan: AnnualAuditPlan) -> str:
    from escrow.invariants import ledger_violations
    from escrow.services.seal import chain_heads, chain_violations

    f = plan.figures
    ctx = {"subsidies_available": bool(f.grants or f.premiums), "grants": subsidy_rows(f.grants),
           "premiums": subsidy_rows(f.premiums), "grant_total": format_cny(f.grant_total),
           "premium_total": format_cny(f.premium_total),
           "exceptions": selectors.annual_exceptions(plan.year, plan.project_ids, f),
           "loans": loan_rows(plan.project_ids),
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


def annual_audit_part_bodies(plan: AnnualAuditPlan) -> Iterator[str]:
    """The bodies grouped into the parts rendered apart: the front shares its part with the first chunk and the
    back with the last, so the sections run on without a page left nearly empty at either join (a part always
    begins on a new page)."""
    bodies = annual_audit_bodies(plan)
    chunks = len(plan.chunks)
    head = chunks + 2 if chunks < 2 else 2  # one part for everything when there is at most one chunk
    yield "".join(next(bodies) for _ in range(head))
    for _ in range(max(0, chunks - 2)):
        yield next(bodies)
    if chunks >= 2:
        yield "".join(bodies)  # the last chunk and the back


def _wrap(plan: AnnualAuditPlan, body: str, *, part: bool) -> str:
    ctx = page_context(title=f"{plan.year} 年度专项审计报告", number=plan.number, issued_on=plan.issued_on, part=part)
    return render_to_string("reports/wrap.html", {**ctx, "body": body})


def annual_audit_in_parts(plan: AnnualAuditPlan, *, progress: Progress = _noop) -> PartsResult:
    parts = (_wrap(plan, body, part=True) for body in annual_audit_part_bodies(plan))
    return render_parts(parts, number=plan.number, issued_on=plan.issued_on, progress=progress,
                        expected_parts=max(1, len(plan.chunks)))


def annual_audit_single_html(plan: AnnualAuditPlan) -> str:
    """The same document as one HTML page (for one-pass rendering and the benchmark's comparison)."""
    return _wrap(plan, "".join(annual_audit_bodies(plan)), part=False)


def annual_audit(year: int, *, number: str, issued_on: date, progress: Progress = _noop) -> Output:
    plan = annual_audit_plan(year, number=number, issued_on=issued_on)
    progress(3)
    result = annual_audit_in_parts(plan, progress=progress)
    title = f"{year} 年度专项审计报告"
    return Output(result.pdf, f"科创安心宝{year}年度专项审计报告.pdf", title, number, result.pages)
