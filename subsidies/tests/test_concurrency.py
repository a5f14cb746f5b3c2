"""Concurrent computations and approvals on PostgreSQL (real threads)."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from core.exceptions import DomainError
from subsidies.models import GrantComputation
from subsidies.services import audit_save, figure_approve, grant_compute

from .factories import make_project, with_opinion

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("ledger_ok")]  # the ledger's invariants hold after the races


def _race(*fns):
    barrier = threading.Barrier(len(fns))
    outcomes = [None] * len(fns)

    def run(i, fn):
        try:
            barrier.wait()
            outcomes[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_simultaneous_computations_make_one_version(demo):
    for ent in (demo.ent1, demo.ent2):
        with_opinion(audit_save(actor=demo.auditor, project=make_project(demo, ent), year=2025,
                   audited_input=Decimal("1000000.00"), reason="审计"))
    outcomes = _race(lambda: grant_compute(year=2025, actor=demo.reviewer),
                     lambda: grant_compute(year=2025, actor=demo.reviewer))
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert sorted(GrantComputation.objects.values_list("enterprise_id", "version")) == [
        (demo.ent1.pk, 1), (demo.ent2.pk, 1)]
    assert sorted(len(o.created) for o in outcomes) == [0, 2]


def test_approval_racing_a_recomputation_never_loses_the_approval(demo):
    p = make_project(demo)
    with_opinion(audit_save(actor=demo.auditor, project=p, year=2025, audited_input=Decimal("1000000.00"), reason="审计"))
    grant_compute(year=2025, actor=demo.reviewer)
    v1 = GrantComputation.objects.get()
    with_opinion(audit_save(actor=demo.auditor, project=p, year=2025, audited_input=Decimal("2000000.00"), reason="更正"))
    approve, _compute = _race(lambda: figure_approve(figure=v1, actor=demo.reviewer),
                              lambda: grant_compute(year=2025, actor=demo.reviewer))
    v1 = GrantComputation.objects.get(pk=v1.pk)
    v2 = GrantComputation.objects.get(version=2)
    assert v2.state == "computed" and v2.amount == Decimal("600000.00")
    if isinstance(approve, DomainError):  # the recomputation came first: v1 was superseded before approval
        assert v1.state == "superseded" and v1.approved_by is None
    else:  # the approval came first: the recomputation leaves it approved, v2 waits for approval
        assert v1.state == "approved" and v2.trace["supersedes"]["state"] == "approved"


def test_two_simultaneous_first_audits_of_a_project_year_make_one_audit(demo):
    """Found by the soak: two auditors recording the first audit of the same project and year at once both saw
    no row and both inserted; the second died on the unique index (a 500). The second now waits for the first
    and corrects its row (R15, I5)."""
    from subsidies.models import AnnualAudit

    for round_ in range(5):
        p = make_project(demo, title=f"并发审计项目{round_}")
        amounts = [Decimal("1000000.00"), Decimal("1100000.00"), Decimal("1200000.00"), Decimal("1300000.00")]
        outcomes = _race(*[lambda a=a, p=p: audit_save(actor=demo.auditor, project=p, year=2025, audited_input=a,
                                                       reason="审计确认") for a in amounts])
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes
        audit = AnnualAudit.objects.get(project=p, year=2025)
        assert audit.audited_input in amounts


def test_audit_correction_racing_the_enterprise_opinion_never_deadlocks(demo):
    """Found by the soak: the opinion locked the audit and (through its join) the project, the correction the
    project and then the audit; the opinion now locks only the audit row."""
    from subsidies.models import AnnualAudit
    from subsidies.services import audit_opinion

    for round_ in range(6):
        p = make_project(demo, title=f"审计意见并发{round_}")
        audit = audit_save(actor=demo.auditor, project=p, year=2025, audited_input=Decimal("1000000.00"), reason="审计")
        outcomes = _race(lambda a=audit: audit_opinion(actor=demo.enterprise, audit=a, opinion="同意"),
                         lambda p=p: audit_save(actor=demo.auditor, project=p, year=2025,
                                                audited_input=Decimal("1200000.00"), reason="更正"))
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes
        audit = AnnualAudit.objects.get(pk=audit.pk)
        assert audit.opinion == "同意" and audit.audited_input == Decimal("1200000.00")
