"""Milestones in motion (workflow.md): deposits, completion, review, release, forfeiture, overdue, close.

Every function is keyword-only and atomic. Rows are locked project first,
then milestones in primary-key order, so two services (or a service and a
completion hook) never wait on each other in opposite orders. Money moves
only through escrow money operations; the milestone changes state in the
completion hook of ``projects/hooks.py`` when the operation is done, in the
same transaction as the operation's ledger entry.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.choices import Role
from core.exceptions import ConflictError, DomainError, PermissionDeniedError, TransitionNotAllowed
from core.money import format_cny, money, parse_money
from core.permissions import require, require_role
from core.services import audit_record, notify, users_of, users_with_role
from escrow import accounts as codes
from escrow.choices import OperationKind, OperationState
from escrow.models import MoneyOperation
from escrow.services import operation_request

from ..choices import AttachmentKind, ProjectState
from ..choices import MilestoneState as M
from ..models import Attachment, ExpertAssignment, Milestone, Project
from ._common import require_reason

P_DEPOSIT = "milestone_deposit"
P_BALANCE = "milestone_balance"
P_RELEASE = "milestone_release"
P_FORFEIT = "milestone_forfeit"
P_REPAYMENT = "project_repayment"
P_WRITE_OFF = "project_write_off"
MILESTONE_PURPOSES = (P_DEPOSIT, P_BALANCE, P_RELEASE, P_FORFEIT)

PENDING_STATES = (OperationState.REQUESTED, OperationState.AWAITING_CONFIRMATION, OperationState.EXECUTING)

# I15: the enterprise may pay the balance from the deposit's confirmation on, until the milestone is settled.
BALANCE_PAYABLE = (M.IN_PROGRESS, M.OVERDUE, M.REPORTED, M.BALANCE_DUE, M.BALANCE_OVERDUE)
# I15: a later milestone that holds no money is cancelled when its project ends early.
CANCELLABLE = (M.PLANNED, M.DEPOSIT_DUE)



# -- helpers ------------------------------------------------------------------
def _lock(project_id: int, *milestone_ids: int) -> tuple[Project, dict[int, Milestone]]:
    """Lock the project row, then its milestones in pk order (the one lock order of this module)."""
    project = Project.objects.select_for_update(no_key=True).get(pk=project_id)
    rows = Milestone.objects.select_for_update(no_key=True).filter(pk__in=milestone_ids).order_by("pk")
    return project, {m.pk: m for m in rows}


def _lock_milestone(milestone: Milestone, *, require_active: bool = True) -> tuple[Project, Milestone]:
    """Lock the project and the milestone. A person's milestone action needs the project in implementation:
    after it is completed or terminated, a milestone left waiting for its deposit takes no more money."""
    project, rows = _lock(milestone.project_id, milestone.pk)
    if require_active and project.state != ProjectState.ACTIVE:
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”，其里程碑不能再办理") % {"s": project.get_state_display()},
                                   code="project_not_active")
    return project, rows[milestone.pk]


def _not_allowed(milestone: Milestone, action: str) -> TransitionNotAllowed:
    return TransitionNotAllowed(
        _("里程碑当前状态为“%(state)s”，不能执行“%(action)s”") % {"state": milestone.get_state_display(),
                                                              "action": action})


def _require_state(milestone: Milestone, action: str, *states: str) -> None:
    if milestone.state not in states:
        raise _not_allowed(milestone, action)


def _pending_operation(milestone: Milestone, purposes: Iterable[str]) -> MoneyOperation | None:
    return (MoneyOperation.objects.filter(purpose__in=list(purposes), context__milestone=milestone.pk,
                                          state__in=PENDING_STATES).order_by("pk").first())


def _refuse_if_pending(milestone: Milestone, purposes: Iterable[str]) -> None:
    op = _pending_operation(milestone, purposes)
    if op is not None:
        raise ConflictError(_("该里程碑已有一笔“%(kind)s”资金操作（#%(id)s，%(state)s）正在处理，请勿重复提交")
                            % {"kind": op.get_kind_display(), "id": op.pk, "state": op.get_state_display()},
                            code="operation_pending")


def _decider_id(milestone: Milestone, action: str) -> int | None:
    """Who took the latest ``action`` decision on the milestone (from its audit trail)."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import AuditEvent

    return (AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(Milestone),
                                      object_id=str(milestone.pk), action=action)
            .order_by("-at", "-pk").values_list("actor_id", flat=True).first())


def _require_not_decider(milestone: Milestone, actor, action: str) -> None:
    """Separation of duties: whoever decided the milestone never executes its money movement."""
    decider = _decider_id(milestone, action)
    if decider is not None and decider == actor.pk:
        raise PermissionDeniedError(_("职责分离：审核该里程碑的人员不能执行其资金划转"), code="separation_of_duties")


def _member_of(user, org, role: str) -> bool:
    return bool(user.organization_id and user.organization_id == org.pk and user.has_role(role))


def _require_party(user, project: Project, role: str) -> None:
    org = project.enterprise if role == Role.ENTERPRISE else project.platform
    require_role(user, role)
    if not _member_of(user, org, role):
        raise PermissionDeniedError(_("只有本项目%(party)s的人员可以执行此操作")
                                    % {"party": _("企业") if role == Role.ENTERPRISE else _("科创平台")})


def _ctx(milestone: Milestone) -> dict:
    return {"project": milestone.project_id, "milestone": milestone.pk}


def _url(milestone: Milestone) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("milestones:project", args=[milestone.project_id]) + f"#m{milestone.seq}"
    except NoReverseMatch:
        return ""


def _label(milestone: Milestone) -> str:
    return _("“%(project)s”第%(seq)s个里程碑") % {"project": milestone.project.title, "seq": milestone.seq}


def _audit(actor, milestone: Milestone, action: str, from_state: str, reason: str = "", **data) -> None:
    audit_record(actor=actor, target=milestone, action=action, from_state=from_state, to_state=milestone.state,
                 reason=reason, data={"project": milestone.project_id, **{k: str(v) for k, v in data.items()}})


def _enterprise_users(project):
    return users_of(project.enterprise, Role.ENTERPRISE)


def _platform_users(project):
    return users_of(project.platform, Role.PLATFORM)


def custody_code(milestone: Milestone) -> str:
    return codes.custody(milestone.project_id, milestone.seq)


def _require_bureau(actor, project: Project) -> None:
    """The bureau's decisions on a project: reviewers only, never on their own organisation's project."""
    from .. import permissions as perms

    require(perms.can_review_act(actor, project))


def _scheme(project: Project):
    return project.scheme


def _attach(*, project: Project, milestone: Milestone, kind: str, upload, actor) -> Attachment:
    from .attachments import store_attachment

    return store_attachment(project=project, milestone=milestone, kind=kind, file=upload, actor=actor)


