"""Decisions added after the first release (domain.md): I10, I11, I12, I18, and R17 / R12 made exact,
through the services and the API, with the worked examples' figures to the fen."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.exceptions import DomainError
from core.services import organization_blacklist
from projects.models import Project
from projects.services import project_accept
from projects.tests.factories import pdf_file, project_at
from subsidies.models import GrantComputation, InsuranceClaim, InsurancePolicy, PremiumSubsidy
from subsidies.services import (
    audit_save,
    claim_create,
    figure_approve,
    figure_pay,
    figure_settlement,
    grant_compute,
    other_subsidy_create,
    policy_attach_document,
    policy_create,
    premium_compute,
)

from .factories import at, make_project, release, with_opinion

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def _policy(demo, project, premium="100000.00", *, insured="enterprise", type="rd_loss", start=date(2025, 4, 1),
            document=True, actor=None):
    return policy_create(actor=actor or demo.reviewer, project=project, insurer=demo.insurer, type=type,
                         premium=Decimal(premium), cover=Decimal("8000000.00"), start_date=start,
                         end_date=date(start.year + 1, 3, 31), insured=insured,
                         document=pdf_file("保单.pdf") if document else None)


def _evaluated(demo, project, year, amount, reason=""):
    audit = audit_save(actor=demo.auditor, project=project, year=year, audited_input=Decimal(amount), reason=reason)
    return with_opinion(audit)


def _grant(ent, year) -> GrantComputation:
    return GrantComputation.objects.filter(enterprise=ent, year=year).order_by("-version").first()


# -- I10: which claims reduce the grant, in which year; recoveries ---------------------------------------

def test_i10_worked_example_6_recovery_netted_from_the_next_payment_to_the_fen(demo, ledger_ok):
    """2025 input 8,000,000 audited, grant 2,400,000 approved and paid in January 2026; on 2026-01-15 the
    insurer pays the enterprise 1,000,000 for a 2025 failure: 2025 recomputed is 2,100,000, a recovery of
    300,000; the 2026 grant of 900,000 is paid as 600,000 and the recovery is settled."""
    p25 = make_project(demo, amounts=("8000000.00",), title="2025 年项目")
    release(p25, 1, "8000000.00", on=at(2025, 9, 1))
    _evaluated(demo, p25, 2025, "8000000.00")
    grant_compute(year=2025, actor=demo.reviewer)
    v1 = figure_approve(figure=_grant(demo.ent1, 2025), actor=demo.reviewer)
    assert v1.amount == Decimal("2400000.00")
    v1 = figure_pay(figure=v1, actor=demo.finance, amount=Decimal("2400000.00"), paid_on=date(2026, 1, 10),
                    voucher="萧财拨〔2026〕1号")
    assert (v1.state, v1.paid_amount) == ("paid", Decimal("2400000.00"))

    # the late claim: its loss year is that of the failed milestone's decision (2025), not of the payment
    milestone = p25.milestones.get(seq=1)
    type(milestone).objects.filter(pk=milestone.pk).update(decided_at=at(2025, 12, 20))
    milestone = type(milestone).objects.get(pk=milestone.pk)
    policy = _policy(demo, p25)
    claim = claim_create(actor=demo.reviewer, policy=policy, milestone=milestone, assessed_loss=Decimal("1200000.00"),
                         paid_amount=Decimal("1000000.00"), paid_on=date(2026, 1, 15))
    assert claim.loss_year == 2025
    grant_compute(year=2025, actor=demo.reviewer)
    v2 = _grant(demo.ent1, 2025)
    assert (v2.version, v2.amount, v2.recovery, v2.state) == (2, Decimal("2100000.00"), Decimal("300000.00"),
                                                               "computed")
    assert v2.trace["previously_paid"] == "2400000.00"
    assert v1.__class__.objects.get(pk=v1.pk).state == "paid"  # a paid version is never changed
    v2 = figure_approve(figure=v2, actor=demo.reviewer)
    assert v2.recovery_outstanding == Decimal("300000.00")
    with pytest.raises(DomainError) as err:  # a version below what was paid is not paid: it is recovered
        figure_pay(figure=v2, actor=demo.finance, amount=Decimal("0.00"), paid_on=date(2026, 2, 1), voucher="x")
    assert (err.value.code, err.value.rule) == ("recovery_pending", "I10")
    # the claim paid in 2026 does not touch 2026
    p26 = make_project(demo, amounts=("3000000.00",), title="2026 年项目")
    release(p26, 1, "3000000.00", on=at(2026, 6, 1))
    _evaluated(demo, p26, 2026, "3000000.00")
    grant_compute(year=2026, actor=demo.reviewer)
    g26 = figure_approve(figure=_grant(demo.ent1, 2026), actor=demo.reviewer)
    assert g26.amount == Decimal("900000.00")
    plan = figure_settlement(g26)
    assert (plan.due, plan.netted, plan.cash) == (Decimal("900000.00"), Decimal("300000.00"), Decimal("600000.00"))
    with pytest.raises(DomainError) as err:  # paying the whole 900,000 would pay the recovery twice
        figure_pay(figure=g26, actor=demo.finance, amount=Decimal("900000.00"), paid_on=date(2027, 1, 20),
                   voucher="萧财拨〔2027〕2号")
    assert err.value.code == "amount_mismatch" and "amount" in err.value.fields
    g26 = figure_pay(figure=g26, actor=demo.finance, amount=Decimal("600000.00"), paid_on=date(2027, 1, 20),
                     voucher="萧财拨〔2027〕2号")
    assert (g26.state, g26.paid_amount, g26.netted) == ("paid", Decimal("600000.00"), Decimal("300000.00"))
    assert g26.netted_from == [{"kind": "grant", "id": v2.pk, "year": 2025, "version": 2, "amount": "300000.00"}]
    v2 = type(v2).objects.get(pk=v2.pk)
    assert (v2.state, v2.recovered, v2.recovery_outstanding, v2.paid_amount) == (
        "paid", Decimal("300000.00"), Decimal("0.00"), Decimal("0.00"))
    # settled: 2025 gave 2,400,000 − 300,000 = 2,100,000; 2026 gave 600,000 + 300,000 = 900,000
    assert sum(r.settled_value for r in GrantComputation.objects.filter(year=2025)) == Decimal("2100000.00")
    assert sum(r.settled_value for r in GrantComputation.objects.filter(year=2026)) == Decimal("900000.00")
    assert figure_settlement(g26).netted == 0  # nothing left to net: never netted twice
    # the auditor's year at a glance says the same: one grant of 2,100,000 for 2025, given 2,100,000
    from dashboards.selectors import year_at_a_glance

    glance = year_at_a_glance(2025)
    assert dict(glance["rows"])["研发投入资助"] == Decimal("2100000.00") and glance["grants_paid"] == Decimal("2100000.00")


def _paid_then_recovered(demo, p) -> GrantComputation:
    """Example 6's 2025 on project ``p``: 2,400,000 paid, then a 1,000,000 claim for 2025 paid on 2026-01-15;
    answers the approved version 2 (2,100,000, recovery 300,000)."""
    release(p, 1, "8000000.00", on=at(2025, 9, 1))
    _evaluated(demo, p, 2025, "8000000.00")
    grant_compute(year=2025, actor=demo.reviewer)
    v1 = figure_approve(figure=_grant(demo.ent1, 2025), actor=demo.reviewer)
    figure_pay(figure=v1, actor=demo.finance, amount=Decimal("2400000.00"), paid_on=date(2026, 1, 10), voucher="v1")
    claim_create(actor=demo.reviewer, policy=_policy(demo, p), assessed_loss=Decimal("1000000.00"),
                 paid_amount=Decimal("1000000.00"), paid_on=date(2026, 1, 15), loss_year=2025)
    grant_compute(year=2025, actor=demo.reviewer)
    return figure_approve(figure=_grant(demo.ent1, 2025), actor=demo.reviewer)


def test_i10_recovery_larger_than_the_next_payment_is_netted_in_part_and_kept(demo, ledger_ok):
    p = make_project(demo, amounts=("8000000.00",))
    v2 = _paid_then_recovered(demo, p)
    # the next payment is a premium subsidy of 80,000 (another kind): 80,000 of the 300,000 is netted
    _policy(demo, p, "100000.00", start=date(2026, 4, 1))
    premium_compute(year=2026, actor=demo.reviewer)
    prem = figure_approve(figure=PremiumSubsidy.objects.get(year=2026), actor=demo.reviewer)
    prem = figure_pay(figure=prem, actor=demo.finance, amount=Decimal("0.00"), paid_on=date(2026, 5, 1), voucher="")
    assert (prem.netted, prem.paid_amount) == (Decimal("80000.00"), Decimal("0.00"))
    v2 = type(v2).objects.get(pk=v2.pk)
    assert (v2.state, v2.recovered, v2.recovery_outstanding) == ("approved", Decimal("80000.00"),
                                                                  Decimal("220000.00"))


def test_i10_claim_paid_to_the_platform_does_not_reduce_the_grant(demo, ledger_ok):
    p = make_project(demo, amounts=("8000000.00",))
    release(p, 1, "8000000.00", on=at(2025, 9, 1))
    _evaluated(demo, p, 2025, "8000000.00")
    platform_policy = _policy(demo, p, insured="platform")
    claim_create(actor=demo.reviewer, policy=platform_policy, assessed_loss=Decimal("1000000.00"),
                 paid_amount=Decimal("1000000.00"), paid_on=date(2025, 11, 1))
    grant_compute(year=2025, actor=demo.reviewer)
    assert _grant(demo.ent1, 2025).amount == Decimal("2400000.00")
    claim_create(actor=demo.reviewer, policy=_policy(demo, p), assessed_loss=Decimal("1000000.00"),
                 paid_amount=Decimal("1000000.00"), paid_on=date(2025, 11, 1))
    grant_compute(year=2025, actor=demo.reviewer)
    assert _grant(demo.ent1, 2025).amount == Decimal("2100000.00")


def test_i10_claim_counts_in_its_loss_year_not_the_year_paid(demo, ledger_ok):
    p = make_project(demo, amounts=("1000000.00", "1000000.00"))
    release(p, 1, "1000000.00", on=at(2025, 9, 1))
    release(p, 2, "1000000.00", on=at(2026, 3, 1))
    _evaluated(demo, p, 2025, "1000000.00")
    _evaluated(demo, p, 2026, "1000000.00")
    policy = _policy(demo, p)
    default = claim_create(actor=demo.reviewer, policy=policy, assessed_loss=Decimal("100000.00"),
                           paid_amount=Decimal("100000.00"), paid_on=date(2026, 1, 15))
    assert default.loss_year == 2026  # no milestone decision: the year of the payment
    claim_create(actor=demo.reviewer, policy=policy, assessed_loss=Decimal("200000.00"),
                 paid_amount=Decimal("200000.00"), paid_on=date(2026, 1, 20), loss_year=2025)
    grant_compute(year=2025, actor=demo.reviewer)
    grant_compute(year=2026, actor=demo.reviewer)
    assert _grant(demo.ent1, 2025).amount == Decimal("240000.00")  # 30 % × (1,000,000 − 200,000)
    assert _grant(demo.ent1, 2026).amount == Decimal("270000.00")  # 30 % × (1,000,000 − 100,000)


def test_i10_loss_year_before_the_project_started_is_refused_and_nothing_changes(demo):
    p = make_project(demo)  # started 2025-04-01
    policy = _policy(demo, p)
    with pytest.raises(DomainError) as err:
        claim_create(actor=demo.reviewer, policy=policy, assessed_loss=Decimal("1.00"), loss_year=2024)
    assert (err.value.code, err.value.rule, list(err.value.fields)) == ("loss_year_before_project", "I10",
                                                                        ["loss_year"])
    r = _client(demo.enterprise).post("/api/v1/insurance/claims/", {
        "policy": policy.pk, "assessed_loss": "100.00", "paid_amount": "100.00", "paid_on": "2025-06-01",
        "loss_year": 2024}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "I10" and "loss_year" in r.json()["fields"]
    assert not InsuranceClaim.objects.exists()
    r = _client(demo.enterprise).post("/api/v1/insurance/claims/", {
        "policy": policy.pk, "assessed_loss": "100.00", "paid_amount": "100.00", "paid_on": "2026-01-15",
        "loss_year": 2025}, format="json")
    assert r.status_code == 201 and r.json()["loss_year"] == 2025


def test_i10_loss_year_after_the_payment_is_refused_and_nothing_changes(demo):
    """A claim compensates input of its year or an earlier one: paid in January 2026, it cannot count in 2027."""
    p = make_project(demo)
    policy = _policy(demo, p)
    before = InsuranceClaim.objects.count()
    r = _client(demo.enterprise).post("/api/v1/insurance/claims/", {
        "policy": policy.pk, "assessed_loss": "100.00", "paid_amount": "100.00", "paid_on": "2026-01-15",
        "loss_year": 2027}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "I10" and "loss_year" in r.json()["fields"]
    assert InsuranceClaim.objects.count() == before


def test_i10_api_figures_carry_recovery_and_paid_amount(demo, ledger_ok):
    p = make_project(demo, amounts=("8000000.00",))
    release(p, 1, "8000000.00", on=at(2025, 9, 1))
    _evaluated(demo, p, 2025, "8000000.00")
    grant_compute(year=2025, actor=demo.reviewer)
    v1 = figure_approve(figure=_grant(demo.ent1, 2025), actor=demo.reviewer)
    fin = _client(demo.finance)
    r = fin.post(f"/api/v1/subsidies/grants/{v1.pk}/pay/", {"amount": "2400000.00", "paid_on": "2026-01-10",
                                                            "voucher": "萧财拨〔2026〕1号"}, format="json")
    assert r.status_code == 200 and r.json()["paid_amount"] == "2400000.00" and r.json()["recovery"] == "0.00"
    claim_create(actor=demo.reviewer, policy=_policy(demo, p), assessed_loss=Decimal("1000000.00"),
                 paid_amount=Decimal("1000000.00"), paid_on=date(2026, 1, 15), loss_year=2025)
    rev = _client(demo.reviewer)
    assert rev.post("/api/v1/subsidies/grants/compute/", {"year": 2025}, format="json").json()["created"] == 1
    v2 = _grant(demo.ent1, 2025)
    assert rev.post(f"/api/v1/subsidies/grants/{v2.pk}/approve/").status_code == 200
    body = _client(demo.enterprise).get(f"/api/v1/subsidies/grants/{v2.pk}/").json()
    assert (body["amount"], body["recovery"], body["recovery_outstanding"], body["paid_amount"]) == (
        "2100000.00", "300000.00", "300000.00", None)
    r = fin.post(f"/api/v1/subsidies/grants/{v2.pk}/pay/", {"amount": "0.00", "paid_on": "2026-02-01"},
                 format="json")
    assert r.status_code == 400 and r.json()["code"] == "recovery_pending"


# -- I11: which premiums are subsidised -------------------------------------------------------------------

def test_i11_draft_project_premium_is_not_subsidised(demo):
    """The issue's reproducer: a never-submitted draft with a 700,000 premium got a 500,000 subsidy."""
    draft = make_project(demo, state="draft")
    _policy(demo, draft, "700000.00")
    rejected = make_project(demo, demo.ent2, state="rejected")
    _policy(demo, rejected, "700000.00")
    premium_compute(year=2025, actor=demo.reviewer)
    assert not PremiumSubsidy.objects.exists()
    for state in ("approved", "completed", "terminated"):
        Project.objects.filter(pk=draft.pk).update(state=state)
        premium_compute(year=2025, actor=demo.reviewer)
        assert PremiumSubsidy.objects.filter(enterprise=demo.ent1).latest("version").amount == Decimal("500000.00")


