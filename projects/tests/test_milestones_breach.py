"""I15: the balance is part of the milestone — paid from in_progress on, overdue after the grace days, extended
or declared a breach, and a breach's forfeiture ends the project with its money settled (R8, I3, I2)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from core.choices import Role
from core.exceptions import ConflictError, DomainError, PermissionDeniedError, TransitionNotAllowed
from core.models import AuditEvent
from escrow import accounts as codes
from escrow.models import MoneyOperation, Posting
from escrow.selectors import account_balance, pool_summary
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.choices import ProjectState
from projects.models import Milestone, Project
from projects.tests.factories import tranche_project
from projects.tests.steps import bank_ref, forfeit, fresh, pay_deposit, pdf, release, report

pytestmark = pytest.mark.django_db(transaction=True)

T1, D1 = Decimal("1200000.00"), Decimal("120000.00")
T2, D2 = Decimal("1800000.00"), Decimal("180000.00")


def d(x: str) -> Decimal:
    return Decimal(x)


def entry_lines(op: MoneyOperation) -> dict[str, Decimal]:
    return {p.account.code: p.amount for p in Posting.objects.filter(entry=op.entry).select_related("account")}


def _two_milestones(demo, deposit="300000.00") -> tuple[Project, Milestone, Milestone]:
    """Milestone 1 met with its balance due (deposit paid), milestone 2 planned (R7)."""
    p = tranche_project(demo, tranches=[(str(T1), str(D1)), (str(T2), str(D2))], budget=str(T1))
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m1, m2 = p.milestones.order_by("seq")
    pay_deposit(demo, m1, deposit)
    report(demo, m1)
    ms.milestone_review_met(milestone=fresh(m1), actor=demo.reviewer, reason="达到约定目标")
    assert fresh(m1).state == M.BALANCE_DUE and fresh(m2).state == M.PLANNED
    return p, fresh(m1), fresh(m2)


def _balance_overdue(demo, **kw) -> tuple[Project, Milestone, Milestone]:
    p, m1, m2 = _two_milestones(demo, **kw)
    assert ms.milestones_mark_balance_overdue(today=m1.balance_due_date + timedelta(days=1)) == [m1.pk]
    return p, fresh(m1), m2


# -- 1. the balance from in_progress on, never more than the tranche -------------------------------------
def test_i15_balance_confirmed_from_in_progress_to_the_fen_then_review_met_goes_straight_to_releasable(
        demo, ledger_ok):
    p = tranche_project(demo, tranches=[(str(T1), str(D1))])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "120000.00")
    assert fresh(m).state == M.IN_PROGRESS
    ms.milestone_upload_receipt(milestone=fresh(m), actor=demo.enterprise, file=pdf())  # allowed now (I15)
    ops_before = MoneyOperation.objects.count()
    with pytest.raises(DomainError) as err:  # T − paid_in + 0.01: one fen too many
        ms.milestone_confirm_balance(milestone=fresh(m), actor=demo.custodian, amount="1080000.01",
                                     bank_ref=bank_ref())
    assert err.value.rule == "R7" and "amount" in err.value.fields
    assert MoneyOperation.objects.count() == ops_before and fresh(m).paid_in == D1
    op = ms.milestone_confirm_balance(milestone=fresh(m), actor=demo.custodian, amount="500000.00",
                                      bank_ref=bank_ref())
    assert MoneyOperation.objects.get(pk=op.pk).state == "done"
    assert entry_lines(MoneyOperation.objects.get(pk=op.pk)) == {
        codes.ext_enterprise(p.enterprise_id): d("-500000.00"), codes.custody(p.pk, 1): d("500000.00")}
    m = fresh(m)
    assert (m.state, m.paid_in) == (M.IN_PROGRESS, d("620000.00"))  # paid early, still in progress
    report(demo, m)
    with pytest.raises(DomainError):  # in reported: 580,000.01 is one fen above what is left
        ms.milestone_confirm_balance(milestone=fresh(m), actor=demo.custodian, amount="580000.01",
                                     bank_ref=bank_ref())
    ms.milestone_confirm_balance(milestone=fresh(m), actor=demo.custodian, amount="580000.00", bank_ref=bank_ref())
    assert (fresh(m).state, fresh(m).paid_in) == (M.REPORTED, T1)
    with pytest.raises(DomainError) as err:  # nothing left to pay
        ms.milestone_upload_receipt(milestone=fresh(m), actor=demo.enterprise, file=pdf())
    assert err.value.rule == "I15"
    m = ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="达标")
    assert m.state == M.RELEASABLE and m.balance_due_date is None  # whole tranche paid: no balance due
    release(demo, m)
    assert fresh(m).state == M.RELEASED and account_balance(codes.custody(p.pk, 1)) == 0


def test_i15_balance_in_overdue_milestone_and_third_decimal_refused(demo, ledger_ok):
    p = tranche_project(demo, tranches=[(str(T1), str(D1))])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "120000.00")
    ms.milestones_mark_overdue(today=fresh(m).due_date + timedelta(days=1))
    assert fresh(m).state == M.OVERDUE
    with pytest.raises(DomainError) as err:
        ms.milestone_confirm_balance(milestone=fresh(m), actor=demo.custodian, amount="1000.005",
                                     bank_ref=bank_ref())
    assert err.value.rule == "I4"
    ms.milestone_confirm_balance(milestone=fresh(m), actor=demo.custodian, amount="1080000.00", bank_ref=bank_ref())
    assert (fresh(m).state, fresh(m).paid_in) == (M.OVERDUE, T1)


# -- 2. balance_grace_days, the beat task, extend ---------------------------------------------------------
def test_i15_balance_overdue_by_beat_task_after_grace_days_then_extended_with_reason(demo, ledger_ok):
    from django.conf import settings

    from projects.tasks import milestones_balance_overdue_sweep

    assert milestones_balance_overdue_sweep.name in {v["task"] for v in settings.CELERY_BEAT_SCHEDULE.values()}
    demo.scheme.balance_grace_days = 20
    demo.scheme.save(update_fields=["balance_grace_days"])
    p, m1, _m2 = _two_milestones(demo)
    decided = timezone.localdate(m1.decided_at)
    assert m1.balance_due_date == decided + timedelta(days=20)
    with time_machine.travel(m1.balance_due_date, tick=False):
        assert milestones_balance_overdue_sweep.delay().get() == {"balance_overdue": []}
    with time_machine.travel(m1.balance_due_date + timedelta(days=1), tick=False):
        assert milestones_balance_overdue_sweep.delay().get() == {"balance_overdue": [m1.pk]}
        assert milestones_balance_overdue_sweep.delay().get() == {"balance_overdue": []}  # once
        assert demo.reviewer.notifications.filter(verb="balance_overdue").count() == 1
    m1 = fresh(m1)
    assert m1.state == M.BALANCE_OVERDUE
    later = timezone.localdate() + timedelta(days=15)
    with pytest.raises(DomainError) as err:  # a reason is required (I15)
        ms.milestone_extend(milestone=m1, actor=demo.reviewer, due_date=later, reason=" ")
    assert err.value.rule == "I15" and "reason" in err.value.fields
    with pytest.raises(DomainError) as err:
        ms.milestone_extend(milestone=m1, actor=demo.reviewer, due_date=timezone.localdate(), reason="企业申请")
    assert err.value.rule == "I15"
    with pytest.raises(PermissionDeniedError):  # the bureau's decision
        ms.milestone_extend(milestone=m1, actor=demo.custodian, due_date=later, reason="企业申请")
    assert fresh(m1).state == M.BALANCE_OVERDUE
    m1 = ms.milestone_extend(milestone=fresh(m1), actor=demo.reviewer, due_date=later, reason="企业资金周转，申请延期")
    assert (m1.state, m1.balance_due_date) == (M.BALANCE_DUE, later)
    ev = AuditEvent.objects.filter(action="extend", object_id=str(m1.pk)).get()
    assert (ev.from_state, ev.to_state, ev.reason) == (M.BALANCE_OVERDUE, M.BALANCE_DUE, "企业资金周转，申请延期")
    # Overdue again, then paid: a late balance cures it (balance_overdue → releasable) and the money is released.
    ms.milestones_mark_balance_overdue(today=later + timedelta(days=1))
    assert fresh(m1).state == M.BALANCE_OVERDUE
    ms.milestone_confirm_balance(milestone=fresh(m1), actor=demo.custodian, amount="900000.00", bank_ref=bank_ref())
    assert fresh(m1).state == M.RELEASABLE
    op = release(demo, m1)
    assert entry_lines(op) == {codes.custody(p.pk, 1): -T1, codes.ext_platform(p.platform_id): T1}


# -- 3. a breach only of an overdue balance ------------------------------------------------------------------
def test_i15_breach_declared_on_a_milestone_not_overdue_is_refused_and_changes_nothing(demo, ledger_ok):
    from django.test import Client
    from rest_framework.test import APIClient

    p, m1, m2 = _two_milestones(demo)
    audits = AuditEvent.objects.count()
    with pytest.raises(TransitionNotAllowed) as err:
        ms.milestone_declare_breach(milestone=m1, actor=demo.reviewer, reason="未缴尾款")
    assert err.value.rule == "I15" and "I15" not in err.value.detail and err.value.status_code == 409
    api = APIClient()
    api.force_authenticate(demo.reviewer)
    r = api.post(f"/api/v1/milestones/{m1.pk}/declare_breach/", {"reason": "未缴尾款"}, format="json")
    assert r.status_code == 409 and r.json()["rule"] == "I15" and r.json()["code"] == "not_balance_overdue"
    page = Client()
    page.force_login(demo.reviewer)
    r = page.post(f"/milestones/{m1.pk}/do/declare_breach/", {"reason": "未缴尾款"}, follow=True)
    assert "只有尾款逾期的里程碑才能认定企业违约" in r.content.decode()
    assert (fresh(m1).state, fresh(m1).breached_at, fresh(m2).state) == (M.BALANCE_DUE, None, M.PLANNED)
    assert AuditEvent.objects.count() == audits
    # Once overdue: the custodian may not declare it (403), a blank reason is refused (400), nothing changes.
    ms.milestones_mark_balance_overdue(today=m1.balance_due_date + timedelta(days=1))
    api.force_authenticate(demo.custodian)
    assert api.post(f"/api/v1/milestones/{m1.pk}/declare_breach/", {"reason": "x"}, format="json").status_code == 403
    api.force_authenticate(demo.reviewer)
    r = api.post(f"/api/v1/milestones/{m1.pk}/declare_breach/", {"reason": ""}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "I15" and "reason" in r.json()["fields"]
    r = api.post(f"/api/v1/milestones/{m1.pk}/declare_breach/", {"reason": "违约", "repaid_amount": "1200000.01"},
                 format="json")
    assert r.status_code == 400 and r.json()["rule"] == "I2" and "repaid_amount" in r.json()["fields"]
    assert fresh(m1).state == M.BALANCE_OVERDUE
    assert account_balance(codes.pool_advanced(p.pk)) == T1


# -- 4. the issue's reproducer: never paid, deposit in custody → a way out -----------------------------------
def test_i15_balance_never_paid_ends_with_deposit_at_platform_rest_refunded_project_terminated(demo, ledger_ok):
    start = pool_summary()
    p, m1, m2 = _balance_overdue(demo, deposit="300000.00")
    plat0 = account_balance(codes.ext_platform(p.platform_id))
    ent0 = account_balance(codes.ext_enterprise(p.enterprise_id))
    with pytest.raises(ConflictError):  # the bureau cannot terminate with money in custody (I3) ...
        ms.project_terminate(project=p, actor=demo.reviewer, reason="x")
    m1 = ms.milestone_declare_breach(milestone=m1, actor=demo.reviewer, reason="尾款逾期，催告后仍未缴纳",
                                     repaid_amount="1000000.00")  # ... it declares the breach instead
    assert (m1.state, m1.breach_repaid_amount) == (M.BREACHED, d("1000000.00")) and m1.breached_at
    assert Project.objects.get(pk=p.pk).state == ProjectState.ACTIVE  # nothing moves before the forfeiture
    assert account_balance(codes.custody(p.pk, 1)) == d("300000.00")
    with pytest.raises(PermissionDeniedError):  # the bureau never moves money
        ms.milestone_forfeit(milestone=m1, actor=demo.reviewer)
    op = forfeit(demo, m1)
    assert op.state == "done" and op.kind == "forfeit"
    assert entry_lines(op) == {codes.custody(p.pk, 1): d("-300000.00"),
                               codes.ext_platform(p.platform_id): D1,  # the deposit D to the platform (R8)
                               codes.ext_enterprise(p.enterprise_id): d("180000.00")}  # the rest back (I3)
    m1, m2, p = fresh(m1), fresh(m2), Project.objects.get(pk=p.pk)
    assert (m1.state, m1.forfeited_amount, m1.refunded_amount) == (M.FORFEITED, D1, d("180000.00"))
    assert m2.state == M.CANCELLED and m2.paid_in == 0
    assert p.state == ProjectState.TERMINATED and "企业违约" in p.state_reason
    assert account_balance(codes.ext_platform(p.platform_id)) - plat0 == D1
    assert account_balance(codes.ext_enterprise(p.enterprise_id)) - ent0 == d("180000.00")
    # The advance (I2): 1,000,000 repaid to the pool, 200,000 written off, nothing left outstanding.
    settle = {o.kind: entry_lines(o) for o in MoneyOperation.objects.filter(project_ref=p.pk,
                                                                             kind__in=["repayment", "write_off"])}
    assert settle == {
        "repayment": {codes.pool_advanced(p.pk): d("-1000000.00"), codes.POOL_AVAILABLE: d("1000000.00")},
        "write_off": {codes.pool_advanced(p.pk): d("-200000.00"), codes.POOL_LOSSES: d("200000.00")}}
    assert account_balance(codes.pool_advanced(p.pk)) == 0
    assert pool_summary().available == start.available - d("200000.00")
    assert pool_summary().losses == start.losses + d("200000.00")
    term = AuditEvent.objects.get(action="terminate", object_id=str(p.pk))
    assert term.actor == demo.reviewer and term.data["cancelled"] == [2]  # the bureau's decision, recorded
    assert AuditEvent.objects.filter(action="cancel", object_id=str(m2.pk), to_state=M.CANCELLED).exists()
    assert demo.enterprise.notifications.filter(verb="project_terminated").exists()


def test_i15_who_declared_the_breach_never_executes_its_forfeiture(demo, ledger_ok):
    from django.contrib.auth.models import Group

    demo.reviewer.groups.add(Group.objects.get_or_create(name=Role.CUSTODIAN)[0])
    _p, m1, _m2 = _balance_overdue(demo)
    ms.milestone_declare_breach(milestone=m1, actor=demo.reviewer, reason="违约")
    with pytest.raises(PermissionDeniedError) as err:
        ms.milestone_forfeit(milestone=fresh(m1), actor=demo.reviewer)
    assert err.value.code == "separation_of_duties" and fresh(m1).state == M.BREACHED
    forfeit(demo, m1)
    assert fresh(m1).state == M.FORFEITED


def test_i15_breach_with_full_repayment_by_default_and_no_refund_when_only_the_deposit_was_paid(demo, ledger_ok):
    start = pool_summary()
    p, m1, _m2 = _balance_overdue(demo, deposit="120000.00")
    ms.milestone_declare_breach(milestone=m1, actor=demo.reviewer, reason="违约")  # repaid blank: all (I2)
    op = forfeit(demo, m1)
    assert entry_lines(op) == {codes.custody(p.pk, 1): -D1, codes.ext_platform(p.platform_id): D1}
    assert fresh(m1).refunded_amount == 0
    assert pool_summary().available == start.available and pool_summary().losses == start.losses
    assert Project.objects.get(pk=p.pk).state == ProjectState.TERMINATED


# -- 5. API: GET shows the new states and dates; extend and declare_breach ----------------------------------
def test_i15_api_extend_then_declare_breach_and_forfeit(demo, ledger_ok):
    from rest_framework.test import APIClient

    p, m1, m2 = _balance_overdue(demo)
    api = APIClient()
    api.force_authenticate(demo.reviewer)
    body = api.get(f"/api/v1/milestones/{m1.pk}/").json()
    assert body["state"] == "balance_overdue" and body["balance_due"] == "900000.00"
    assert body["balance_due_date"] == m1.balance_due_date.isoformat() and body["breached_at"] is None
    new = (timezone.localdate() + timedelta(days=10)).isoformat()
    r = api.post(f"/api/v1/milestones/{m1.pk}/extend/", {"balance_due_date": new, "reason": "延期一次"}, format="json")
    assert r.status_code == 200 and (r.json()["state"], r.json()["balance_due_date"]) == ("balance_due", new)
    ms.milestones_mark_balance_overdue(today=timezone.localdate() + timedelta(days=11))
    r = api.post(f"/api/v1/milestones/{m1.pk}/declare_breach/", {"reason": "再次逾期", "repaid_amount": "1,200,000.00"},
                 format="json", HTTP_IDEMPOTENCY_KEY="breach-1")
    assert r.status_code == 200 and r.json()["state"] == "breached" and r.json()["breach_reason"] == "再次逾期"
    assert r.json()["breach_repaid_amount"] == "1200000.00" and r.json()["breached_at"]
    again = api.post(f"/api/v1/milestones/{m1.pk}/declare_breach/", {"reason": "再次逾期", "repaid_amount": "1,200,000.00"},
                     format="json", HTTP_IDEMPOTENCY_KEY="breach-1")
    assert again.status_code == 200 and again.json() == r.json()
    api.force_authenticate(demo.custodian)
    r = api.post(f"/api/v1/milestones/{m1.pk}/forfeit/", {}, format="json")
    assert r.status_code == 200 and r.json()["operation"]["state"] in ("requested", "done")
    assert api.get(f"/api/v1/milestones/{m2.pk}/").json()["state"] == "cancelled"
    assert api.get(f"/api/v1/milestones/{m1.pk}/").json()["state"] == "forfeited"
    assert Project.objects.get(pk=p.pk).state == ProjectState.TERMINATED


# -- 5. pages: the right actions to the right roles; the timeline shows breach and cancellation --------------
def test_i15_panel_offers_breach_and_extension_to_the_bureau_forfeit_to_the_custodian(demo, ledger_ok):
    from django.test import Client

    p, m1, m2 = _balance_overdue(demo)
    c = Client()

    def page(user) -> str:
        c.force_login(user)
        return c.get(f"/milestones/project/{p.pk}/").content.decode()

    html = page(demo.reviewer)
    assert 'data-action="declare_breach"' in html and 'data-action="extend_balance"' in html
    assert 'name="repaid_amount"' in html
    for user in (demo.custodian, demo.enterprise, demo.platform):
        assert 'data-action="declare_breach"' not in page(user)
    assert 'data-action="confirm_balance"' in page(demo.custodian)  # a late balance may still be paid
    c.force_login(demo.reviewer)
    breach = {"reason": "尾款逾期未缴", "repaid_amount": ""}
    assert 'id="action-confirm"' in c.post(f"/milestones/{m1.pk}/do/declare_breach/", breach).content.decode()
    assert fresh(m1).state == M.BALANCE_OVERDUE  # the page asks before it acts
    r = c.post(f"/milestones/{m1.pk}/do/declare_breach/", {**breach, "confirmed": "1"}, follow=True)
    assert r.status_code == 200 and fresh(m1).state == M.BREACHED
    html = page(demo.custodian)
    assert 'data-action="forfeit"' in html and "罚没保证金、退还其余并终止项目" in html
    c.force_login(demo.custodian)
    c.post(f"/milestones/{m1.pk}/do/forfeit/", {"confirmed": "1"})
    assert fresh(m1).state == M.FORFEITED and fresh(m2).state == M.CANCELLED
    html = page(demo.reviewer)
    assert 'data-state="cancelled"' in html and "tl-m-breached" in html and "tl-m-cancelled" in html
    assert 'data-action="terminate"' not in html  # the project is over


# -- 4. every state of both machines has a way out ------------------------------------------------------------
# transition → the role that takes it ("beat" for the periodic task), and the service that calls it
MILESTONE_TRANSITIONS = {
    "request_deposit": (Role.REVIEWER, ms.milestone_request_deposit),
    "confirm_deposit": (Role.CUSTODIAN, ms.milestone_confirm_deposit),
    "report_completion": (Role.PLATFORM, ms.milestone_report_completion),
    "review_met": (Role.REVIEWER, ms.milestone_review_met),
    "review_met_fully_paid": (Role.REVIEWER, ms.milestone_review_met),
    "confirm_balance": (Role.CUSTODIAN, ms.milestone_confirm_balance),
    "release": (Role.CUSTODIAN, ms.milestone_release),
    "review_not_met": (Role.REVIEWER, ms.milestone_review_not_met),
    "forfeit": (Role.CUSTODIAN, ms.milestone_forfeit),
    "mark_overdue": ("beat", ms.milestones_mark_overdue),
    "extend": (Role.REVIEWER, ms.milestone_extend),
    "mark_balance_overdue": ("beat", ms.milestones_mark_balance_overdue),
    "extend_balance": (Role.REVIEWER, ms.milestone_extend),
    "declare_breach": (Role.REVIEWER, ms.milestone_declare_breach),
    "cancel": (Role.REVIEWER, ms.project_terminate),
}
MILESTONE_FINAL = {M.RELEASED, M.FORFEITED, M.CANCELLED}


def _project_transitions():
    from projects import services as ps
    from projects.services import approval

    return {
        "submit": (Role.ENTERPRISE, ps.project_submit),
        "platform_sign": (Role.PLATFORM, ps.project_platform_sign),
        "platform_decline": (Role.PLATFORM, ps.project_platform_decline),
        "accept": (Role.REVIEWER, ps.project_accept),
        "return_for_changes": (Role.REVIEWER, ps.project_return_for_changes),
        "start_review": (Role.REVIEWER, ps.project_start_review),
        "queue": (Role.REVIEWER, approval.project_queue),
        "approve": (Role.REVIEWER, approval.project_approve),
        "reject": (Role.REVIEWER, approval.project_reject),
        "open_escrow": (Role.REVIEWER, ms.project_open_escrow),
        "terminate": (Role.REVIEWER, ms.project_terminate),
        "close": (Role.REVIEWER, ms.project_close),
    }


PROJECT_FINAL = {ProjectState.REJECTED, ProjectState.TERMINATED, ProjectState.COMPLETED}


def _exits(model, table: dict) -> dict[str, set[str]]:
    """state → the transitions out of it that a person can take, read from the model's FSM (django-fsm)."""
    transitions = list(model._meta.get_field("state").get_all_transitions(model))
    names = {t.name for t in transitions}
    assert names <= set(table), f"transitions without a service and a role: {names - set(table)}"
    out: dict[str, set[str]] = {}
    for t in transitions:
        role, service = table[t.name]
        assert callable(service)
        if role != "beat" and t.target != t.source:
            out.setdefault(t.source, set()).add(t.name)
    return out