# -- opening ------------------------------------------------------------------
@transaction.atomic
def project_open_escrow(*, project: Project, actor, reason: str = "") -> Project:
    """approved → active; milestone 1 → deposit_due: the deposit channel opens (R14)."""
    _require_bureau(actor, project)
    first = Milestone.objects.filter(project_id=project.pk).order_by("seq").first()
    if first is None:
        raise DomainError(_("项目没有里程碑，无法开通保证金通道（R4）"), code="no_milestones", rule="R4")
    project, rows = _lock(project.pk, first.pk)
    first = rows[first.pk]
    if project.state != ProjectState.APPROVED:
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”，只有已立项的项目可以开通保证金通道（R14）")
                                   % {"s": project.get_state_display()}, rule="R14")
    if first.state != M.PLANNED:
        raise _not_allowed(first, _("通知缴纳保证金"))
    project.open_escrow()
    project.state_reason = reason
    project.save(update_fields=["state", "state_reason", "updated_at"])
    audit_record(actor=actor, target=project, action="open_escrow", from_state=ProjectState.APPROVED,
                 to_state=project.state, reason=reason)
    first.request_deposit()
    first.save(update_fields=["state"])
    _audit(actor, first, "request_deposit", M.PLANNED, reason)
    _notify_deposit_due(first)
    return project


def _notify_deposit_due(milestone: Milestone) -> None:
    notify(users=_enterprise_users(milestone.project), verb="deposit_due",
           text=_("%(m)s 待缴保证金：至少 %(d)s，至多 %(t)s，付款附言 %(ref)s（R5/R7）")
           % {"m": _label(milestone), "d": format_cny(milestone.deposit_amount), "t": format_cny(milestone.amount),
              "ref": milestone.payment_reference}, url=_url(milestone))


@transaction.atomic
def milestone_request_deposit(*, milestone: Milestone, actor, reason: str = "") -> Milestone:
    """planned → deposit_due, once the milestone before it is settled (R7)."""
    _require_bureau(actor, milestone.project)
    ids = list(Milestone.objects.filter(project_id=milestone.project_id, seq__lte=milestone.seq)
               .values_list("pk", flat=True))
    project, rows = _lock(milestone.project_id, *ids)
    milestone = rows[milestone.pk]
    if project.state != ProjectState.ACTIVE:
        raise TransitionNotAllowed(_("项目尚未开通保证金通道（R14）"), rule="R14")
    _require_state(milestone, _("通知缴纳保证金"), M.PLANNED)
    before = [m for m in rows.values() if m.seq < milestone.seq]
    unsettled = [m for m in before if m.state not in (M.RELEASED, M.FORFEITED)]
    if unsettled:
        raise DomainError(_("第%(seq)s个里程碑尚未拨付或处理完毕，下一里程碑仍为计划中（R7）")
                          % {"seq": unsettled[-1].seq}, code="previous_milestone_open", rule="R7")
    milestone.request_deposit()
    milestone.save(update_fields=["state"])
    _audit(actor, milestone, "request_deposit", M.PLANNED, reason)
    _notify_deposit_due(milestone)
    return milestone


def payment_instructions(milestone: Milestone) -> dict:
    """What the enterprise quotes on its transfer into the Anxinbao account."""
    from django.conf import settings

    account = getattr(settings, "ANXINBAO_CUSTODY_ACCOUNT", {}) or {}
    due = milestone.amount - milestone.paid_in
    minimum = milestone.deposit_amount if milestone.state == M.DEPOSIT_DUE else due
    return {
        "account_name": account.get("name", "科创安心宝监管账户"),
        "bank": account.get("bank", "杭州萧山农村商业银行营业部"),
        "account_number": account.get("number", "2010 0001 2345 6789 012"),
        "reference": milestone.payment_reference,
        "minimum": money(minimum),
        "maximum": money(due),
    }


# -- receipts and confirmations -------------------------------------------------
@transaction.atomic
def milestone_upload_receipt(*, milestone: Milestone, actor, file) -> Attachment:
    """The enterprise's bank receipt for a deposit or balance (PDF or image)."""
    project = milestone.project
    _require_party(actor, project, Role.ENTERPRISE)
    project, milestone = _lock_milestone(milestone)
    _require_state(milestone, _("上传银行回单"), M.DEPOSIT_DUE, *BALANCE_PAYABLE)
    if milestone.state != M.DEPOSIT_DUE and milestone.paid_in >= milestone.amount:
        raise DomainError(_("I15：本阶段合作经费已全额缴入，无需再上传回单"), code="fully_paid", rule="I15")
    att = _attach(project=project, milestone=milestone, kind=AttachmentKind.RECEIPT, upload=file, actor=actor)
    audit_record(actor=actor, target=milestone, action="upload_receipt", data={"attachment": att.pk,
                                                                              "sha256": att.sha256})
    notify(users=users_with_role(Role.CUSTODIAN), verb="receipt_uploaded",
           text=_("%(m)s 企业已上传银行回单，请核对到账（附言 %(ref)s）")
           % {"m": _label(milestone), "ref": milestone.payment_reference}, url=_url(milestone))
    return att


BANK_REF_MAX = MoneyOperation._meta.get_field("bank_ref").max_length


def _check_bank_ref(bank_ref: str) -> str:
    bank_ref = (bank_ref or "").strip()
    if not bank_ref:
        raise DomainError(_("须填写银行流水号"), code="bank_ref_required", fields={"bank_ref": [_("必填")]})
    if len(bank_ref) > BANK_REF_MAX:  # the column's length: checked here, for every caller
        raise DomainError(_("银行流水号最多 100 个字符"), code="invalid", fields={"bank_ref": [_("过长")]})
    if MoneyOperation.objects.filter(bank_ref=bank_ref, kind__in=[OperationKind.DEPOSIT, OperationKind.BALANCE]) \
            .exclude(state=OperationState.FAILED).exists():
        raise DomainError(_("银行流水号 %(ref)s 已登记过一笔到账") % {"ref": bank_ref}, code="bank_ref_used",
                          fields={"bank_ref": [_("已使用")]})
    return bank_ref


def _receipt_operation(*, milestone: Milestone, project: Project, actor, amount: Decimal, bank_ref: str,
                       kind: str, purpose: str) -> MoneyOperation:
    n = MoneyOperation.objects.filter(purpose=purpose, context__milestone=milestone.pk).count() + 1
    return operation_request(
        kind=kind, amount=amount, purpose=purpose, context=_ctx(milestone),
        lines=[(codes.ext_enterprise(project.enterprise_id), -amount), (custody_code(milestone), amount)],
        memo=f"{project.title} 第{milestone.seq}里程碑 {OperationKind(kind).label} {milestone.payment_reference}",
        idempotency_key=f"milestone:{milestone.pk}:{purpose}:{n}", ordered_by=actor, executed_by=actor,
        reference=milestone.payment_reference, bank_ref=bank_ref)


