"""Invariant 5 for the money figures projects keeps beside the ledger (workflow.md).

A milestone row carries paid_in, released, forfeited and refunded amounts for its pages and reports; a
project's advance lives in ``pool:advanced:P``. These checks compare both with the postings, so a row
that drifted from the ledger (a reversing entry without the row corrected, a hook that updated one and
not the other) is reported by ``verify_ledger``, the annual audit and every money test, like the five
ledger invariants. Registered with escrow in ``ProjectsConfig.ready``.
"""
from __future__ import annotations

from django.db.models import Sum

from core.money import ZERO, money

from .choices import ProjectState

ADVANCE_OUTSTANDING = (ProjectState.APPROVED, ProjectState.ACTIVE)
ADVANCE_SETTLED = (ProjectState.COMPLETED, ProjectState.TERMINATED)


def milestone_custody_violations() -> list[str]:
    from escrow import accounts as codes
    from escrow.choices import AccountKind
    from escrow.models import Account, Posting

    from .models import Milestone, Project

    problems: list[str] = []
    balances = dict(Account.objects.filter(kind=AccountKind.CUSTODY).values_list("code", "balance"))
    # Money received: positive custody postings, leaving out a mistaken entry and its reversal (both stay
    # in the journal; workflow.md) — once reversed, the row must show the receipt undone.
    received = {code: money(s) for code, s in
                Posting.objects.filter(account__kind=AccountKind.CUSTODY, amount__gt=0,
                                       entry__reverses__isnull=True, entry__reversed_by__isnull=True)
                .values_list("account__code").annotate(s=Sum("amount")).values_list("account__code", "s")}
    rows = Milestone.objects.values_list("pk", "project_id", "seq", "paid_in", "released_amount",
                                         "forfeited_amount", "refunded_amount")
    for pk, project_id, seq, paid_in, released, forfeited, refunded in rows.iterator(chunk_size=2000):
        code = codes.custody(project_id, seq)
        held = balances.get(code, ZERO)
        expected = paid_in - released - forfeited - refunded
        if held != expected:
            problems.append(f"invariant 5: milestone {pk} ({code}) paid in {paid_in} − released {released} − "
                            f"forfeited {forfeited} − refunded {refunded} = {expected}, the account holds {held}")
        if received.get(code, ZERO) != paid_in:
            problems.append(f"invariant 5: milestone {pk} ({code}) paid_in {paid_in} != received postings "
                            f"{received.get(code, ZERO)}")
    advanced = dict(Account.objects.filter(kind=AccountKind.POOL_ADVANCED).values_list("code", "balance"))
    for pk, state, budget in Project.objects.filter(state__in=ADVANCE_OUTSTANDING + ADVANCE_SETTLED) \
            .values_list("pk", "state", "budget").iterator(chunk_size=2000):
        held = advanced.get(codes.pool_advanced(pk), ZERO)
        expected = budget if state in ADVANCE_OUTSTANDING else ZERO
        if held != expected:
            problems.append(f"invariant 5 (I2): project {pk} is {state}, pool:advanced:{pk} should hold "
                            f"{expected} but holds {held}")
    return problems