def test_i15_every_non_final_state_of_both_machines_has_a_way_out_some_role_can_take(demo, ledger_ok):
    from projects.milestones.demo import seed_milestones
    from projects.milestones.views import panel_context

    for model, states, final, table in ((Milestone, M, MILESTONE_FINAL, MILESTONE_TRANSITIONS),
                                        (Project, ProjectState, PROJECT_FINAL, _project_transitions())):
        exits = _exits(model, table)
        for state in states.values:
            if state in final:
                assert state not in exits, f"{model.__name__} {state} is final but has a way out"
            else:
                assert exits.get(state), f"{model.__name__} {state} has no way out a person can take"
    # Real milestones in every state (the demo), and each non-final one offers a person an action on the page:
    # a planned one waits for the milestone before it (R7), which offers one.
    seed_milestones()
    users = [demo.reviewer, demo.custodian, demo.enterprise, demo.enterprise2, demo.platform, demo.platform2]
    offered: dict[int, set[str]] = {}
    for project in Project.objects.filter(title__startswith="演示：", state=ProjectState.ACTIVE):
        for user in users:
            for it in panel_context(project, user)["items"]:
                offered.setdefault(it["m"].pk, set()).update(k for k, v in it["can"].items() if v)
    seen = set()
    for m in Milestone.objects.filter(project__title__startswith="演示：", project__state=ProjectState.ACTIVE):
        seen.add(m.state)
        if m.state == M.PLANNED:
            before = Milestone.objects.get(project=m.project, seq=m.seq - 1)
            assert before.state not in MILESTONE_FINAL and offered[before.pk], m
        elif m.state not in MILESTONE_FINAL:
            assert offered[m.pk], f"milestone {m.pk} in {m.state}: no role is offered a way out"
    assert set(M.values) - MILESTONE_FINAL <= seen