@transaction.atomic
def milestone_confirm_deposit(*, milestone: Milestone, actor, amount, bank_ref: str) -> MoneyOperation:
    """The custodian confirms the deposit received: D ≤ amount ≤ T (R5 for milestone 1, R7 after)."""
    require_role(actor, Role.CUSTODIAN)
    amount = parse_money(amount)  # as the bank shows it: a third decimal is refused (I4), never rounded
    project, milestone = _lock_milestone(milestone)
    _require_state(milestone, _("确认保证金到账"), M.DEPOSIT_DUE)
    _refuse_if_pending(milestone, [P_DEPOSIT])
    rule = "R5" if milestone.seq == 1 else "R7"
    if amount < milestone.deposit_amount:
        raise DomainError(_("%(rule)s：到账金额 %(a)s 低于约定保证金 %(d)s")
                          % {"rule": rule, "a": format_cny(amount), "d": format_cny(milestone.deposit_amount)},
                          code="deposit_too_low", rule=rule, fields={"amount": [_("低于约定保证金")]})
    if amount > milestone.amount:
        raise DomainError(_("R7：到账金额 %(a)s 超过本阶段合作经费 %(t)s")
                          % {"a": format_cny(amount), "t": format_cny(milestone.amount)},
                          code="deposit_too_high", rule="R7", fields={"amount": [_("超过阶段经费")]})
    bank_ref = _check_bank_ref(bank_ref)
    op = _receipt_operation(milestone=milestone, project=project, actor=actor, amount=amount, bank_ref=bank_ref,
                            kind=OperationKind.DEPOSIT, purpose=P_DEPOSIT)
    audit_record(actor=actor, target=milestone, action="order_deposit", data={"operation": op.pk,
                                                                             "amount": str(amount),
                                                                             "bank_ref": bank_ref})
    return op


@transaction.atomic
def milestone_confirm_balance(*, milestone: Milestone, actor, amount, bank_ref: str) -> MoneyOperation:
    """The custodian confirms (part of) the balance T − paid_in received (R7), from the deposit's confirmation
    on (I15): in progress, overdue, reported, balance due or balance overdue. Never more than the tranche."""
    require_role(actor, Role.CUSTODIAN)
    amount = parse_money(amount)
    project, milestone = _lock_milestone(milestone)
    _require_state(milestone, _("确认尾款到账"), *BALANCE_PAYABLE)
    _refuse_if_pending(milestone, [P_BALANCE, P_DEPOSIT])
    due = milestone.amount - milestone.paid_in
    if amount <= 0 or amount > due:
        raise DomainError(_("R7：尾款到账金额须大于零且不超过应付尾款 %(due)s") % {"due": format_cny(due)},
                          code="balance_amount", rule="R7", fields={"amount": [_("超出应付尾款")]})
    bank_ref = _check_bank_ref(bank_ref)
    op = _receipt_operation(milestone=milestone, project=project, actor=actor, amount=amount, bank_ref=bank_ref,
                            kind=OperationKind.BALANCE, purpose=P_BALANCE)
    audit_record(actor=actor, target=milestone, action="order_balance", data={"operation": op.pk,
                                                                             "amount": str(amount),
                                                                             "bank_ref": bank_ref})
    return op


# -- completion and review --------------------------------------------------------
def target_list(milestone: Milestone) -> list[str]:
    return [line.strip(" -•\t") for line in (milestone.targets or "").splitlines() if line.strip(" -•\t")]


@transaction.atomic
def milestone_report_completion(*, milestone: Milestone, actor, description: str,
                                target_notes: dict[str, str] | list[str] | None = None,
                                files: Iterable = ()) -> Milestone:
    """The platform reports completion with evidence, a note against each target (R7)."""
    _require_party(actor, milestone.project, Role.PLATFORM)
    project, milestone = _lock_milestone(milestone)
    _require_state(milestone, _("报告完成"), M.IN_PROGRESS)
    description = (description or "").strip()
    if not description:
        raise DomainError(_("须填写完成情况说明"), code="description_required",
                          fields={"description": [_("必填")]})
    targets = target_list(milestone)
    if isinstance(target_notes, list | tuple):
        target_notes = dict(zip(targets, target_notes, strict=False))
    target_notes = {k: (v or "").strip() for k, v in (target_notes or {}).items()}
    missing = [t for t in targets if not target_notes.get(t)]
    if missing:
        raise DomainError(_("R7：须逐项说明目标完成情况，缺：%(t)s") % {"t": pgettext("标点", "；").join(missing)},
                          code="target_notes_required", rule="R7", fields={"target_notes": missing})
    for upload in files:
        _attach(project=project, milestone=milestone, kind=AttachmentKind.EVIDENCE, upload=upload, actor=actor)
    if not milestone.attachments.filter(kind=AttachmentKind.EVIDENCE).exists():
        raise DomainError(_("须上传至少一份成果证明材料"), code="evidence_required", fields={"files": [_("必填")]})
    lines = [description] + [f"【{t}】{target_notes[t]}" for t in targets]
    milestone.report_completion()
    milestone.completion_report = "\n".join(lines)
    milestone.save(update_fields=["state", "reported_at", "completion_report"])
    _audit(actor, milestone, "report_completion", M.IN_PROGRESS, description)
    notify(users=users_with_role(Role.REVIEWER), verb="milestone_reported",
           text=_("%(m)s 平台已报告完成，请审核") % {"m": _label(milestone)}, url=_url(milestone))
    return milestone


def _require_expert_scores(milestone: Milestone, project: Project) -> None:
    """R16 with I17: the acceptance counts the scores of the technical experts assigned to this milestone (any
    expert's only when the conflict-free pool has no technical expert, as the draw does)."""
    needed = _scheme(project).milestone_reviews_required
    if needed <= 0:
        return
    from core.choices import ExpertCategory

    from .reviews import experts_without_conflict

    scored = ExpertAssignment.objects.filter(milestone=milestone, status=ExpertAssignment.Status.SCORED)
    technical = experts_without_conflict(project).filter(expert_category=ExpertCategory.TECHNICAL).exists()
    if technical:
        scored = scored.filter(expert__expert_category=ExpertCategory.TECHNICAL)
    count = scored.count()
    if count < needed:
        if technical:
            raise DomainError(_("R16、I17：里程碑验收需 %(n)s 份技术专家评分，现有 %(s)s 份")
                              % {"n": needed, "s": count}, code="expert_scores_missing", rule="R16")
        raise DomainError(_("R16：里程碑验收需 %(n)s 份专家评分，现有 %(s)s 份") % {"n": needed, "s": count},
                          code="expert_scores_missing", rule="R16")


EXPERT_DRAW_STATES = (M.REPORTED, M.IN_PROGRESS, M.OVERDUE)  # R16: an acceptance expert may be assigned


