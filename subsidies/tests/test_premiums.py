"""Premium subsidy (R9, I6, I8, R20) and property tests of both computations."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import money
from projects.tests.factories import pdf_file
from subsidies.models import InsurancePolicy, PremiumSubsidy
from subsidies.services import (
    figure_approve,
    figure_pay,
    grant_figure,
    other_subsidy_create,
    policy_create,
    premium_compute,
    premium_figure,
)

from .factories import make_project

RATE, CAP = Decimal("0.8000"), Decimal("500000.00")
GRATE, GCAP = Decimal("0.3000"), Decimal("3000000.00")


def _policy(demo, project, premium, type="rd_loss", start=date(2025, 4, 1), insured="enterprise", document=True):
    return policy_create(actor=demo.enterprise if project.enterprise == demo.ent1 else demo.reviewer,
                         project=project, insurer=demo.insurer, type=type, premium=Decimal(premium),
                         cover=Decimal("8000000.00"), start_date=start, end_date=date(start.year + 1, 3, 31),
                         insured=insured, document=pdf_file("保单.pdf") if document else None)


@pytest.mark.django_db
def test_worked_example_4_premium_700000_capped_then_reduced_by_other_policy(demo):
    """domain.md example 4: 700,000 → 560,000 → cap 500,000; another policy paid 350,000 → we pay 150,000."""
    p = make_project(demo)
    policy = _policy(demo, p, "700000.00")
    premium_compute(year=2025, actor=demo.reviewer)
    v1 = PremiumSubsidy.objects.get(enterprise=demo.ent1, year=2025)
    assert (v1.amount, v1.uncapped_amount, v1.capped) == (Decimal("500000.00"), Decimal("560000.00"), True)
    other_subsidy_create(actor=demo.reviewer, enterprise=demo.ent1, policy_name="临安区科创保险保费补助",
                         issuer="临安区", type="rd_loss", year=2025, amount=Decimal("350000.00"),
                         premium_covered=Decimal("700000.00"), policy=policy)
    premium_compute(year=2025, actor=demo.reviewer)
    v2 = PremiumSubsidy.objects.get(enterprise=demo.ent1, year=2025, version=2)
    assert v2.amount == Decimal("150000.00")
    t = v2.trace["premiums"][0]
    assert (t["best_single"], t["others_total"], t["due"]) == ("500000.00", "350000.00", "150000.00")
    assert v2.amount + Decimal(t["others_total"]) == Decimal("500000.00")


@pytest.mark.django_db
def test_premium_cap_is_per_enterprise_per_year_i6(demo):
    p1, p2 = make_project(demo), make_project(demo)
    _policy(demo, p1, "400000.00")
    _policy(demo, p2, "300000.00", type="transformation")
    _policy(demo, p2, "300000.00", start=date(2026, 4, 1))  # another year
    premium_compute(year=2025, actor=demo.reviewer)
    s = PremiumSubsidy.objects.get(year=2025)
    assert (s.amount, s.uncapped_amount, s.capped) == (Decimal("500000.00"), Decimal("560000.00"), True)
    assert s.trace["year_cap_applied"] is True


@pytest.mark.django_db
def test_other_type_subsidy_does_not_reduce_ours_r20(demo):
    p = make_project(demo)
    _policy(demo, p, "100000.00")
    other_subsidy_create(actor=demo.reviewer, enterprise=demo.ent1, policy_name="余杭区成果转化险补助",
                         issuer="余杭区", type="transformation", year=2025, amount=Decimal("50000.00"))
    premium_compute(year=2025, actor=demo.reviewer)
    assert PremiumSubsidy.objects.get().amount == Decimal("80000.00")


@pytest.mark.django_db
def test_platform_insured_policy_gets_no_enterprise_premium_subsidy(demo):
    p = make_project(demo)
    _policy(demo, p, "100000.00", insured="platform")
    premium_compute(year=2025, actor=demo.reviewer)
    assert not PremiumSubsidy.objects.exists()


@pytest.mark.django_db
def test_premium_approve_and_pay(demo):
    p = make_project(demo)
    _policy(demo, p, "123456.78")
    premium_compute(year=2025, actor=demo.reviewer)
    s = PremiumSubsidy.objects.get()
    assert s.amount == Decimal("98765.42")  # 0.8 × 123,456.78 = 98,765.424 → half-up at the fen
    figure_approve(figure=s, actor=demo.reviewer)
    s = figure_pay(figure=s, actor=demo.finance, amount=Decimal("98765.42"), paid_on=date(2026, 1, 10),
                   voucher="财付2026-001")
    assert (s.state, s.paid_amount, s.voucher) == ("paid", Decimal("98765.42"), "财付2026-001")
    premium_compute(year=2025, actor=demo.reviewer)  # unchanged inputs: nothing new
    assert PremiumSubsidy.objects.count() == 1


@pytest.mark.django_db
def test_premium_compute_ignores_blacklisted_enterprise_r17(demo):
    from core.services import organization_blacklist

    p = make_project(demo, demo.ent2)
    _policy(demo, p, "100000.00")
    organization_blacklist(organization=demo.ent2, actor=demo.reviewer, reason="提供虚假材料", evidence=pdf_file("证据.pdf"))
    r = premium_compute(year=2025, actor=demo.reviewer)
    assert not PremiumSubsidy.objects.exists()
    assert r.excluded[0]["enterprise"] == demo.ent2.pk


# -- property tests ------------------------------------------------------------

cents = st.integers(min_value=0, max_value=2_000_000_000).map(lambda n: Decimal(n) / 100)
project_st = st.fixed_dictionaries({"input": cents, "claims": cents})


@settings(max_examples=300, deadline=None)
@given(st.lists(project_st, min_size=0, max_size=8))
def test_property_grant_between_zero_and_cap_and_uncapped_when_under(projects):
    fig = grant_figure(rate=GRATE, cap=GCAP, projects=projects)
    exact = sum((GRATE * max(p["input"] - p["claims"], 0) for p in projects), Decimal(0))
    assert Decimal("0.00") <= fig.amount <= GCAP
    assert fig.amount == fig.amount.quantize(Decimal("0.01"))
    if money(exact) <= GCAP:  # I4: a sum over the cap by less than half a fen rounds to it, and is no cut
        assert fig.amount == fig.uncapped == money(exact) and not fig.capped
    else:
        assert fig.amount == GCAP and fig.capped and fig.uncapped == money(exact)


premium_st = st.integers(min_value=1, max_value=200_000_000).map(lambda n: Decimal(n) / 100)
other_st = st.integers(min_value=1, max_value=80_000_000).map(lambda n: Decimal(n) / 100)


@settings(max_examples=300, deadline=None)
@given(premium=premium_st, others=st.lists(other_st, max_size=3))
def test_property_premium_plus_same_type_never_exceeds_best_single_policy_i8(premium, others):
    fig = premium_figure(rate=RATE, cap=CAP, policies=[{"policy": 1, "type": "rd_loss", "premium": premium}],
                         others=[{"name": "外区政策", "issuer": "外区", "type": "rd_loss", "amount": a, "policy": 1}
                                 for a in others])
    ours_alone = money(min(RATE * premium, CAP))
    best_single = max([ours_alone, *others])
    total_others = sum(others, Decimal(0))
    assert Decimal(0) <= fig.amount <= ours_alone <= CAP
    # ours pays only the difference up to the best single policy (possibly 0)
    assert fig.amount == max(best_single - total_others, Decimal("0.00"))
    if total_others <= best_single:
        assert fig.amount + total_others == best_single
    else:  # what others already paid cannot be undone; ours adds nothing
        assert fig.amount == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["rd_loss", "transformation"]), premium_st), min_size=1, max_size=5),
       st.lists(st.tuples(st.sampled_from(["rd_loss", "transformation"]), other_st), max_size=4))
def test_property_premium_total_within_cap_and_per_premium_best_i12(policies, others):
    """I12: the others are each recorded on one premium (policy index modulo the count)."""
    fig = premium_figure(rate=RATE, cap=CAP,
                         policies=[{"policy": i, "type": t, "premium": p} for i, (t, p) in enumerate(policies)],
                         others=[{"name": "n", "issuer": "i", "type": t, "amount": a, "policy": k % len(policies)}
                                 for k, (t, a) in enumerate(others)])
    assert Decimal(0) <= fig.amount <= CAP
    for row in fig.trace["premiums"]:
        mine = Decimal(row["due"])
        assert mine + Decimal(row["others_total"]) <= max(Decimal(row["best_single"]), Decimal(row["others_total"]))


@pytest.mark.django_db
def test_blacklisted_enterprise_cannot_file_a_policy_r17(demo):
    from core.exceptions import DomainError
    from core.services import organization_blacklist

    p = make_project(demo, demo.ent2)
    organization_blacklist(organization=demo.ent2, actor=demo.reviewer, reason="虚假材料", evidence=pdf_file("证据.pdf"))
    with pytest.raises(DomainError) as err:
        _policy(demo, p, "100000.00")
    assert err.value.rule == "R17"
    assert not InsurancePolicy.objects.exists()


def test_cap_flag_is_decided_at_the_fen_i4():
    """30 % × 10,000,000.01 = 3,000,000.003: the grant is the cap, and a cut that rounds to ¥0.00 is no cut
    (the figure is not flagged capped). The premium subsidy decides its flag at the fen too."""
    at_cap = grant_figure(rate=GRATE, cap=GCAP, projects=[{"input": Decimal("10000000.01"), "claims": Decimal(0)}])
    assert (at_cap.amount, at_cap.uncapped, at_cap.capped) == (GCAP, GCAP, False)
    assert at_cap.trace["cap_cut"] == "0.00"
    over = grant_figure(rate=GRATE, cap=GCAP, projects=[{"input": Decimal("10000000.02"), "claims": Decimal(0)}])
    assert (over.amount, over.capped, over.trace["cap_cut"]) == (GCAP, True, "0.01")

    def premium(amount):
        return premium_figure(rate=RATE, cap=CAP, policies=[{"type": "rd_loss", "premium": Decimal(amount)}], others=[])

    assert (premium("625000.00").amount, premium("625000.00").capped) == (CAP, False)  # 80 % is exactly the cap
    assert premium("625000.01").capped  # 500,000.008 → 500,000.01 > cap


@pytest.mark.django_db
def test_other_subsidy_is_for_an_enterprise_and_amounts_are_not_rounded_r20_i4(demo):
    from core.exceptions import DomainError
    from subsidies.models import OtherPolicySubsidy

    common = {"policy_name": "临安区科创保险保费补助", "issuer": "临安区", "type": "rd_loss", "year": 2025}
    with pytest.raises(DomainError) as err:
        other_subsidy_create(actor=demo.reviewer, enterprise=demo.plat1, amount=Decimal("1000.00"), **common)
    assert (err.value.code, err.value.rule) == ("not_an_enterprise", "R20")
    with pytest.raises(DomainError) as err:  # money() would have made it 1,000.01 without a word
        other_subsidy_create(actor=demo.reviewer, enterprise=demo.ent1, amount="1000.005", **common)
    assert err.value.rule == "I4"
    with pytest.raises(DomainError) as err:
        _policy(demo, make_project(demo), "700000.004")
    assert err.value.rule == "I4" and "premium" in err.value.fields
    assert not OtherPolicySubsidy.objects.exists() and not InsurancePolicy.objects.exists()
