"""Grant (R11, R15, I4, I5), scheme versions (R19), blacklist (R17), the yearly job."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.exceptions import DomainError, PermissionDeniedError, TransitionNotAllowed
from core.models import SchemeVersion
from core.services import organization_blacklist
from projects.tests.factories import pdf_file
from subsidies.models import GrantComputation, SubsidyRun
from subsidies.selectors import ledger_input, ledger_inputs
from subsidies.services import (
    audit_save,
    claim_create,
    figure_approve,
    figure_pay,
    grant_compute,
    policy_create,
    scheme_for_year,
)
from subsidies.tasks import prepare_year

from .factories import at, make_project, release, with_opinion

pytestmark = pytest.mark.django_db


def _audited(demo, project, year, amount, reason=""):
    audit = audit_save(actor=demo.auditor, project=project, year=year, audited_input=Decimal(amount), reason=reason)
    return with_opinion(audit)


def _policy(demo, project, premium="100000.00", type="rd_loss", start=date(2025, 4, 1)):
    return policy_create(actor=demo.enterprise, project=project, insurer=demo.insurer, type=type,
                         premium=Decimal(premium), cover=Decimal("5000000.00"), start_date=start,
                         end_date=date(2026, 3, 31))


def test_ledger_input_i5_counts_release_and_forfeit_in_the_calendar_year_only(demo, ledger_ok):
    p = make_project(demo, amounts=("1000000.00", "2000000.00", "500000.00"))
    release(p, 1, "1000000.00", on=at(2025, 6, 1))
    release(p, 2, "200000.00", on=at(2025, 12, 31, 23), kind="forfeit")  # Shanghai 31 Dec 23:00 → 2025
    release(p, 3, "500000.00", on=at(2026, 1, 1, 0))  # 1 Jan 00:00 Shanghai (16:00 UTC on 31 Dec) → 2026
    assert ledger_input(p.pk, 2025) == Decimal("1200000.00")
    assert ledger_input(p.pk, 2026) == Decimal("500000.00")
    assert ledger_inputs(2025) == {p.pk: Decimal("1200000.00")}


def test_audit_i5_differing_figure_needs_reason(demo, ledger_ok):
    p = make_project(demo)
    release(p, 1, "3000000.00", on=at(2025, 7, 1))
    with pytest.raises(DomainError) as err:
        _audited(demo, p, 2025, "2900000.00")
    assert err.value.rule == "I5"
    audit = _audited(demo, p, 2025, "2900000.00", reason="部分支出不属于研发投入")
    assert audit.ledger_input == Decimal("3000000.00")
    assert _audited(demo, p, 2025, "3000000.00").pk == audit.pk  # same figure: no reason needed


def test_audit_only_by_auditor(demo):
    p = make_project(demo)
    with pytest.raises(PermissionDeniedError):
        audit_save(actor=demo.reviewer, project=p, year=2025, audited_input=Decimal("0"))


def test_worked_example_3_grant_capped_at_3000000_to_the_fen(demo, ledger_ok):
    """domain.md example 3: 30 % × (8,000,000 − 1,000,000) + 30 % × 5,000,000 = 3,600,000 → cap 3,000,000."""
    p1 = make_project(demo, amounts=("8000000.00",))
    p2 = make_project(demo, amounts=("5000000.00",))
    release(p1, 1, "8000000.00", on=at(2025, 9, 1))
    release(p2, 1, "5000000.00", on=at(2025, 10, 1))
    _audited(demo, p1, 2025, "8000000.00")
    _audited(demo, p2, 2025, "5000000.00")
    policy = _policy(demo, p1)
    claim_create(actor=demo.reviewer, policy=policy, assessed_loss=Decimal("1200000.00"),
                 paid_amount=Decimal("1000000.00"), paid_on=date(2025, 11, 5))
    grant_compute(year=2025, actor=demo.reviewer)
    g = GrantComputation.objects.get(enterprise=demo.ent1, year=2025)
    rows = {r["project"]: r for r in g.trace["projects"]}
    assert Decimal(rows[p1.pk]["share"]) == Decimal("2100000.00")
    assert Decimal(rows[p2.pk]["share"]) == Decimal("1500000.00")
    assert g.uncapped_amount == Decimal("3600000.00")
    assert g.amount == Decimal("3000000.00")
    assert g.capped and g.trace["cap_cut"] == "600000.00"
    assert g.state == "computed" and g.version == 1


def test_worked_example_3_first_project_alone_is_2100000(demo, ledger_ok):
    p1 = make_project(demo, amounts=("8000000.00",))
    release(p1, 1, "8000000.00", on=at(2025, 9, 1))
    _audited(demo, p1, 2025, "8000000.00")
    claim_create(actor=demo.enterprise, policy=_policy(demo, p1), assessed_loss=Decimal("1000000.00"),
                 paid_amount=Decimal("1000000.00"), paid_on=date(2025, 11, 5))
    grant_compute(year=2025, actor=demo.reviewer)
    g = GrantComputation.objects.get(enterprise=demo.ent1, year=2025)
    assert (g.amount, g.uncapped_amount, g.capped) == (Decimal("2100000.00"), Decimal("2100000.00"), False)


def test_grant_rounds_half_up_once_at_the_end_i4(demo):
    p1 = make_project(demo, amounts=("3000000.00",))
    p2 = make_project(demo, amounts=("3000000.00",))
    # 0.3 × 0.05 = 0.015 twice: rounding each share would give 0.02 + 0.02; once at the end gives 0.03.
    for p in (p1, p2):
        _audited(demo, p, 2025, "0.05", reason="审计调整")
    grant_compute(year=2025, actor=demo.reviewer)
    assert GrantComputation.objects.get(enterprise=demo.ent1, year=2025).amount == Decimal("0.03")


def test_claims_larger_than_input_never_make_the_base_negative_r11(demo):
    p = make_project(demo)
    _audited(demo, p, 2025, "100000.00", reason="审计调整")
    claim_create(actor=demo.reviewer, policy=_policy(demo, p), assessed_loss=Decimal("500000.00"),
                 paid_amount=Decimal("500000.00"), paid_on=date(2025, 3, 1))
    grant_compute(year=2025, actor=demo.reviewer)
    assert GrantComputation.objects.get(enterprise=demo.ent1).amount == Decimal("0.00")


def test_audit_figure_wins_over_ledger_i5(demo, ledger_ok):
    p = make_project(demo)
    release(p, 1, "3000000.00", on=at(2025, 7, 1))
    _audited(demo, p, 2025, "2000000.00", reason="100万元用于非研发用途")
    grant_compute(year=2025, actor=demo.reviewer)
    g = GrantComputation.objects.get(enterprise=demo.ent1)
    assert g.amount == Decimal("600000.00")
    assert g.trace["projects"][0]["ledger_input"] == "3000000.00"


def test_unaudited_project_is_pending_and_blocks_approval_r15(demo, ledger_ok):
    p = make_project(demo)
    release(p, 1, "3000000.00", on=at(2025, 7, 1))
    grant_compute(year=2025, actor=demo.reviewer)
    g = GrantComputation.objects.get(enterprise=demo.ent1)
    assert g.amount == Decimal("0.00") and g.trace["pending_audit"][0]["project"] == p.pk
    with pytest.raises(DomainError) as err:
        figure_approve(figure=g, actor=demo.reviewer)
    assert err.value.rule == "R15"


def test_yearly_job_twice_changes_nothing(demo, ledger_ok):
    p = make_project(demo)
    release(p, 1, "3000000.00", on=at(2025, 7, 1))
    _audited(demo, p, 2025, "3000000.00")
    prepare_year.delay(2025)
    state = list(GrantComputation.objects.values_list("pk", "version", "amount", "state"))
    runs = SubsidyRun.objects.count()
    prepare_year.delay(2025)
    assert list(GrantComputation.objects.values_list("pk", "version", "amount", "state")) == state
    assert SubsidyRun.objects.count() == runs
    assert state[0][2] == Decimal("900000.00")


def test_yearly_job_is_in_beat_schedule():
    from django.conf import settings

    assert any(e["task"] == "subsidies.prepare_year" for e in settings.CELERY_BEAT_SCHEDULE.values())


def test_correction_makes_a_new_version_and_supersedes_a_computed_one(demo):
    p = make_project(demo)
    _audited(demo, p, 2025, "1000000.00", reason="首次审计")
    grant_compute(year=2025, actor=demo.reviewer)
    _audited(demo, p, 2025, "2000000.00", reason="补充审计")
    grant_compute(year=2025, actor=demo.reviewer)
    v1, v2 = GrantComputation.objects.filter(enterprise=demo.ent1).order_by("version")
    assert (v1.state, v1.amount) == ("superseded", Decimal("300000.00"))
    assert (v2.state, v2.version, v2.amount) == ("computed", 2, Decimal("600000.00"))


def test_approved_figure_never_changes_silently(demo):
    p = make_project(demo)
    _audited(demo, p, 2025, "1000000.00", reason="首次审计")
    grant_compute(year=2025, actor=demo.reviewer)
    v1 = figure_approve(figure=GrantComputation.objects.get(), actor=demo.reviewer)
    _audited(demo, p, 2025, "2000000.00", reason="补充审计")
    grant_compute(year=2025, actor=demo.reviewer)
    v1 = GrantComputation.objects.get(pk=v1.pk)
    assert (v1.state, v1.amount) == ("approved", Decimal("300000.00"))
    v2 = GrantComputation.objects.get(version=2)
    assert v2.state == "computed" and v2.trace["supersedes"] == {"version": 1, "state": "approved"}
    figure_approve(figure=v2, actor=demo.reviewer)
    v1 = GrantComputation.objects.get(pk=v1.pk)
    assert v1.state == "superseded"


def test_paid_version_stays_paid_and_new_version_pays_the_difference(demo):
    p = make_project(demo)
    _audited(demo, p, 2025, "1000000.00", reason="首次审计")
    grant_compute(year=2025, actor=demo.reviewer)
    v1 = figure_approve(figure=GrantComputation.objects.get(), actor=demo.reviewer)
    figure_pay(figure=v1, actor=demo.finance, amount=Decimal("300000.00"), paid_on=date(2026, 2, 1), voucher="财付001")
    _audited(demo, p, 2025, "2000000.00", reason="补充审计")
    grant_compute(year=2025, actor=demo.reviewer)
    v2 = figure_approve(figure=GrantComputation.objects.get(version=2), actor=demo.reviewer)
    assert v2.due == Decimal("300000.00")
    with pytest.raises(DomainError):
        figure_pay(figure=v2, actor=demo.finance, amount=Decimal("600000.00"), paid_on=date(2026, 3, 1), voucher="x")
    figure_pay(figure=v2, actor=demo.finance, amount=Decimal("300000.00"), paid_on=date(2026, 3, 1), voucher="财付002")
    v1 = GrantComputation.objects.get(pk=v1.pk)
    assert v1.state == "paid"


def test_version_paid_after_a_recompute_is_not_paid_twice(demo):
    p = make_project(demo)
    _audited(demo, p, 2025, "1000000.00", reason="首次审计")
    grant_compute(year=2025, actor=demo.reviewer)
    v1 = figure_approve(figure=GrantComputation.objects.get(), actor=demo.reviewer)
    _audited(demo, p, 2025, "2000000.00", reason="补充审计")
    grant_compute(year=2025, actor=demo.reviewer)  # v2 computed while v1 is approved but not yet paid
    figure_pay(figure=v1, actor=demo.finance, amount=Decimal("300000.00"), paid_on=date(2026, 2, 1), voucher="财付001")
    v2 = figure_approve(figure=GrantComputation.objects.get(version=2), actor=demo.reviewer)
    assert v2.amount == Decimal("600000.00") and v2.due == Decimal("300000.00")
    with pytest.raises(DomainError) as exc:
        figure_pay(figure=v2, actor=demo.finance, amount=Decimal("600000.00"), paid_on=date(2026, 3, 1), voucher="x")
    assert exc.value.code == "amount_mismatch"
    figure_pay(figure=v2, actor=demo.finance, amount=Decimal("300000.00"), paid_on=date(2026, 3, 1), voucher="财付002")
    total = sum(g.paid_amount for g in GrantComputation.objects.filter(state="paid"))
    assert total == Decimal("600000.00")


def test_approve_by_reviewer_pay_by_finance_only(demo):
    p = make_project(demo)
    _audited(demo, p, 2025, "1000000.00", reason="审计")
    grant_compute(year=2025, actor=demo.reviewer)
    g = GrantComputation.objects.get()
    with pytest.raises(PermissionDeniedError):
        figure_approve(figure=g, actor=demo.finance)
    with pytest.raises(TransitionNotAllowed):
        figure_pay(figure=g, actor=demo.finance, amount=g.amount, paid_on=date(2026, 1, 1), voucher="v")
    figure_approve(figure=g, actor=demo.reviewer)
    with pytest.raises(PermissionDeniedError):
        figure_pay(figure=g, actor=demo.reviewer, amount=g.amount, paid_on=date(2026, 1, 1), voucher="v")
    with pytest.raises(TransitionNotAllowed):
        figure_approve(figure=g, actor=demo.reviewer)


def test_compute_ignores_blacklisted_enterprise_r17(demo):
    p1 = make_project(demo, demo.ent1)
    p2 = make_project(demo, demo.ent2)
    _audited(demo, p1, 2025, "1000000.00", reason="审计")
    _audited(demo, p2, 2025, "1000000.00", reason="审计")
    organization_blacklist(organization=demo.ent2, actor=demo.reviewer, reason="虚报研发投入", evidence=pdf_file("证据.pdf"))
    result = grant_compute(year=2025, actor=demo.reviewer)
    assert list(GrantComputation.objects.values_list("enterprise_id", flat=True)) == [demo.ent1.pk]
    assert result.run.summary["excluded"] == [{"enterprise": demo.ent2.pk, "name": demo.ent2.name,
                                              "rule": "R17", "reason": "blacklisted"}]


def test_blacklisted_enterprise_figure_cannot_be_approved_r17(demo):
    p = make_project(demo, demo.ent2)
    _audited(demo, p, 2025, "1000000.00", reason="审计")
    grant_compute(year=2025, actor=demo.reviewer)
    organization_blacklist(organization=demo.ent2, actor=demo.reviewer, reason="失信", evidence=pdf_file("证据.pdf"))
    with pytest.raises(DomainError) as err:
        figure_approve(figure=GrantComputation.objects.get(), actor=demo.reviewer)
    assert err.value.rule == "R17"


def test_scheme_version_change_affects_later_years_only_r19(demo):
    """A new version with another rate changes the computations dated after it and no earlier one."""
    assert scheme_for_year(2025) == demo.scheme
    p = make_project(demo)
    _audited(demo, p, 2025, "1000000.00", reason="审计")
    _audited(demo, p, 2026, "1000000.00", reason="审计")
    grant_compute(year=2025, actor=demo.reviewer)
    grant_compute(year=2026, actor=demo.reviewer)  # the trial lapsed: the latest version started by then
    assert GrantComputation.objects.get(year=2026).amount == Decimal("300000.00")
    v2 = SchemeVersion.objects.create(name="2026 版", valid_from=date(2026, 3, 9), grant_rate=Decimal("0.2500"),
                                      grant_cap=Decimal("2000000.00"))
    grant_compute(year=2025, actor=demo.reviewer)
    grant_compute(year=2026, actor=demo.reviewer)
    g2025 = GrantComputation.objects.get(year=2025)
    assert (g2025.version, g2025.amount, g2025.scheme) == (1, Decimal("300000.00"), demo.scheme)
    g2026 = GrantComputation.objects.get(year=2026, state="computed")
    assert (g2026.version, g2026.amount, g2026.scheme) == (2, Decimal("250000.00"), v2)
    assert g2026.trace["scheme"]["grant_rate"] == "0.2500"


def test_no_scheme_for_a_year_before_the_scheme_r19(demo):
    with pytest.raises(DomainError) as err:
        grant_compute(year=2024, actor=demo.reviewer)
    assert err.value.rule == "R19"


def test_only_reviewer_computes(demo):
    with pytest.raises(PermissionDeniedError):
        grant_compute(year=2025, actor=demo.enterprise)
