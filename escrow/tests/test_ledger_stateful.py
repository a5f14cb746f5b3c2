"""A hypothesis state machine drives random money operations and checks the invariants after each step.

Each example runs in a savepoint rolled back at its end, so examples do not
see each other's postings. Workers are simulated by calling the execution
service (sometimes twice: a duplicate delivery must change nothing).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.exceptions import ConflictError
from escrow import accounts as codes
from escrow.choices import OperationKind, OperationState
from escrow.exceptions import InsufficientFunds
from escrow.invariants import assert_ledger_invariants
from escrow.models import Account, JournalEntry, MoneyOperation
from escrow.services import operation_confirm, operation_execute, operation_request, pool_top_up

THRESHOLD = Decimal("1000000.00")
projects = st.integers(min_value=1, max_value=3)
seqs = st.integers(min_value=1, max_value=2)
amounts = st.integers(min_value=1, max_value=150_000_000).map(lambda fen: Decimal(fen) / 100)
big_amounts = st.integers(min_value=1, max_value=20_000_000_000).map(lambda fen: Decimal(fen) / 100)


class LedgerMachine(RuleBasedStateMachine):
    demo = None  # set by the test

    def __init__(self):
        super().__init__()
        self._tx = transaction.atomic()
        self._tx.__enter__()
        self.expected: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
        self.expected.update(dict(Account.objects.values_list("code", "balance")))
        self.settled: dict[str, tuple[str, Decimal]] = {}
        self.done_ops: list[int] = []
        self.n = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._tx.__exit__(None, None, None)

    # -- helpers ---------------------------------------------------------
    def key(self, label: str) -> str:
        self.n += 1
        return f"sm:{label}:{self.n}"

    def move(self, lines):
        for code, amount in lines:
            self.expected[code] += amount

    def can_pay(self, lines) -> bool:
        guarded = ("custody:", "pool:available", "pool:advanced:")
        return all(not code.startswith(guarded) or self.expected[code] + amount >= 0 for code, amount in lines)

    def order(self, *, kind, amount, lines, key, by=None, context=None):
        """Request, confirm when above the threshold, execute (maybe twice), and check the outcome."""
        by = by or self.demo.custodian
        op = operation_request(kind=kind, amount=amount, lines=lines, memo=kind, idempotency_key=key,
                               ordered_by=by, context=context or {})
        if op.state == OperationState.AWAITING_CONFIRMATION:
            assert amount > THRESHOLD
            operation_confirm(operation=op, actor=self.demo.custodian2)
        solvent = self.can_pay(lines)
        op = operation_execute(operation_id=op.pk)
        if solvent:
            assert op.state == OperationState.DONE, op.failure_reason
            self.move(lines)
            self.done_ops.append(op.pk)
        else:
            assert op.state == OperationState.FAILED and "余额不足" in op.failure_reason
            assert op.entry_id is None
        return op

    # -- rules -----------------------------------------------------------
    @rule(amount=big_amounts)
    def top_up(self, amount):
        pool_top_up(amount=amount, decided_on=date(2025, 6, 1), actor=self.demo.poolmanager,
                    idempotency_key=self.key("topup"))
        self.move([(codes.POOL_FUNDING, -amount), (codes.POOL_AVAILABLE, amount)])

    @rule(project=projects, amount=big_amounts)
    def advance(self, project, amount):
        lines = [(codes.POOL_AVAILABLE, -amount), (codes.pool_advanced(project), amount)]
        key = self.key("advance")
        if self.can_pay(lines):
            operation_request(kind=OperationKind.ADVANCE, amount=amount, lines=lines, memo="advance",
                              idempotency_key=key, ordered_by=self.demo.reviewer, inline=True)
            self.move(lines)
        else:  # I2: approval refused when the pool cannot cover B; nothing is recorded
            with pytest.raises(InsufficientFunds):
                operation_request(kind=OperationKind.ADVANCE, amount=amount, lines=lines, memo="advance",
                                  idempotency_key=key, ordered_by=self.demo.reviewer, inline=True)
            assert not MoneyOperation.objects.filter(idempotency_key=key).exists()

    @rule(project=projects, seq=seqs, amount=amounts)
    def deposit(self, project, seq, amount):
        lines = [(codes.ext_enterprise(self.demo.ent1.pk), -amount), (codes.custody(project, seq), amount)]
        self.order(kind=OperationKind.DEPOSIT, amount=amount, lines=lines, key=self.key("deposit"))

    @rule(project=projects, seq=seqs, amount=amounts)
    def release(self, project, seq, amount):
        # One settlement key per milestone: a second release or a forfeit of it is refused (invariant 3).
        key = f"sm:settle:{project}:{seq}"
        lines = [(codes.custody(project, seq), -amount), (codes.ext_platform(self.demo.plat1.pk), amount)]
        if key in self.settled:
            if self.settled[key] == (OperationKind.RELEASE, amount):
                entries = JournalEntry.objects.count()
                operation_request(kind=OperationKind.RELEASE, amount=amount, lines=lines, memo="again",
                                  idempotency_key=key, ordered_by=self.demo.custodian)
                assert JournalEntry.objects.count() == entries
            else:
                with pytest.raises(ConflictError):
                    operation_request(kind=OperationKind.RELEASE, amount=amount, lines=lines, memo="again",
                                      idempotency_key=key, ordered_by=self.demo.custodian)
            return
        self.settled[key] = (OperationKind.RELEASE, amount)
        self.order(kind=OperationKind.RELEASE, amount=amount, lines=lines, key=key,
                   context={"project": project, "milestone": project * 10 + seq})

    @rule(project=projects, seq=seqs, deposit=amounts)
    def forfeit(self, project, seq, deposit):
        key = f"sm:settle:{project}:{seq}"
        held = self.expected[codes.custody(project, seq)]
        if key in self.settled or held <= 0:
            return
        taken = min(deposit, held)  # I3: the agreed deposit goes to the platform, the rest back
        lines = [(codes.custody(project, seq), -held), (codes.ext_platform(self.demo.plat1.pk), taken)]
        if held - taken:
            lines.append((codes.ext_enterprise(self.demo.ent1.pk), held - taken))
        self.settled[key] = (OperationKind.FORFEIT, held)
        self.order(kind=OperationKind.FORFEIT, amount=held, lines=lines, key=key,
                   context={"project": project, "milestone": project * 10 + seq})

    @rule(project=projects, seq=seqs, amount=amounts)
    def refund(self, project, seq, amount):
        lines = [(codes.custody(project, seq), -amount), (codes.ext_enterprise(self.demo.ent1.pk), amount)]
        self.order(kind=OperationKind.REFUND, amount=amount, lines=lines, key=self.key("refund"))

    @rule(project=projects, amount=big_amounts)
    def repayment(self, project, amount):
        lines = [(codes.pool_advanced(project), -amount), (codes.POOL_AVAILABLE, amount)]
        self.order(kind=OperationKind.REPAYMENT, amount=amount, lines=lines, key=self.key("repay"),
                   by=self.demo.poolmanager)

    @rule(project=projects, amount=big_amounts)
    def write_off(self, project, amount):
        lines = [(codes.pool_advanced(project), -amount), (codes.POOL_LOSSES, amount)]
        self.order(kind=OperationKind.WRITE_OFF, amount=amount, lines=lines, key=self.key("writeoff"),
                   by=self.demo.poolmanager)

    @rule(data=st.data())
    def duplicate_delivery(self, data):
        if not self.done_ops:
            return
        pk = data.draw(st.sampled_from(self.done_ops))
        entries = JournalEntry.objects.count()
        assert operation_execute(operation_id=pk).state == OperationState.DONE
        assert JournalEntry.objects.count() == entries

    # -- checked after every step ----------------------------------------
    @invariant()
    def ledger_invariants_hold(self):
        assert_ledger_invariants()

    @invariant()
    def balances_match_the_model(self):
        actual = dict(Account.objects.values_list("code", "balance"))
        for code, amount in self.expected.items():
            assert actual.get(code, Decimal("0.00")) == amount, code


@pytest.mark.django_db
def test_ledger_state_machine_random_operations_keep_invariants(demo, ledger_path):
    LedgerMachine.demo = demo
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=30, stateful_step_count=15, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