def test_i11_policy_without_document_is_listed_not_subsidised_until_filed(demo):
    p = make_project(demo)
    policy = _policy(demo, p, "300000.00", document=False)
    premium_compute(year=2025, actor=demo.reviewer)
    v1 = PremiumSubsidy.objects.get()
    assert v1.amount == Decimal("0.00")
    assert [(r["policy"], r["reason"], r["rule"]) for r in v1.trace["excluded_policies"]] == [
        (policy.pk, "no_document", "I11")]
    policy_attach_document(actor=demo.enterprise, policy=policy, document=pdf_file("保单.pdf"))
    premium_compute(year=2025, actor=demo.reviewer)
    assert PremiumSubsidy.objects.latest("version").amount == Decimal("240000.00")


def test_i11_policy_bought_after_the_cooperation_started_is_flagged_for_the_reviewer(demo, client):
    p = make_project(demo)  # started 2025-04-01
    late = _policy(demo, p, "100000.00", start=date(2025, 6, 1))
    premium_compute(year=2025, actor=demo.reviewer)
    fig = PremiumSubsidy.objects.get()
    assert fig.amount == Decimal("80000.00")  # recorded and subsidised, but flagged
    assert fig.trace["after_start"] == [late.pk] and fig.trace["premiums"][0]["after_start"] is True
    client.force_login(demo.reviewer)
    html = client.get(f"/subsidies/premium/{fig.pk}/").content.decode()
    assert "合作后投保" in html and "审定" in html