@transaction.atomic
def milestone_assign_expert(*, milestone: Milestone, actor, expert) -> ExpertAssignment:
    """The bureau draws an expert for a milestone's acceptance (R16)."""
    _require_bureau(actor, milestone.project)
    if not expert.has_role(Role.EXPERT):
        raise DomainError(_("所选人员不是专家"), code="not_an_expert", rule="R16")
    from .reviews import experts_without_conflict

    if not experts_without_conflict(milestone.project).filter(pk=expert.pk).exists():
        raise DomainError(_("回避：该专家受雇于项目一方或已声明与其存在利益冲突（R16）"), code="expert_conflict",
                          rule="R16")
    project, milestone = _lock_milestone(milestone)
    _require_state(milestone, _("指派专家"), *EXPERT_DRAW_STATES)
    assignment, _created = ExpertAssignment.objects.get_or_create(project=project, milestone=milestone, expert=expert)
    audit_record(actor=actor, target=milestone, action="assign_expert", data={"expert": expert.pk})
    notify(users=[expert], verb="milestone_expert", text=_("请对%(m)s进行验收评分（R16）") % {"m": _label(milestone)},
           url=_url(milestone))
    return assignment


@transaction.atomic
def milestone_expert_score(*, milestone: Milestone, actor, feasibility: int, terms: int, cost: int,
                           opinion: str = "") -> ExpertAssignment:
    """An assigned expert scores a reported milestone, each score 0–100 (R16)."""
    require_role(actor, Role.EXPERT)
    project, milestone = _lock_milestone(milestone)
    _require_state(milestone, _("专家评分"), M.REPORTED)
    assignment = (ExpertAssignment.objects.select_for_update()
                  .filter(milestone=milestone, expert=actor).exclude(status=ExpertAssignment.Status.WITHDRAWN)
                  .first())
    if assignment is None:
        raise PermissionDeniedError(_("您未被指派评审该里程碑"))
    scores = {"feasibility": feasibility, "terms": terms, "cost": cost}
    bad = [k for k, v in scores.items() if not isinstance(v, int) or not 0 <= v <= 100]
    if bad:
        raise DomainError(_("评分须为 0–100 的整数"), code="invalid_score", rule="R16",
                          fields={k: [_("0–100")] for k in bad})
    for k, v in scores.items():
        setattr(assignment, k, v)
    assignment.opinion = opinion
    assignment.status = ExpertAssignment.Status.SCORED
    assignment.scored_at = timezone.now()
    assignment.save()
    audit_record(actor=actor, target=milestone, action="expert_score", data={**scores, "assignment": assignment.pk})
    return assignment


@transaction.atomic
def milestone_review_met(*, milestone: Milestone, actor, reason: str) -> Milestone:
    """The bureau finds the milestone met, with a reason: balance due = T − paid_in; 0 → releasable directly (R7)."""
    _require_bureau(actor, milestone.project)
    reason = require_reason(reason, action=_("审核通过"), rule="R7")
    project, milestone = _lock_milestone(milestone)
    _require_state(milestone, _("审核通过"), M.REPORTED)
    _require_expert_scores(milestone, project)
    balance = milestone.amount - milestone.paid_in
    if balance == 0:  # I15: the whole tranche was paid in before the decision
        milestone.review_met_fully_paid()
    else:
        milestone.review_met(balance_due_date=timezone.localdate()
                             + timedelta(days=_scheme(project).balance_grace_days))
    milestone.decision_reason = reason
    milestone.save(update_fields=["state", "decided_at", "decision_reason", "balance_due_date"])
    _audit(actor, milestone, "review_met", M.REPORTED, reason, balance_due=balance,
           balance_due_date=milestone.balance_due_date or "")
    if balance == 0:
        notify(users=users_with_role(Role.CUSTODIAN), verb="milestone_releasable",
               text=_("%(m)s 审核通过且已全额缴入，请拨付 %(t)s 给平台（R7）")
               % {"m": _label(milestone), "t": format_cny(milestone.amount)}, url=_url(milestone))
    else:
        notify(users=_enterprise_users(project), verb="balance_due",
               text=_("%(m)s 审核通过，请于 %(d)s 前缴纳尾款 %(b)s，付款附言 %(ref)s（R7、I15）")
               % {"m": _label(milestone), "b": format_cny(balance), "ref": milestone.payment_reference,
                  "d": milestone.balance_due_date.isoformat()},
               url=_url(milestone))
    notify(users=_platform_users(project), verb="milestone_met",
           text=_("%(m)s 审核通过") % {"m": _label(milestone)}, url=_url(milestone))
    return milestone


@transaction.atomic
def milestone_review_not_met(*, milestone: Milestone, actor, reason: str) -> Milestone:
    """The bureau finds the milestone not met (reported, in progress or overdue, I7) → failed (R8)."""
    _require_bureau(actor, milestone.project)
    if not (reason or "").strip():
        raise DomainError(_("认定未达标须说明理由（R8）"), code="reason_required", rule="R8",
                          fields={"reason": [_("必填")]})
    project, milestone = _lock_milestone(milestone)
    from_state = milestone.state
    _require_state(milestone, _("认定未达标"), M.REPORTED, M.IN_PROGRESS, M.OVERDUE)
    if from_state == M.REPORTED:
        _require_expert_scores(milestone, project)
    milestone.review_not_met()
    milestone.decision_reason = reason
    milestone.save(update_fields=["state", "decided_at", "decision_reason"])
    _audit(actor, milestone, "review_not_met", from_state, reason)
    notify(users=users_with_role(Role.CUSTODIAN), verb="milestone_failed",
           text=_("%(m)s 认定未达标，请执行保证金罚没与退还（R8、I3）") % {"m": _label(milestone)}, url=_url(milestone))
    notify(users=list(_enterprise_users(project)) + list(_platform_users(project)), verb="milestone_not_met",
           text=_("%(m)s 认定未达标：%(r)s") % {"m": _label(milestone), "r": reason}, url=_url(milestone))
    return milestone


# -- release and forfeiture ----------------------------------------------------------
@transaction.atomic
def milestone_release(*, milestone: Milestone, actor) -> tuple[Milestone, MoneyOperation]:
    """Release deposit and balance together, T, to the platform (R7), after review_met and full payment."""
    require_role(actor, Role.CUSTODIAN)
    project, milestone = _lock_milestone(milestone)
    _require_state(milestone, _("拨付"), M.RELEASABLE)
    _require_not_decider(milestone, actor, "review_met")
    _refuse_if_pending(milestone, [P_RELEASE, P_FORFEIT, P_BALANCE])
    if milestone.paid_in != milestone.amount:
        raise DomainError(_("R7：尚未全额缴入（已缴 %(p)s / 应缴 %(t)s），不能拨付")
                          % {"p": format_cny(milestone.paid_in), "t": format_cny(milestone.amount)},
                          code="not_fully_paid", rule="R7")
    n = MoneyOperation.objects.filter(purpose=P_RELEASE, context__milestone=milestone.pk).count() + 1
    op = operation_request(
        kind=OperationKind.RELEASE, amount=milestone.amount, purpose=P_RELEASE, context=_ctx(milestone),
        lines=[(custody_code(milestone), -milestone.amount), (codes.ext_platform(project.platform_id),
                                                               milestone.amount)],
        memo=f"{project.title} 第{milestone.seq}里程碑 拨付平台（R7）",
        idempotency_key=f"milestone:{milestone.pk}:release:{n}", ordered_by=actor, executed_by=actor,
        reference=milestone.payment_reference)
    audit_record(actor=actor, target=milestone, action="order_release",
                 data={"operation": op.pk, "amount": str(milestone.amount), "operation_state": op.state})
    if op.state == OperationState.AWAITING_CONFIRMATION:
        notify(users=users_with_role(Role.CUSTODIAN).exclude(pk=actor.pk), verb="operation_confirm",
               text=_("%(m)s 拨付 %(t)s 超过双人复核阈值，请另一名操作员复核")
               % {"m": _label(milestone), "t": format_cny(milestone.amount)}, url=_url(milestone))
    return milestone, op


