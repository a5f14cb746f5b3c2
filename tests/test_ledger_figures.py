"""A platform's receipts come from one escrow selector: per project (I5), per platform and kind (R17), per kind."""
from decimal import Decimal

import pytest

from escrow import accounts as codes
from escrow.selectors import custody_project_ids, platform_receipts, pool_moves, project_postings
from subsidies.selectors import ledger_inputs
from subsidies.tests.factories import at, make_project, release

pytestmark = pytest.mark.django_db


def test_one_selector_answers_every_question_about_a_platforms_receipts(demo, ledger_ok):
    p = make_project(demo, amounts=("1000000.00", "2000000.00", "500000.00"))
    other = make_project(demo, platform=demo.plat2)
    release(p, 1, "1000000.00", on=at(2025, 6, 1))
    release(p, 2, "200000.00", on=at(2025, 12, 31, 23), kind="forfeit")  # 31 Dec 23:00 Shanghai → 2025
    release(p, 3, "500000.00", on=at(2026, 1, 1, 0))
    release(other, 1, "300000.00", on=at(2025, 3, 1))

    assert platform_receipts(by="project", year=2025) == {p.pk: Decimal("1200000.00"), other.pk: Decimal("300000.00")}
    assert platform_receipts(by="project", year=2025) == ledger_inputs(2025)  # I5 reads the same figure
    assert platform_receipts(by="project", year=2025, project_ids=[other.pk]) == {other.pk: Decimal("300000.00")}
    assert platform_receipts(by="platform", year=2025) == {
        (demo.plat1.pk, "release"): Decimal("1000000.00"), (demo.plat1.pk, "forfeit"): Decimal("200000.00"),
        (demo.plat2.pk, "release"): Decimal("300000.00")}
    assert platform_receipts(by="kind", platform_id=demo.plat1.pk) == {
        "release": Decimal("1500000.00"), "forfeit": Decimal("200000.00")}  # all years
    assert custody_project_ids(year=2026) == {p.pk}
    assert {posting.account.code for posting in project_postings(other.pk)} >= {codes.custody(other.pk, 1)}
    assert set(pool_moves(year=2025)) <= {"in", "out", "losses"}


def test_account_codes_and_their_families_come_from_one_module():
    assert codes.custody(7, 2).startswith(codes.custody_of_project(7))
    assert not codes.custody(17, 2).startswith(codes.custody_of_project(1))  # "custody:1:" is not "custody:17:"
    assert codes.custody_project_id(codes.custody(7, 2)) == 7 and codes.custody_project_id(codes.pool_advanced(7)) is None
    assert codes.is_platform(codes.ext_platform(3)) and codes.is_enterprise(codes.ext_enterprise(3))
    assert codes.is_external(codes.ext_platform(3)) and not codes.is_external(codes.POOL_AVAILABLE)