# -- I12: non-duplication per premium ---------------------------------------------------------------------

def test_i12_worked_example_7_per_premium_333750(demo):
    """A 300,000 with no other subsidy → 240,000; B 312,500 on which Lin'an paid 156,250 → ours 250,000, best
    single 250,000, we pay 93,750. The year: 333,750.00 (under the 500,000 cap)."""
    p = make_project(demo)
    _policy(demo, p, "300000.00")
    b = _policy(demo, p, "312500.00")
    other_subsidy_create(actor=demo.reviewer, enterprise=demo.ent1, policy_name="临安区科创保险保费补助", issuer="临安区",
                         type="rd_loss", year=2025, amount=Decimal("156250.00"), premium_covered=Decimal("312500.00"),
                         policy=b)
    premium_compute(year=2025, actor=demo.reviewer)
    fig = PremiumSubsidy.objects.get()
    assert fig.amount == Decimal("333750.00") and not fig.capped
    rows = [tuple(Decimal(r[k]) for k in ("premium", "alone", "others_total", "best_single", "due"))
            for r in fig.trace["premiums"]]
    assert rows == [(300000, 240000, 0, 240000, 240000), (Decimal("312500"), 250000, Decimal("156250"), 250000, 93750)]


def test_i12_another_districts_payment_on_a_different_premium_never_reduces_ours(demo):
    """The issue's reproducer: our premium 300,000 (ours 240,000); another district paid 250,000 on a
    different premium (one we do not subsidise): we owe 240,000, not 0."""
    ours = make_project(demo)
    _policy(demo, ours, "300000.00")
    elsewhere = make_project(demo, state="draft")  # not in the scheme: not ours to subsidise
    theirs = _policy(demo, elsewhere, "500000.00")
    other_subsidy_create(actor=demo.reviewer, enterprise=demo.ent1, policy_name="余杭区科技保险补助", issuer="余杭区",
                         type="rd_loss", year=2025, amount=Decimal("250000.00"), policy=theirs)
    premium_compute(year=2025, actor=demo.reviewer)
    fig = PremiumSubsidy.objects.get()
    assert fig.amount == Decimal("240000.00")
    assert [o["amount"] for o in fig.trace["unattached_others"]] == ["250000.00"]