@transaction.atomic
def milestone_forfeit(*, milestone: Milestone, actor) -> tuple[Milestone, MoneyOperation]:
    """After review_not_met or declare_breach (I15): D to the platform, the rest paid in back to the enterprise
    (R8, I3), one operation. A breached milestone's completion also ends its project (``on_forfeit_done``)."""
    require_role(actor, Role.CUSTODIAN)
    project, milestone = _lock_milestone(milestone)
    _require_state(milestone, _("罚没保证金"), M.FAILED, M.BREACHED)
    _require_not_decider(milestone, actor, "review_not_met" if milestone.state == M.FAILED else "declare_breach")
    _refuse_if_pending(milestone, [P_RELEASE, P_FORFEIT, P_BALANCE, P_DEPOSIT])
    paid = milestone.paid_in
    forfeit = min(milestone.deposit_amount, paid)
    refund = paid - forfeit
    if paid <= 0:
        raise DomainError(_("该里程碑没有缴入资金，无需罚没（R8）"), code="nothing_paid_in", rule="R8")
    lines = [(custody_code(milestone), -paid), (codes.ext_platform(project.platform_id), forfeit)]
    if refund > 0:
        lines.append((codes.ext_enterprise(project.enterprise_id), refund))
    n = MoneyOperation.objects.filter(purpose=P_FORFEIT, context__milestone=milestone.pk).count() + 1
    op = operation_request(
        kind=OperationKind.FORFEIT, amount=paid, purpose=P_FORFEIT,
        context={**_ctx(milestone), "forfeit": str(forfeit), "refund": str(refund)}, lines=lines,
        memo=f"{project.title} 第{milestone.seq}里程碑 保证金罚没 {forfeit} / 退还企业 {refund}（R8、I3）",
        idempotency_key=f"milestone:{milestone.pk}:forfeit:{n}", ordered_by=actor, executed_by=actor,
        reference=milestone.payment_reference)
    audit_record(actor=actor, target=milestone, action="order_forfeit",
                 data={"operation": op.pk, "forfeit": str(forfeit), "refund": str(refund),
                       "operation_state": op.state})
    if op.state == OperationState.AWAITING_CONFIRMATION:
        notify(users=users_with_role(Role.CUSTODIAN).exclude(pk=actor.pk), verb="operation_confirm",
               text=_("%(m)s 罚没/退还 %(t)s 超过双人复核阈值，请另一名操作员复核")
               % {"m": _label(milestone), "t": format_cny(paid)}, url=_url(milestone))
    return milestone, op


# -- completion hooks (registered in projects/hooks.py) ---------------------------------
def _hook_target(op: MoneyOperation) -> Milestone | None:
    """The milestone an operation of ours moves, or None for an operation this app did not order
    (escrow may run operations of these purposes on its own, e.g. in its tests)."""
    ctx = op.context if isinstance(op.context, dict) else {}
    m = (Milestone.objects.filter(pk=ctx.get("milestone"), project_id=ctx.get("project"))
         .only("pk", "project_id", "seq").first()) if ctx.get("milestone") else None
    if m is None or custody_code(m) not in {code for code, _a in op.lines}:
        return None
    return m


def _hook_milestone(op: MoneyOperation) -> tuple[Project, Milestone] | tuple[None, None]:
    m = _hook_target(op)
    return _lock_milestone(m, require_active=False) if m is not None else (None, None)


def on_receipt_done(op: MoneyOperation) -> None:
    """A deposit or balance is in custody: paid_in grows; the milestone moves on."""
    project, milestone = _hook_milestone(op)
    if milestone is None:
        return
    amount = money(op.amount)
    milestone.paid_in = money(milestone.paid_in + amount)
    from_state = milestone.state
    fields = ["paid_in"]
    if op.purpose == P_DEPOSIT and milestone.state == M.DEPOSIT_DUE:
        milestone.confirm_deposit()
        fields.append("state")
        notify(users=_platform_users(project), verb="milestone_started",
               text=_("%(m)s 保证金 %(a)s 已到账，可以开始研发（R7）") % {"m": _label(milestone), "a": format_cny(amount)},
               url=_url(milestone))
    elif (op.purpose == P_BALANCE and milestone.state in (M.BALANCE_DUE, M.BALANCE_OVERDUE)
          and milestone.paid_in == milestone.amount):
        milestone.confirm_balance()
        fields.append("state")
        notify(users=users_with_role(Role.CUSTODIAN), verb="milestone_releasable",
               text=_("%(m)s 尾款已全额到账，请拨付 %(t)s 给平台（R7）")
               % {"m": _label(milestone), "t": format_cny(milestone.amount)}, url=_url(milestone))
    milestone.save(update_fields=fields)
    _audit(op.executed_by or op.ordered_by, milestone, "confirm_deposit" if op.purpose == P_DEPOSIT
           else "confirm_balance", from_state, operation=op.pk, amount=amount, bank_ref=op.bank_ref)
    notify(users=_enterprise_users(project), verb="payment_received",
           text=_("%(m)s 已确认到账 %(a)s（银行流水 %(ref)s）")
           % {"m": _label(milestone), "a": format_cny(amount), "ref": op.bank_ref}, url=_url(milestone))


def on_release_done(op: MoneyOperation) -> None:
    """Released: milestone k → released and milestone k+1 → deposit_due (R7)."""
    target = _hook_target(op)
    if target is None:
        return
    nxt = Milestone.objects.filter(project_id=target.project_id, seq__gt=target.seq).order_by("seq").first()
    ids = [op.context["milestone"]] + ([nxt.pk] if nxt else [])
    project, rows = _lock(op.context["project"], *ids)
    milestone = rows[op.context["milestone"]]
    if milestone.state != M.RELEASABLE:
        return  # nothing to do: a twin delivery already moved it
    milestone.release()
    milestone.released_amount = money(op.amount)
    milestone.save(update_fields=["state", "settled_at", "released_amount"])
    actor = op.confirmed_by or op.ordered_by
    _audit(actor, milestone, "release", M.RELEASABLE, operation=op.pk, amount=op.amount)
    notify(users=_platform_users(project), verb="milestone_released",
           text=_("%(m)s 已拨付 %(t)s") % {"m": _label(milestone), "t": format_cny(op.amount)}, url=_url(milestone))
    if nxt is not None:
        nxt = rows[nxt.pk]
        if nxt.state == M.PLANNED:
            nxt.request_deposit()
            nxt.save(update_fields=["state"])
            _audit(actor, nxt, "request_deposit", M.PLANNED, _("上一里程碑已拨付（R7）"))
            _notify_deposit_due(nxt)
    else:
        notify(users=users_with_role(Role.REVIEWER), verb="project_closable",
               text=_("“%(p)s”最后一个里程碑已拨付，可以结项并登记风险池垫付归还（I2）") % {"p": project.title},
               url=_url(milestone))


