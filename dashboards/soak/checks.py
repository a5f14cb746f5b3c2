"""What the soak checks once the money has stopped moving.

- every ledger invariant (``escrow.invariants.ledger_violations``, with the milestone and advance figures
  that ``projects.invariants`` registers: what ``verify_ledger`` runs);
- double effects: a milestone released or forfeited by more than one operation, a money operation with
  more than one journal entry, a settled milestone whose state and operations disagree;
- every milestone's figures against its custody postings, operation by operation: paid in, released,
  forfeited, refunded;
- the subsidy figures: a repeat of the year's computations creates nothing, no figure is above its cap
  or negative, and what was paid for an enterprise and year adds up to the latest paid version (never
  paid twice).
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count

from core.money import ZERO, money

RECEIPTS = ("milestone_deposit", "milestone_balance")


def double_effects() -> list[str]:
    from escrow.models import JournalEntry, MoneyOperation
    from projects.models import Milestone

    problems = []
    settled: dict[int, list[int]] = defaultdict(list)
    for pk, ctx in (MoneyOperation.objects.filter(purpose__in=["milestone_release", "milestone_forfeit"],
                                                            state="done").values_list("pk", "context")):
        settled[int(ctx["milestone"])].append(pk)
    for m, ops in settled.items():
        if len(ops) > 1:
            problems.append(f"milestone {m} released or forfeited {len(ops)} times (operations {sorted(ops)})")
    for row in (JournalEntry.objects.filter(idempotency_key__startswith="op:").values("idempotency_key")
                .annotate(n=Count("pk")).filter(n__gt=1)):
        problems.append(f"{row['idempotency_key']}: {row['n']} journal entries")
    for pk, state in Milestone.objects.filter(state__in=["released", "forfeited"]).values_list("pk", "state"):
        if len(settled.get(pk, [])) != 1:
            problems.append(f"milestone {pk} is {state} with {len(settled.get(pk, []))} settling operations")
    return problems


def milestone_figures() -> list[str]:
    """Per milestone, its figures against the postings of the operations that moved its custody account."""
    from escrow import accounts as codes
    from escrow.models import MoneyOperation, Posting
    from projects.models import Milestone

    ops = {pk: (purpose, int(ctx["milestone"])) for pk, purpose, ctx in MoneyOperation.objects.filter(
        state="done", purpose__startswith="milestone_").values_list("pk", "purpose", "context")}
    seen: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    custody_codes = {}
    for m in Milestone.objects.values("pk", "project_id", "seq"):
        custody_codes[m["pk"]] = codes.custody(m["project_id"], m["seq"])
    for op_id, code, amount in (Posting.objects.filter(entry__operation__pk__in=list(ops))
                                .values_list("entry__operation__pk", "account__code", "amount")):
        purpose, m = ops[op_id]
        figures = seen[m]
        if code == custody_codes.get(m) and purpose in RECEIPTS:
            figures["paid_in"] += amount
        elif codes.is_platform(code) and purpose == "milestone_release":
            figures["released"] += amount
        elif codes.is_platform(code) and purpose == "milestone_forfeit":
            figures["forfeited"] += amount
        elif codes.is_enterprise(code) and purpose == "milestone_forfeit":
            figures["refunded"] += amount
    problems = []
    for row in Milestone.objects.values("pk", "paid_in", "released_amount", "forfeited_amount", "refunded_amount"):
        got = seen.get(row["pk"], {})
        for name, field in (("paid_in", "paid_in"), ("released", "released_amount"),
                            ("forfeited", "forfeited_amount"), ("refunded", "refunded_amount")):
            if money(got.get(name, ZERO)) != row[field]:
                problems.append(f"milestone {row['pk']}: {field} {row[field]} but its operations posted "
                                f"{money(got.get(name, ZERO))}")
    return problems


def subsidy_figures(year: int, by) -> list[str]:
    from subsidies.choices import ComputationState as CS
    from subsidies.models import GrantComputation, PremiumSubsidy
    from subsidies.services import grant_compute, premium_compute, scheme_for_year

    problems = []
    grant_compute(year=year, actor=by)
    premium_compute(year=year, actor=by)
    again = grant_compute(year=year, actor=by).created + premium_compute(year=year, actor=by).created
    if again:
        problems.append(f"subsidies {year}: a repeated computation created {len(again)} new figures")
    scheme = scheme_for_year(year)
    for model, cap in ((GrantComputation, scheme.grant_cap), (PremiumSubsidy, scheme.premium_cap)):
        rows = defaultdict(list)
        for fig in model.objects.filter(year=year).order_by("version"):
            rows[fig.enterprise_id].append(fig)
            if fig.amount < 0 or fig.amount > cap:
                problems.append(f"{model.__name__} {fig.pk}: amount {fig.amount} outside 0…{cap}")
        for ent, figs in rows.items():
            paid = [f for f in figs if f.state == CS.PAID]
            if paid and money(sum((f.paid_amount for f in paid), ZERO)) != paid[-1].amount:
                problems.append(f"{model.__name__} enterprise {ent} {year}: paid "
                                f"{[str(f.paid_amount) for f in paid]} != the latest paid version's "
                                f"{paid[-1].amount}")
            if len([f for f in figs if f.state == CS.APPROVED]) > 1:
                problems.append(f"{model.__name__} enterprise {ent} {year}: more than one approved version")
    return problems


def invariant_violations() -> list[str]:
    from escrow.invariants import ledger_violations

    return ledger_violations() + milestone_figures()
