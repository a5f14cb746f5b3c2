"""Every step that waits on someone tells them (in-app notice, e-mail by a task): computed figures wait
for the bureau's approval, a year's audit waits for the enterprise's acceptance opinion (R15)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.choices import Role
from core.models import Notification
from core.services import users_with_role
from subsidies.services import audit_save, grant_compute, policy_create, premium_compute, subsidies_prepare_year

from .factories import at, make_project, release, with_opinion

pytestmark = pytest.mark.django_db


def _reviewers() -> set[int]:
    return set(users_with_role(Role.REVIEWER).values_list("pk", flat=True))


def _notified(verb: str) -> list[int]:
    return list(Notification.objects.filter(verb=verb).values_list("user_id", flat=True))


def _audited(demo, project, amount="3000000.00"):
    return with_opinion(audit_save(actor=demo.auditor, project=project, year=2025, audited_input=Decimal(amount)))


def _policy(demo, project):
    return policy_create(actor=demo.reviewer, project=project, insurer=demo.insurer, type="rd_loss",
                         premium=Decimal("100000.00"), cover=Decimal("5000000.00"), start_date=date(2025, 4, 1),
                         end_date=date(2026, 3, 31))


def test_grant_computation_tells_the_reviewers_once_per_run_that_made_new_figures(demo, ledger_ok):
    p = make_project(demo)
    release(p, 1, "3000000.00", on=at(2025, 7, 1))
    _audited(demo, p)
    grant_compute(year=2025, actor=demo.reviewer)
    assert sorted(_notified("subsidy_to_approve")) == sorted(_reviewers())
    notice = Notification.objects.get(verb="subsidy_to_approve", user=demo.reviewer)
    assert "2025" in notice.text and "1 项" in notice.text
    assert notice.url == "/subsidies/?year=2025"
    assert not Notification.objects.filter(verb="subsidy_to_approve").exclude(user__in=_reviewers()).exists()
    grant_compute(year=2025, actor=demo.reviewer)  # same result: nothing new waits
    assert len(_notified("subsidy_to_approve")) == len(_reviewers())


def test_premium_computation_tells_the_reviewers_and_nobody_else(demo):
    _policy(demo, make_project(demo))
    _policy(demo, make_project(demo, enterprise=demo.ent2))
    premium_compute(year=2025, actor=demo.reviewer)
    assert sorted(_notified("subsidy_to_approve")) == sorted(_reviewers())
    notice = Notification.objects.get(verb="subsidy_to_approve", user=demo.reviewer)
    assert "2 项" in notice.text
    premium_compute(year=2025, actor=demo.reviewer)
    assert len(_notified("subsidy_to_approve")) == len(_reviewers())


def test_yearly_job_tells_the_reviewers_of_each_computation_with_new_figures(demo):
    _policy(demo, make_project(demo))
    subsidies_prepare_year(year=2025)  # premiums only: no project has ledger input or an audit
    assert len(_notified("subsidy_to_approve")) == len(_reviewers())
    subsidies_prepare_year(year=2025)
    assert len(_notified("subsidy_to_approve")) == len(_reviewers())


def test_audit_tells_the_projects_enterprise_to_give_its_opinion_r15(demo, ledger_ok):
    p = make_project(demo)
    release(p, 1, "3000000.00", on=at(2025, 7, 1))
    audit = _audited(demo, p)
    assert _notified("audit_opinion_due") == [demo.enterprise.pk]
    notice = Notification.objects.get(verb="audit_opinion_due")
    assert p.title in notice.text
    assert notice.url == f"/subsidies/audits/{audit.pk}/"