def test_i12_another_subsidy_dated_outside_its_premiums_year_is_refused_naming_year(demo):
    """Recorded on a 2025 premium but dated 2026, it would reduce no premium in 2025 and none in 2026."""
    b = _policy(demo, make_project(demo), "312500.00")
    with pytest.raises(DomainError) as err:
        other_subsidy_create(actor=demo.reviewer, enterprise=demo.ent1, policy_name="临安区科创保险保费补助",
                             issuer="临安区", type="rd_loss", year=2026, amount=Decimal("156250.00"), policy=b)
    assert (err.value.rule, list(err.value.fields)) == ("I12", ["year"])
    assert not b.other_subsidies.exists()


# -- I18: the grant waits for the whole evaluation --------------------------------------------------------

def test_i18_project_year_enters_the_grant_only_with_audit_and_acceptance_opinion(demo, ledger_ok):
    p1 = make_project(demo, amounts=("1000000.00",), title="有验收意见")
    p2 = make_project(demo, amounts=("2000000.00",), title="缺验收意见")
    release(p1, 1, "1000000.00", on=at(2025, 7, 1))
    release(p2, 1, "2000000.00", on=at(2025, 8, 1))
    a1 = _evaluated(demo, p1, 2025, "1000000.00")
    a2 = audit_save(actor=demo.auditor, project=p2, year=2025, audited_input=Decimal("2000000.00"))
    grant_compute(year=2025, actor=demo.reviewer)
    v1 = _grant(demo.ent1, 2025)
    assert v1.amount == Decimal("300000.00")
    (row,) = v1.trace["projects"]
    assert row["evaluation"]["audit"] == a1.pk and row["evaluation"]["opinion_on"]
    assert [(e["project"], e["audit"], e["opinion_on"], e["reason"], e["rule"]) for e in v1.trace["excluded"]] == [
        (p2.pk, a2.pk, None, "opinion_missing", "I18")]
    with_opinion(a2)
    grant_compute(year=2025, actor=demo.reviewer)
    assert _grant(demo.ent1, 2025).amount == Decimal("900000.00")