def on_forfeit_done(op: MoneyOperation) -> None:
    target = _hook_target(op)
    if target is None:
        return
    ids = list(Milestone.objects.filter(project_id=target.project_id).values_list("pk", flat=True))
    project, rows = _lock(target.project_id, *ids)  # all of them: a breach cancels the later ones (I15)
    milestone = rows[target.pk]
    from_state = milestone.state
    if from_state not in (M.FAILED, M.BREACHED):
        return
    milestone.forfeit()
    milestone.forfeited_amount = money(op.context["forfeit"])
    milestone.refunded_amount = money(op.context["refund"])
    milestone.save(update_fields=["state", "settled_at", "forfeited_amount", "refunded_amount"])
    _audit(op.confirmed_by or op.ordered_by, milestone, "forfeit", from_state, operation=op.pk,
           forfeit=milestone.forfeited_amount, refund=milestone.refunded_amount)
    if from_state == M.BREACHED:
        _end_after_breach(project, milestone, [m for m in rows.values() if m.seq > milestone.seq])
        return
    text = _("%(m)s 保证金 %(f)s 已支付给平台，退还企业 %(r)s（R8、I3）") % {
        "m": _label(milestone), "f": format_cny(milestone.forfeited_amount),
        "r": format_cny(milestone.refunded_amount)}
    notify(users=list(_enterprise_users(project)) + list(_platform_users(project)), verb="milestone_forfeited",
           text=text, url=_url(milestone))
    notify(users=users_with_role(Role.REVIEWER), verb="project_decide",
           text=_("%(m)s 已罚没，请决定继续下一里程碑或终止项目") % {"m": _label(milestone)}, url=_url(milestone))


# -- after a forfeiture: continue or terminate ----------------------------------------------
@transaction.atomic
def project_continue(*, project: Project, actor, reason: str = "") -> Milestone:
    """After a forfeiture the bureau lets the project go on: milestone k+1 → deposit_due."""
    _require_bureau(actor, project)
    ids = list(Milestone.objects.filter(project_id=project.pk).values_list("pk", flat=True))
    project, rows = _lock(project.pk, *ids)
    if project.state != ProjectState.ACTIVE:
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”") % {"s": project.get_state_display()})
    ordered = sorted(rows.values(), key=lambda m: m.seq)
    open_ = [m for m in ordered if m.state not in (M.PLANNED, M.RELEASED, M.FORFEITED)]
    if open_:
        raise _not_allowed(open_[0], _("继续下一里程碑"))
    nxt = next((m for m in ordered if m.state == M.PLANNED), None)
    last_settled = [m for m in ordered if m.state in (M.RELEASED, M.FORFEITED)]
    if nxt is None or not last_settled or last_settled[-1].state != M.FORFEITED:
        raise ConflictError(_("只有在里程碑被罚没后且仍有后续里程碑时才能继续（R8）"), code="nothing_to_continue",
                            rule="R8")
    nxt.request_deposit()
    nxt.save(update_fields=["state"])
    _audit(actor, nxt, "request_deposit", M.PLANNED, reason or _("罚没后继续下一里程碑"))
    audit_record(actor=actor, target=project, action="continue", from_state=project.state, to_state=project.state,
                 reason=reason)
    _notify_deposit_due(nxt)
    return nxt


def _repayment(project: Project, repaid_amount) -> tuple[Decimal, Decimal]:
    """The project's outstanding advance and what the bureau says the platform repays (blank: all of it, I2)."""
    from escrow.selectors import account_balance

    advanced = account_balance(codes.pool_advanced(project.pk))
    repaid = advanced if repaid_amount in (None, "") else parse_money(repaid_amount, field="repaid_amount")
    if repaid < 0 or repaid > advanced:
        raise DomainError(_("I2：归还金额须在 0 与垫付余额 %(b)s 之间") % {"b": format_cny(advanced)},
                          code="repayment_amount", rule="I2", fields={"repaid_amount": [_("超出垫付余额")]})
    return advanced, repaid


def _settle_advance(*, project: Project, actor, repaid_amount, reason: str) -> dict:
    """I2: what the platform repaid → pool:available; the shortfall → pool:losses, with its reason."""

    advanced, repaid = _repayment(project, repaid_amount)
    shortfall = advanced - repaid
    if shortfall > 0 and not (reason or "").strip():
        raise DomainError(_("I2：垫付未全额归还，核销损失 %(s)s 须说明原因") % {"s": format_cny(shortfall)},
                          code="reason_required", rule="I2", fields={"reason": [_("必填")]})
    ops = {}
    ctx = {"project": project.pk}
    if repaid > 0:
        ops["repayment"] = operation_request(
            kind=OperationKind.REPAYMENT, amount=repaid, purpose=P_REPAYMENT, context=ctx,
            lines=[(codes.pool_advanced(project.pk), -repaid), (codes.POOL_AVAILABLE, repaid)],
            memo=f"{project.title} 平台归还风险池垫付（I2）", idempotency_key=f"project:{project.pk}:repayment",
            ordered_by=actor, executed_by=actor, inline=True)
    if shortfall > 0:
        ops["write_off"] = operation_request(
            kind=OperationKind.WRITE_OFF, amount=shortfall, purpose=P_WRITE_OFF, context={**ctx, "reason": reason},
            lines=[(codes.pool_advanced(project.pk), -shortfall), (codes.POOL_LOSSES, shortfall)],
            memo=f"{project.title} 垫付核销损失（I2）：{reason}"[:300], idempotency_key=f"project:{project.pk}:write_off",
            ordered_by=actor, executed_by=actor, inline=True)
    return {"advanced": advanced, "repaid": repaid, "shortfall": shortfall, "operations": ops}


@transaction.atomic
def project_close(*, project: Project, actor, repaid_amount=None, reason: str = "") -> Project:
    """After the last release: active → completed, and the pool advance is repaid (or written off) (I2)."""
    _require_bureau(actor, project)
    ids = list(Milestone.objects.filter(project_id=project.pk).values_list("pk", flat=True))
    project, rows = _lock(project.pk, *ids)
    if project.state != ProjectState.ACTIVE:
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”，不能结项") % {"s": project.get_state_display()})
    ordered = sorted(rows.values(), key=lambda m: m.seq)
    unsettled = [m for m in ordered if m.state not in (M.RELEASED, M.FORFEITED)]
    if unsettled or not ordered or ordered[-1].state != M.RELEASED:
        raise ConflictError(_("R7：最后一个里程碑拨付后才能结项；否则请终止项目"), code="milestones_open", rule="R7")
    settled = _settle_advance(project=project, actor=actor, repaid_amount=repaid_amount, reason=reason)
    project.close()
    project.state_reason = reason
    project.save(update_fields=["state", "closed_at", "state_reason", "updated_at"])
    audit_record(actor=actor, target=project, action="close", from_state=ProjectState.ACTIVE, to_state=project.state,
                 reason=reason, data={k: str(v) for k, v in settled.items() if k != "operations"})
    notify(users=list(_enterprise_users(project)) + list(_platform_users(project)), verb="project_closed",
           text=_("“%(p)s”已结项") % {"p": project.title})
    return project


