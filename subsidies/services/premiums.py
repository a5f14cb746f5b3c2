"""The yearly premium subsidy (R9, I6, I8, I11, I12, R20): the figure of one enterprise and the year's run."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction

from core.money import money
from projects.choices import ProjectState

from ..choices import InsuredParty, RunKind
from ..models import InsurancePolicy, OtherPolicySubsidy, PremiumSubsidy
from ._common import as_text
from .runs import Figure, RunResult, blacklisted_rows, run_begin, run_finish

# I11: projects in the scheme (approved or later); drafts, filings in review, rejected ones are not.
IN_SCHEME = (ProjectState.APPROVED, ProjectState.ACTIVE, ProjectState.COMPLETED, ProjectState.TERMINATED)


def premium_figure(*, rate: Decimal, cap: Decimal, policies: list[dict], others: list[dict]) -> Figure:
    """R9, I6, I12, R20 for one enterprise and year: non-duplication is per premium (I12).

    For each premium (policy): ours = min(rate × premium, cap) (our policy alone never pays more than
    the cap, R9); the best single policy = the larger of ours and the largest other same-type subsidy
    recorded *on that premium*; we pay the best less what the others paid on that premium, floored at
    0. Another policy's payment on a different premium never reduces ours; a record attached to no
    premium of ours reduces nothing and is listed as ``unattached`` for the reviewer. The year's sum is
    then capped at ``cap`` (I6). Rounded once at the end (I4).
    """
    on_premium: dict[int, list] = defaultdict(list)
    unattached = []
    by_policy = {p.get("policy"): p for p in policies}
    for o in others:
        target = by_policy.get(o.get("policy")) if o.get("policy") is not None else None
        if target is not None and target["type"] == o["type"]:
            on_premium[o["policy"]].append(o)
        else:
            unattached.append(o)
    raw_total = Decimal(0)
    due_total = Decimal(0)
    rows = []
    for p in policies:
        share = rate * p["premium"]
        raw_total += share
        alone = min(share, cap)
        mine = on_premium.get(p.get("policy"), []) if p.get("policy") is not None else []
        others_total = sum((o["amount"] for o in mine), Decimal(0))
        best_other = max((o["amount"] for o in mine), default=Decimal(0))
        best = max(alone, best_other)
        due = max(best - others_total, Decimal(0))
        due_total += due
        rows.append({**{k: v for k, v in p.items() if k != "premium"}, "premium": as_text(p["premium"]),
                     "share": as_text(share), "alone": as_text(alone), "alone_capped": money(share) > cap,
                     "others": [_other_row(o) for o in mine], "others_total": as_text(others_total),
                     "best_single": as_text(best), "due": as_text(due)})
    year_capped = money(due_total) > cap  # at the fen, as the grant's cap (I4)
    capped = year_capped or any(r["alone_capped"] for r in rows)
    amount = money(min(due_total, cap))
    trace = {"rule": "R9/I6/I12", "rate": as_text(rate), "premiums": rows,
             "unattached_others": [_other_row(o) for o in unattached],
             "raw_sum": as_text(raw_total), "due_sum": as_text(due_total), "cap": as_text(cap), "capped": capped,
             "year_cap_applied": year_capped, "cap_cut": as_text(money(due_total - cap)) if year_capped else "0.00",
             "amount": as_text(amount), "rounding": "I4"}
    return Figure(amount=amount, uncapped=money(raw_total), capped=capped, trace=trace)


def _other_row(o: dict) -> dict:
    return {"name": o["name"], "issuer": o["issuer"], "type": o["type"], "amount": as_text(o["amount"]),
            "policy": o.get("policy")}


@transaction.atomic
def premium_compute(*, year: int, actor=None) -> RunResult:
    """R9, I6, I8, R20: prepare the year's premium subsidies. Running it twice changes nothing.

    The enterprise-insured policies whose year (start date) is ``year``; the
    same-type subsidies of other policies registered for that enterprise and
    year reduce ours so that the total never exceeds the best single policy.
    """
    scheme = run_begin(RunKind.PREMIUM, year=year, actor=actor)
    # I11: the enterprise's premiums (it is the insured) of the year on projects in the scheme, with the
    # policy document on file. A policy without its document is listed, not subsidised, so the reviewer
    # sees why; one bought after the cooperation started is subsidised and flagged 合作后投保.
    policies = (InsurancePolicy.objects.filter(start_date__year=year, insured=InsuredParty.ENTERPRISE,
                                               project__state__in=IN_SCHEME)
                .values("pk", "policy_number", "type", "premium", "start_date", "document", "project_id",
                        "project__title", "project__start_date", "project__enterprise_id",
                        "project__enterprise__name", "project__enterprise__blacklisted")
                .order_by("pk"))
    per_enterprise: dict[int, list] = defaultdict(list)
    no_document: dict[int, list] = defaultdict(list)
    excluded = {}
    for p in policies:
        ent = p["project__enterprise_id"]
        if p["project__enterprise__blacklisted"]:
            excluded[ent] = p["project__enterprise__name"]
            continue
        row = {"policy": p["pk"], "number": p["policy_number"], "type": p["type"], "project": p["project_id"],
               "title": p["project__title"], "premium": p["premium"], "start_date": p["start_date"].isoformat(),
               "after_start": p["start_date"] > p["project__start_date"]}
        if not p["document"]:
            no_document[ent].append({**{k: v for k, v in row.items() if k != "premium"},
                                     "premium": as_text(p["premium"]), "reason": "no_document", "rule": "I11"})
            continue
        per_enterprise[ent].append(row)
    for ent in no_document:
        per_enterprise.setdefault(ent, [])
    others: dict[int, list] = defaultdict(list)
    for o in OtherPolicySubsidy.objects.filter(year=year, enterprise_id__in=list(per_enterprise)).values(
            "enterprise_id", "policy_name", "issuer", "type", "amount", "policy_id").order_by("pk"):
        others[o["enterprise_id"]].append({"name": o["policy_name"], "issuer": o["issuer"], "type": o["type"],
                                           "amount": o["amount"], "policy": o["policy_id"]})
    result = RunResult(year=year)
    result.excluded = blacklisted_rows(excluded)
    figures = {}
    for ent, rows in per_enterprise.items():
        fig = premium_figure(rate=scheme.premium_rate, cap=scheme.premium_cap, policies=rows,
                             others=others.get(ent, []))
        fig.trace["excluded_policies"] = no_document.get(ent, [])
        fig.trace["after_start"] = [r["policy"] for r in rows if r["after_start"]]
        figures[ent] = fig
    return run_finish(PremiumSubsidy, RunKind.PREMIUM, result=result, scheme=scheme, figures=figures, actor=actor,
                      scheme_fields=("premium_rate", "premium_cap"))
