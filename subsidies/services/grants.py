"""The yearly R&D grant (R11, R15, I5, I10, I18): the figure of one enterprise and the year's run."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate

from core.money import ZERO, money
from projects.models import Project

from ..choices import InsuredParty, RunKind
from ..models import AnnualAudit, GrantComputation, InsuranceClaim
from ..selectors import ledger_inputs
from ._common import SHANGHAI, as_text
from .runs import Figure, RunResult, blacklisted_rows, run_begin, run_finish


def grant_figure(*, rate: Decimal, cap: Decimal, projects: list[dict]) -> Figure:
    """R11, I5, I4: Σ rate × max(input − claims, 0), capped at ``cap``; rounded once at the end.

    ``projects``: dicts with ``input`` and ``claims`` (Decimal) and any descriptive keys.
    """
    rows = []
    total = Decimal(0)
    for p in projects:
        base = max(p["input"] - p["claims"], Decimal(0))
        share = rate * base
        total += share
        rows.append({**{k: v for k, v in p.items() if k not in ("input", "claims")},
                     "input": as_text(p["input"]), "claims_paid": as_text(p["claims"]), "base": as_text(base),
                     "share": as_text(share)})
    capped = money(total) > cap  # at the fen: a cut that rounds to ¥0.00 is no cut (I4)
    amount = money(min(total, cap))
    uncapped = money(total)
    trace = {"rule": "R11", "rate": as_text(rate), "projects": rows, "uncapped_sum": as_text(total), "cap": as_text(cap),
             "capped": capped, "cap_cut": as_text(money(total - cap)) if capped else "0.00", "amount": as_text(amount),
             "rounding": "I4"}
    return Figure(amount=amount, uncapped=uncapped, capped=capped, trace=trace)


@transaction.atomic
def grant_compute(*, year: int, actor=None) -> RunResult:
    """R11, R15, I5: prepare the year's grant per enterprise. Running it twice changes nothing.

    Inputs, in a handful of queries whatever the number of enterprises: the
    year's audits, the ledger's inputs (one query over postings), the claims
    paid in the year per project, the projects, the latest versions.
    Projects with ledger input but no audit yet are listed as pending (R15:
    the grant is paid on the audited input) and block approval.
    """
    scheme = run_begin(RunKind.GRANT, year=year, actor=actor)
    rate, cap = scheme.grant_rate, scheme.grant_cap
    # The opinion's local day comes from the database (one conversion per row there, not 20,000 in Python).
    audits = {a["project_id"]: a for a in AnnualAudit.objects.filter(year=year).annotate(
        opinion_on=TruncDate("opinion_at", tzinfo=SHANGHAI)).values(
        "pk", "project_id", "audited_input", "ledger_input", "reason", "opinion_at", "opinion_on")}
    ledger = ledger_inputs(year)
    # I10: only claims paid to the enterprise (it is the insured) count, against the year of the input
    # they compensate (loss_year), whenever they were paid.
    claims = dict(InsuranceClaim.objects.filter(loss_year=year, paid_amount__gt=0,
                                                policy__insured=InsuredParty.ENTERPRISE)
                  .values_list("policy__project_id").annotate(s=Sum("paid_amount")).values_list(
                      "policy__project_id", "s"))
    project_ids = sorted(set(audits) | {p for p, v in ledger.items() if v > 0})
    # The audited projects by a subquery (no list of 20,000 ids to send); the few with ledger input and no
    # audit yet by their ids.
    fields = ("pk", "title", "notice_number", "enterprise_id", "enterprise__name", "enterprise__blacklisted")
    audited = AnnualAudit.objects.filter(year=year).values("project_id")
    projects = {row["pk"]: row for row in Project.objects.filter(pk__in=audited).values(*fields)}
    unaudited = [pid for pid in project_ids if pid not in projects]
    for chunk_start in range(0, len(unaudited), 5000):
        chunk = unaudited[chunk_start:chunk_start + 5000]
        projects.update((row["pk"], row) for row in Project.objects.filter(pk__in=chunk).values(*fields))
    per_enterprise: dict[int, dict] = defaultdict(lambda: {"rows": [], "pending": [], "excluded": []})
    result = RunResult(year=year)
    excluded = {}
    for pid in project_ids:
        p = projects[pid]
        ent = p["enterprise_id"]
        if p["enterprise__blacklisted"]:
            excluded[ent] = p["enterprise__name"]
            continue
        ledger_value = ledger.get(pid, ZERO)
        audit = audits.get(pid)
        desc = {"project": pid, "title": p["title"], "notice_number": p["notice_number"] or ""}
        if audit is None:
            per_enterprise[ent]["pending"].append({**desc, "ledger_input": as_text(ledger_value)})
            continue
        opinion_on = audit["opinion_on"]
        evaluation = {"audit": audit["pk"], "audited_input": as_text(audit["audited_input"]),
                      "opinion_on": opinion_on.isoformat() if opinion_on else None}
        if audit["opinion_at"] is None:  # I18: the enterprise's acceptance opinion is not on file yet
            per_enterprise[ent]["excluded"].append({**desc, **evaluation, "reason": "opinion_missing",
                                                    "rule": "I18"})
            continue
        per_enterprise[ent]["rows"].append({
            **desc, "input": audit["audited_input"], "claims": claims.get(pid) or ZERO,
            "ledger_input": as_text(audit["ledger_input"]), "audit_reason": audit["reason"], "evaluation": evaluation,
        })
    result.excluded = blacklisted_rows(excluded)
    figures = {}
    for ent, data in per_enterprise.items():
        fig = grant_figure(rate=rate, cap=cap, projects=data["rows"])
        fig.trace["pending_audit"] = data["pending"]
        fig.trace["excluded"] = data["excluded"]
        figures[ent] = fig
    return run_finish(GrantComputation, RunKind.GRANT, result=result, scheme=scheme, figures=figures, actor=actor,
                      scheme_fields=("grant_rate", "grant_cap"))
