"""Figures as the documents print them: amounts in words and digits, subsidy traces, loans."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core.money import format_amount as plain
from core.money import format_cny


def loan_rows(project_ids) -> list[dict]:
    """R10: the guarantee loans of these projects, for the dossier and the annual report (no ledger figures)."""
    from projects.loans.selectors import loans_of_projects

    return [{"obj": loan, "amount": plain(loan.amount), "rate": f"{loan.rate}%"}
            for loan in loans_of_projects(project_ids)]


def trace_text(trace) -> str:
    if isinstance(trace, dict):
        return "；".join(f"{k}: {v}" for k, v in trace.items() if not isinstance(v, (dict, list)))[:300] or "—"
    if isinstance(trace, list):
        return "；".join(str(t) for t in trace)[:300]
    return str(trace or "—")


def cny_text(value) -> str:
    try:
        return format_cny(Decimal(str(value)))
    except (InvalidOperation, TypeError, ValueError):
        return str(value or "—")


def subsidy_rows(rows) -> list[dict]:
    """Each figure with its trace's lines (grant: per project, R11; premium: per insurance type, R9/I8)."""
    from subsidies.choices import PolicyType

    type_labels = dict(PolicyType.choices)
    out = []
    for r in rows:
        trace = r["trace"] if isinstance(r["trace"], dict) else {}
        projects = [{"label": f"{p.get('notice_number') or ''} {p.get('title') or p.get('project', '')}".strip(),
                     "input": cny_text(p.get("input")), "claims": cny_text(p.get("claims_paid")),
                     "base": cny_text(p.get("base")), "share": cny_text(p.get("share"))}
                    for p in trace.get("projects", []) if isinstance(p, dict)]
        # I12: one line per premium (policy); figures computed before it have one per insurance type
        types = [{"type": str(type_labels.get(t.get("type"), t.get("type", ""))), "premium": cny_text(t.get("premium")),
                  "alone": cny_text(t.get("alone")), "others": cny_text(t.get("others_total")),
                  "best": cny_text(t.get("best_single")), "due": cny_text(t.get("due")),
                  "policy": t.get("number") or "", "after_start": bool(t.get("after_start"))}
                 for t in trace.get("premiums", trace.get("types", [])) if isinstance(t, dict)]
        recovery = {k: format_cny(r[k]) for k in ("recovery", "recovery_outstanding", "netted") if r.get(k)}  # I10
        out.append({**r, **{f"{k}_text": v for k, v in recovery.items()},
                    "amount_text": format_cny(r["amount"]), "uncapped_text": format_cny(r["uncapped"]),
                    "trace_text": trace_text(trace), "projects": projects, "types": types,
                    "cap_text": cny_text(trace["cap"]) if "cap" in trace else "",
                    "rate_text": f"{Decimal(trace['rate']) * 100:.0f}%" if "rate" in trace else ""})
    return out
