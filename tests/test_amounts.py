"""Amounts as people write them ("3,000,000", "¥3,000,000.00", "300万"), each amount field saying what it takes;
one amount shown once; a refused submission's banner names what to change."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from projects.tests.test_views import ROWS, form_data

pytestmark = pytest.mark.django_db


def banner(html: str) -> list[str]:
    found = re.search(r'<div class="card error" id="form-errors".*?</div>', html, re.S)
    assert found, "no banner"
    return [" ".join(re.sub(r"<[^>]+>", " ", li).split()) for li in re.findall(r"<li>(.*?)</li>", found.group(0), re.S)]


def test_proposal_form_takes_amounts_with_commas_yen_and_wan(demo, client):
    from projects.models import Project

    client.force_login(demo.enterprise)
    rows = [dict(ROWS[0], amount="200万", deposit_amount="¥200,000.00"), dict(ROWS[1], amount="1,800,000"),
            dict(ROWS[2], amount="120万元", deposit_amount="12万")]
    client.post(reverse("projects:create"), form_data(demo, rows, total_amount="600万", equipment_amount="¥1,000,000",
                                                      budget="2,000,000.00", save="1", submit=""))
    project = Project.objects.get()
    assert (project.total_amount, project.equipment_amount, project.budget) == (
        Decimal("6000000.00"), Decimal("1000000.00"), Decimal("2000000.00"))
    assert [(m.amount, m.deposit_amount) for m in project.milestones.order_by("seq")] == [
        (Decimal("2000000.00"), Decimal("200000.00")), (Decimal("1800000.00"), Decimal("180000.00")),
        (Decimal("1200000.00"), Decimal("120000.00"))]


def test_every_amount_field_of_the_proposal_form_says_what_it_accepts(demo, client):
    client.force_login(demo.enterprise)
    html = client.get(reverse("projects:create")).content.decode()
    for name in ("total_amount", "equipment_amount", "budget", "ms-0-amount", "ms-0-deposit_amount"):
        assert re.search(rf'id="id_{name}"[^>]*aria-describedby="id_{name}_helptext"', html) or re.search(
            rf'aria-describedby="id_{name}_helptext"[^>]*id="id_{name}"', html), name
        assert f'id="id_{name}_helptext">可填 3,000,000、¥3,000,000.00 或 300万' in html, name


def test_a_refused_submission_names_each_thing_to_change_after_its_header(demo, client):
    from core.tests.factories import scheme_in_force

    scheme_in_force()
    client.force_login(demo.enterprise)
    rows = [dict(ROWS[0], amount="1200000.00", deposit_amount="119999.99"),
            dict(ROWS[1], amount="2600000.00", deposit_amount="260000.00"), ROWS[2]]
    html = client.post(reverse("projects:create"), form_data(demo, rows, equipment_amount="1000000.00",
                                                             budget="1200000.00")).content.decode()
    items = banner(html)
    header = items.index("草稿已保存，但未能提交申报，请按提示修改：")
    assert items[header + 1:], items
    assert any(i.startswith("里程碑 1 · 约定保证金") and "低于阶段经费" in i for i in items), items


def test_payment_instructions_show_one_amount_when_the_minimum_is_the_whole_tranche(demo, client):
    from projects import milestones as ms
    from projects.tests.factories import tranche_project as approved_project

    whole = approved_project(demo, tranches=[("1000000.00", "1000000.00")], title="保证金即全额的项目")
    ms.project_open_escrow(project=whole, actor=demo.reviewer)
    part = approved_project(demo, tranches=[("1000000.00", "100000.00")], title="保证金一成的项目")
    ms.project_open_escrow(project=part, actor=demo.reviewer)
    client.force_login(demo.enterprise)
    html = client.get(reverse("projects:detail", args=[whole.pk])).content.decode()
    assert "金额 ¥1,000,000.00</div>" in html and "¥1,000,000.00 – ¥1,000,000.00" not in html
    html = client.get(reverse("projects:detail", args=[part.pk])).content.decode()
    assert "金额 ¥100,000.00 – ¥1,000,000.00</div>" in html


def test_a_loan_of_300_wan_is_three_million(demo):
    from rest_framework.test import APIClient

    from projects.loans.models import GuaranteeLoan
    from projects.tests.factories import tranche_project as approved_project

    project = approved_project(demo, tranches=[("1500000.00", "150000.00")], budget="1500000.00")
    api = APIClient()
    api.force_authenticate(demo.enterprise)
    r = api.post(f"/api/v1/projects/{project.pk}/loans/", {"lender": "银行", "guarantor": "担保公司", "amount": "300万",
                                                          "rate": "3.85", "term_months": 12, "purpose": "研发"},
                 format="json")
    assert r.status_code == 201, r.content[:300]
    assert GuaranteeLoan.objects.get().amount == Decimal("3000000.00")