# -- R17 made exact --------------------------------------------------------------------------------------

def _approved_grant(demo, ent=None):
    ent = ent or demo.ent2
    p = make_project(demo, ent, amounts=("1000000.00",))
    release(p, 1, "1000000.00", on=at(2025, 7, 1))
    _evaluated(demo, p, 2025, "1000000.00")
    grant_compute(year=2025, actor=demo.reviewer)
    return _grant(ent, 2025)


def test_r17_blacklisted_enterprise_cannot_have_a_figure_approved(demo, ledger_ok):
    fig = _approved_grant(demo)
    organization_blacklist(organization=demo.ent2, actor=demo.reviewer, reason="提供虚假材料",
                           evidence=pdf_file("证据.pdf"))
    with pytest.raises(DomainError) as err:
        figure_approve(figure=fig, actor=demo.reviewer)
    assert err.value.rule == "R17"
    fig = type(fig).objects.get(pk=fig.pk)
    assert fig.state == "computed"


def test_r17_blacklisted_enterprise_is_not_paid_an_approved_figure(demo, ledger_ok):
    fig = figure_approve(figure=_approved_grant(demo), actor=demo.reviewer)
    organization_blacklist(organization=demo.ent2, actor=demo.reviewer, reason="提供虚假材料",
                           evidence=pdf_file("证据.pdf"))
    with pytest.raises(DomainError) as err:
        figure_pay(figure=fig, actor=demo.finance, amount=fig.amount, paid_on=date(2026, 1, 10), voucher="v")
    assert err.value.rule == "R17"
    r = _client(demo.finance).post(f"/api/v1/subsidies/grants/{fig.pk}/pay/", {
        "amount": str(fig.amount), "paid_on": "2026-01-10", "voucher": "v"}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "R17"
    fig = type(fig).objects.get(pk=fig.pk)
    assert (fig.state, fig.paid_amount) == ("approved", None)


# -- R12: an insured project is accepted only with its policy document -----------------------------------

def test_r12_insured_project_is_not_accepted_without_its_policy_document(demo):
    project = project_at(demo, "signed")
    policy = _policy(demo, project, document=False, actor=demo.enterprise)
    with pytest.raises(DomainError) as err:
        project_accept(project=project, actor=demo.reviewer)
    assert (err.value.code, err.value.rule, list(err.value.fields)) == ("policy_document_missing", "R12",
                                                                        ["document"])
    assert Project.objects.get(pk=project.pk).state == "signed"
    r = _client(demo.reviewer).post(f"/api/v1/projects/{project.pk}/accept/", {}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "R12" and "document" in r.json()["fields"]
    assert Project.objects.get(pk=project.pk).state == "signed"
    policy_attach_document(actor=demo.enterprise, policy=policy, document=pdf_file("保单.pdf"))
    assert project_accept(project=project, actor=demo.reviewer).state == "accepted"


def test_r12_platform_insured_policy_counts_and_uninsured_project_is_accepted(demo):
    insured = project_at(demo, "signed")
    _policy(demo, insured, insured="platform", document=False)
    with pytest.raises(DomainError) as err:
        project_accept(project=insured, actor=demo.reviewer)
    assert err.value.rule == "R12"
    plain = project_at(demo, "signed")
    assert project_accept(project=plain, actor=demo.reviewer).state == "accepted"


# -- API: the policy document with the policy or later ---------------------------------------------------

def test_policy_document_through_the_api_multipart_or_later_judged_by_the_bytes(demo):
    p = make_project(demo)
    ent = _client(demo.enterprise)
    fields = {"project": p.pk, "insurer": demo.insurer.pk, "type": "rd_loss", "premium": "300000.00",
              "cover": "5000000.00", "start_date": "2025-04-01", "end_date": "2026-03-31"}
    r = ent.post("/api/v1/insurance/policies/", {**fields, "document": pdf_file("保单.pdf")}, format="multipart")
    assert r.status_code == 201, r.json()
    with_doc = r.json()
    assert with_doc["document"].endswith(f"/insurance/policies/{with_doc['id']}/document/")
    assert ent.get(f"/api/v1/insurance/policies/{with_doc['id']}/document/").status_code == 200
    def fake():
        return pdf_file("保单.pdf", content=b"MZ\x90\x00 not a pdf at all")

    r = ent.post("/api/v1/insurance/policies/", {**fields, "document": fake()}, format="multipart")
    assert r.status_code == 400 and r.json()["rule"] == "R12" and "document" in r.json()["fields"]
    assert InsurancePolicy.objects.count() == 1
    r = ent.post("/api/v1/insurance/policies/", fields, format="json")
    assert r.status_code == 201 and r.json()["document"] is None
    later = r.json()["id"]
    r = ent.post(f"/api/v1/insurance/policies/{later}/document/", {"document": fake()}, format="multipart")
    assert r.status_code == 400 and r.json()["rule"] == "R12"
    assert not InsurancePolicy.objects.get(pk=later).document
    r = _client(demo.enterprise2).post(f"/api/v1/insurance/policies/{later}/document/",
                                       {"document": pdf_file("保单.pdf")}, format="multipart")
    assert r.status_code == 404
    r = ent.post(f"/api/v1/insurance/policies/{later}/document/", {"document": pdf_file("保单.pdf")},
                 format="multipart")
    assert r.status_code == 200 and r.json()["document"]


def test_openapi_schema_shows_loss_year_recovery_and_the_policy_document(demo):
    r = _client(demo.reviewer).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    text = r.content.decode()
    doc = r.json() if r["Content-Type"].startswith("application/json") else None
    for word in ("loss_year", "recovery", "recovery_outstanding", "netted", "PolicyDocument"):
        assert word in text, word
    if doc is not None:
        post = doc["paths"]["/api/v1/insurance/policies/{id}/document/"]["post"]
        assert "multipart/form-data" in post["requestBody"]["content"]


# -- I10 shown: the finance officer's page, the enterprise's page, the subsidy decision PDF ----------------

@pytest.fixture
def recovery(demo):
    """2025: 8,000,000 audited, 2,400,000 paid; a 1,000,000 claim for 2025 paid on 2026-01-15: v2 2,100,000
    approved with a recovery of 300,000; 2026: 900,000 approved, not paid yet."""
    p = make_project(demo, amounts=("8000000.00", "3000000.00"))
    v2 = _paid_then_recovered(demo, p)
    release(p, 2, "3000000.00", on=at(2026, 6, 1))
    _evaluated(demo, p, 2026, "3000000.00")
    grant_compute(year=2026, actor=demo.reviewer)
    g26 = figure_approve(figure=_grant(demo.ent1, 2026), actor=demo.reviewer)
    return v2, g26


def test_i10_recovery_on_the_finance_officers_and_the_enterprises_pages(demo, client, recovery, ledger_ok):
    v2, g26 = recovery
    client.force_login(demo.finance)
    html = client.get(f"/subsidies/grant/{v2.pk}/").content.decode()
    assert "追回" in html and "¥300,000.00" in html
    html = client.get("/subsidies/?year=2025").content.decode()
    assert "¥300,000.00" in html
    html = client.get(f"/subsidies/grant/{g26.pk}/").content.decode()
    assert "¥900,000.00" in html and "¥300,000.00" in html and "¥600,000.00" in html  # due, netted, to pay
    r = client.post(f"/subsidies/grant/{g26.pk}/pay/", {"amount": "600000.00", "paid_on": "2027-01-20",
                                                         "voucher": "萧财拨〔2027〕2号"})
    assert r.status_code == 302
    assert GrantComputation.objects.get(pk=g26.pk).netted == Decimal("300000.00")
    client.force_login(demo.enterprise)
    html = client.get("/subsidies/").content.decode()
    assert "追回 ¥300,000.00" in html and "已抵扣追回款 ¥300,000.00" in html


def test_i10_recovery_on_the_subsidy_decision_pdf(demo, recovery, ledger_ok):
    from reports import documents
    from reports.tests.pdfcheck import squeeze, text

    out = documents.subsidy_decision(demo.ent1.pk, 2025, number="萧科安补〔2026〕9号", issued_on=date(2026, 2, 1))
    body = squeeze(text(out.content))
    assert "¥2,100,000.00" in body and "追回" in body and "¥300,000.00" in body


def test_policy_page_files_the_document_later_and_claims_take_a_loss_year(demo, client):
    p = make_project(demo)
    policy = _policy(demo, p, document=False)
    client.force_login(demo.enterprise)
    bad = pdf_file("保单.pdf", content=b"GIF87 not really")
    client.post(f"/subsidies/insurance/{policy.pk}/", {"document": bad})
    assert not InsurancePolicy.objects.get(pk=policy.pk).document
    r = client.post(f"/subsidies/insurance/{policy.pk}/", {"document": pdf_file("保单.pdf")})
    assert r.status_code == 302 and InsurancePolicy.objects.get(pk=policy.pk).document
    r = client.post(f"/subsidies/insurance/{policy.pk}/", {"assessed_loss": "100.00", "paid_amount": "100.00",
                                                           "paid_on": "2026-01-15", "loss_year": "2025"})
    assert r.status_code == 302 and InsuranceClaim.objects.get().loss_year == 2025