@transaction.atomic
def project_terminate(*, project: Project, actor, reason: str, repaid_amount=None) -> Project:
    """approved|active → terminated; custody must be settled first; the advance is settled as at close (I2)."""
    from escrow.selectors import account_balance

    _require_bureau(actor, project)
    if not (reason or "").strip():
        raise DomainError(_("终止项目须说明原因"), code="reason_required", fields={"reason": [_("必填")]})
    ids = list(Milestone.objects.filter(project_id=project.pk).values_list("pk", flat=True))
    project, rows = _lock(project.pk, *ids)
    from_state = project.state
    if from_state not in (ProjectState.APPROVED, ProjectState.ACTIVE):
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”，不能终止") % {"s": project.get_state_display()})
    for m in sorted(rows.values(), key=lambda m: m.seq):
        if account_balance(custody_code(m)) != 0 or _pending_operation(m, MILESTONE_PURPOSES):
            raise ConflictError(_("I3：第%(seq)s个里程碑的监管资金尚未处理（先认定未达标并罚没/退还），不能终止")
                                % {"seq": m.seq}, code="custody_not_settled", rule="I3")
    return _terminate(project, rows.values(), actor=actor, reason=reason, repaid_amount=repaid_amount)


def _terminate(project: Project, milestones: Iterable[Milestone], *, actor, reason: str, repaid_amount) -> Project:
    """Locked project, custody settled: cancel the milestones that never started, settle the advance (I2),
    approved|active → terminated. Shared by the bureau's termination and the end of a breach (I15)."""
    from_state = project.state
    cancelled = _cancel_unstarted(milestones, actor=actor, reason=reason)
    settled = _settle_advance(project=project, actor=actor, repaid_amount=repaid_amount, reason=reason)
    project.terminate()
    project.state_reason = reason
    project.save(update_fields=["state", "closed_at", "state_reason", "updated_at"])
    audit_record(actor=actor, target=project, action="terminate", from_state=from_state, to_state=project.state,
                 reason=reason, data={**{k: str(v) for k, v in settled.items() if k != "operations"},
                                      "cancelled": [m.seq for m in cancelled]})
    notify(users=list(_enterprise_users(project)) + list(_platform_users(project)), verb="project_terminated",
           text=_("“%(p)s”已终止：%(r)s") % {"p": project.title, "r": reason})
    return project


def _cancel_unstarted(milestones: Iterable[Milestone], *, actor, reason: str) -> list[Milestone]:
    """I15: planned or deposit-due milestones (they hold no money: R7, checked by the caller) → cancelled."""
    done = []
    for m in sorted(milestones, key=lambda m: m.seq):
        if m.state in CANCELLABLE:
            from_state = m.state
            m.cancel()
            m.save(update_fields=["state", "settled_at"])
            _audit(actor, m, "cancel", from_state, reason)
            done.append(m)
    return done


# -- the balance overdue, breach (I15) ------------------------------------------------------------
@transaction.atomic
def milestone_declare_breach(*, milestone: Milestone, actor, reason: str, repaid_amount=None) -> Milestone:
    """The bureau declares the enterprise in breach of a balance-overdue milestone: balance_overdue → breached (I15).

    The bureau fixes here what the platform repays of the pool advance (I2; blank: all of it). Nothing
    moves yet: the custodian's forfeiture then pays D to the platform, refunds the rest, cancels the later
    milestones and terminates the project with that repayment, in the one transaction that completes it.
    """
    from escrow.selectors import account_balance

    _require_bureau(actor, milestone.project)
    ids = list(Milestone.objects.filter(project_id=milestone.project_id).values_list("pk", flat=True))
    project, rows = _lock(milestone.project_id, *ids)
    milestone = rows[milestone.pk]
    if project.state != ProjectState.ACTIVE:
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”，其里程碑不能再办理") % {"s": project.get_state_display()},
                                   code="project_not_active")
    if milestone.state != M.BALANCE_OVERDUE:
        raise TransitionNotAllowed(
            _("I15：只有尾款逾期的里程碑才能认定企业违约，该里程碑当前状态为“%(s)s”")
            % {"s": milestone.get_state_display()}, code="not_balance_overdue", rule="I15")
    reason = require_reason(reason, action=_("认定企业违约"), rule="I15")
    _refuse_if_pending(milestone, MILESTONE_PURPOSES)  # a balance being confirmed is not a breach
    for later in (m for m in rows.values() if m.seq > milestone.seq):
        if later.state not in CANCELLABLE or later.paid_in or account_balance(custody_code(later)):
            raise ConflictError(_("R7：第%(seq)s个里程碑已开始或持有资金，请先处理") % {"seq": later.seq},
                                code="later_milestone_open", rule="R7")
    _advanced, repaid = _repayment(project, repaid_amount)
    milestone.declare_breach(reason=reason, repaid_amount=repaid)
    milestone.save(update_fields=["state", "breached_at", "breach_reason", "breach_repaid_amount"])
    _audit(actor, milestone, "declare_breach", M.BALANCE_OVERDUE, reason, repaid_amount=repaid,
           balance_unpaid=milestone.amount - milestone.paid_in)
    notify(users=users_with_role(Role.CUSTODIAN), verb="milestone_breached",
           text=_("%(m)s 企业违约（I15），请执行保证金罚没与退还，项目随之终止") % {"m": _label(milestone)},
           url=_url(milestone))
    notify(users=list(_enterprise_users(project)) + list(_platform_users(project)), verb="milestone_breached",
           text=_("%(m)s 尾款逾期未缴，已认定企业违约：%(r)s（I15）") % {"m": _label(milestone), "r": reason},
           url=_url(milestone))
    return milestone


def _end_after_breach(project: Project, milestone: Milestone, later: list[Milestone]) -> None:
    """In the forfeiture's transaction: later milestones cancelled, the project terminated, its advance settled
    with the repayment the bureau fixed when it declared the breach (I15, I2)."""
    from core.models import User

    decider = User.objects.filter(pk=_decider_id(milestone, "declare_breach")).first()
    reason = _("I15：第%(seq)s个里程碑企业违约：%(r)s") % {"seq": milestone.seq, "r": milestone.breach_reason}
    _terminate(project, later, actor=decider, reason=reason, repaid_amount=milestone.breach_repaid_amount)


# -- overdue (I7) -------------------------------------------------------------------------
def _cycle_end(milestone: Milestone, project: Project) -> date:
    from .validation import add_months  # the same R7 cycle end that submission checks

    return add_months(milestone.start_date, _scheme(project).max_milestone_months)


@transaction.atomic
def milestone_extend(*, milestone: Milestone, actor, due_date: date, reason: str = "") -> Milestone:
    """The bureau extends an overdue milestone; the whole cycle stays within the scheme's maximum (R7, I7).
    A balance-overdue milestone gets a new balance due date instead, with a reason (I15)."""
    _require_bureau(actor, milestone.project)
    project, milestone = _lock_milestone(milestone)
    if milestone.state == M.BALANCE_OVERDUE:
        return _extend_balance(project, milestone, actor=actor, balance_due_date=due_date, reason=reason)
    _require_state(milestone, _("延期"), M.OVERDUE)
    limit = _cycle_end(milestone, project)
    if due_date > limit:
        raise DomainError(_("R7：单个里程碑最长 %(n)s 个月，新截止日期不得晚于 %(d)s")
                          % {"n": _scheme(project).max_milestone_months, "d": limit.isoformat()},
                          code="milestone_too_long", rule="R7", fields={"due_date": [_("超过一年")]})
    if due_date <= timezone.localdate():
        raise DomainError(_("I7：新截止日期须晚于今天"), code="due_date_past", rule="I7",
                          fields={"due_date": [_("须晚于今天")]})
    old = milestone.due_date
    milestone.extend(due_date=due_date)
    milestone.reminded_at = None
    milestone.save(update_fields=["state", "due_date", "reminded_at"])
    _audit(actor, milestone, "extend", M.OVERDUE, reason, old_due_date=old, due_date=due_date)
    notify(users=list(_enterprise_users(project)) + list(_platform_users(project)), verb="milestone_extended",
           text=_("%(m)s 已延期至 %(d)s（I7）") % {"m": _label(milestone), "d": due_date.isoformat()},
           url=_url(milestone))
    return milestone


def _extend_balance(project: Project, milestone: Milestone, *, actor, balance_due_date: date, reason: str) -> Milestone:
    """balance_overdue → balance_due with a new balance due date, later than today (I15)."""
    reason = require_reason(reason, action=_("延长尾款缴纳期限"), rule="I15")
    if balance_due_date is None or balance_due_date <= timezone.localdate():
        raise DomainError(_("I15：新的尾款缴纳截止日期须晚于今天"), code="due_date_past", rule="I15",
                          fields={"due_date": [_("须晚于今天")]})
    old = milestone.balance_due_date
    milestone.extend_balance(balance_due_date=balance_due_date)
    milestone.save(update_fields=["state", "balance_due_date"])
    _audit(actor, milestone, "extend", M.BALANCE_OVERDUE, reason, old_balance_due_date=old or "",
           balance_due_date=balance_due_date)
    notify(users=list(_enterprise_users(project)) + list(_platform_users(project)), verb="milestone_extended",
           text=_("%(m)s 尾款缴纳期限已延长至 %(d)s（I15）") % {"m": _label(milestone), "d": balance_due_date.isoformat()},
           url=_url(milestone))
    return milestone


def balance_deadline(milestone: Milestone) -> date | None:
    """The day by which the balance must be confirmed (I15); for rows decided before the field existed, the
    decision's date plus the scheme's grace days."""
    if milestone.balance_due_date:
        return milestone.balance_due_date
    if milestone.decided_at is None:
        return None
    return timezone.localdate(milestone.decided_at) + timedelta(days=_scheme(milestone.project).balance_grace_days)


def milestones_mark_balance_overdue(*, today: date | None = None) -> list[int]:
    """I15: balance_due milestones past their balance due date become balance_overdue (one transaction each)."""
    today = today or timezone.localdate()
    done = []
    for m in Milestone.objects.filter(state=M.BALANCE_DUE).select_related("project__scheme"):
        deadline = balance_deadline(m)
        if deadline is None or deadline >= today:
            continue
        with transaction.atomic():
            project, milestone = _lock_milestone(m, require_active=False)
            if milestone.state != M.BALANCE_DUE:
                continue
            milestone.mark_balance_overdue()
            milestone.balance_due_date = deadline
            milestone.save(update_fields=["state", "balance_due_date"])
            _audit(None, milestone, "mark_balance_overdue", M.BALANCE_DUE, _("尾款缴纳期限已过（I15）"),
                   balance_due_date=deadline, balance_unpaid=milestone.amount - milestone.paid_in)
            text = _("%(m)s 尾款 %(b)s 逾期未缴（期限 %(d)s），请科技局延长期限或认定企业违约（I15）") % {
                "m": _label(milestone), "b": format_cny(milestone.amount - milestone.paid_in),
                "d": deadline.isoformat()}
            notify(users=list(users_with_role(Role.REVIEWER)) + list(_enterprise_users(project)),
                   verb="balance_overdue", text=text, url=_url(milestone))
            done.append(milestone.pk)
    return done


def milestones_mark_overdue(*, today: date | None = None) -> list[int]:
    """I7: in_progress milestones past their due date become overdue (one transaction each)."""
    today = today or timezone.localdate()
    done = []
    for m in Milestone.objects.filter(state=M.IN_PROGRESS, due_date__lt=today).only("pk", "project_id"):
        with transaction.atomic():
            project, milestone = _lock_milestone(m, require_active=False)
            if milestone.state != M.IN_PROGRESS or milestone.due_date >= today:
                continue
            milestone.mark_overdue()
            milestone.save(update_fields=["state"])
            _audit(None, milestone, "mark_overdue", M.IN_PROGRESS, _("截止日期已过（I7）"),
                   due_date=milestone.due_date)
            text = _("%(m)s 已逾期（截止 %(d)s），请科技局延期或认定未达标（I7）") % {
                "m": _label(milestone), "d": milestone.due_date.isoformat()}
            notify(users=list(users_with_role(Role.REVIEWER)) + list(_enterprise_users(project))
                   + list(_platform_users(project)), verb="milestone_overdue", text=text, url=_url(milestone))
            done.append(milestone.pk)
    return done


def milestones_remind(*, today: date | None = None, days: int = 14) -> list[int]:
    """Remind enterprise and platform N days before a milestone falls due (once per due date)."""
    today = today or timezone.localdate()
    done = []
    qs = Milestone.objects.filter(state=M.IN_PROGRESS, due_date__gte=today, due_date__lte=today + timedelta(days=days),
                                  reminded_at__isnull=True).only("pk", "project_id")
    for m in qs:
        with transaction.atomic():
            project, milestone = _lock_milestone(m, require_active=False)
            if milestone.reminded_at is not None or milestone.state != M.IN_PROGRESS:
                continue
            milestone.reminded_at = timezone.now()
            milestone.save(update_fields=["reminded_at"])
            audit_record(actor=None, target=milestone, action="remind", data={"due_date": str(milestone.due_date)})
            notify(users=list(_enterprise_users(project)) + list(_platform_users(project)), verb="milestone_due_soon",
                   text=_("%(m)s 将于 %(d)s 到期，请及时报告完成（I7）")
                   % {"m": _label(milestone), "d": milestone.due_date.isoformat()}, url=_url(milestone))
            done.append(milestone.pk)
    return done

