"""Filing a proposal: draft, edit, submit (R1, R2, R4–R7, R17, I9), 揭榜, 受理, return for changes."""
from __future__ import annotations

from dataclasses import fields as dc_fields
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from core.exceptions import DomainError
from core.models import Organization, SchemeVersion, User
from core.money import money
from core.services import send_notices

from .. import permissions as perms
from ..acceptance import run_acceptance_checks
from ..choices import ProjectState as S
from ..models import Milestone, Project
from ._common import (
    apply_transition,
    check,
    lock_project,
    refuse,
    require_reason,
    to_enterprise,
    to_platform,
    to_reviewers,
)
from .attachments import documents_check, documents_store
from .validation import MilestoneData, ProposalData, check_basic, check_eligibility

PROJECT_FIELDS = ["platform", "mode", "title", "summary", "total_amount", "equipment_amount", "budget",
                  "start_date", "end_date", "ip_terms", "profit_sharing", "insured"]
MILESTONE_FIELDS = ["seq", "title", "targets", "deliverables", "amount", "deposit_amount", "start_date", "due_date"]


def _milestone_data(rows: list[dict]) -> list[MilestoneData]:
    names = {f.name for f in dc_fields(MilestoneData)}
    return [MilestoneData(**{k: v for k, v in row.items() if k in names}) for row in rows]


def _proposal_data(values: dict, milestones: list[dict]) -> ProposalData:
    return ProposalData(platform=values.get("platform"), mode=values.get("mode") or "",
                        title=values.get("title") or "", total_amount=values.get("total_amount"),
                        equipment_amount=values.get("equipment_amount"), budget=values.get("budget"),
                        start_date=values.get("start_date"), end_date=values.get("end_date"),
                        ip_terms=values.get("ip_terms") or "", profit_sharing=values.get("profit_sharing") or "",
                        milestones=_milestone_data(milestones))


def _resolve_platform(value) -> Organization | None:
    if value is None or isinstance(value, Organization):
        return value
    return Organization.objects.filter(pk=value).first()


def _write_milestones(project: Project, milestones: list[dict]) -> None:
    project.milestones.all().delete()
    Milestone.objects.bulk_create([
        Milestone(project=project, seq=row["seq"], title=row.get("title", ""), targets=row.get("targets", "") or "",
                  deliverables=row.get("deliverables", "") or "", amount=money(row["amount"]),
                  deposit_amount=money(row["deposit_amount"]), start_date=row["start_date"],
                  due_date=row["due_date"])
        for row in sorted(milestones, key=lambda r: r["seq"])
    ])


@transaction.atomic
def project_create(*, actor: User, platform: Organization | int, mode: str, title: str, total_amount: Decimal,
                   budget: Decimal, start_date: date, end_date: date, equipment_amount: Decimal = Decimal("0.00"),
                   summary: str = "", ip_terms: str = "", profit_sharing: str = "", insured: bool = False,
                   milestones: list[dict] | None = None, scheme: SchemeVersion | None = None,
                   documents: dict | None = None) -> Project:
    """Enterprise staff save a draft (R4). A draft may break the scheme's rules; submit checks them.

    ``documents`` (``{"plan"|"agreement"|"policy": file}``) are filed with it, in this transaction (R12)."""
    check(perms.can_create(actor))
    milestones = milestones or []
    values = {"platform": _resolve_platform(platform), "mode": mode, "title": title, "summary": summary,
              "total_amount": total_amount, "equipment_amount": equipment_amount, "budget": budget,
              "start_date": start_date, "end_date": end_date, "ip_terms": ip_terms, "profit_sharing": profit_sharing,
              "insured": bool(insured)}
    check_basic(_proposal_data(values, milestones)).raise_if_any(stage=_("保存草稿"))
    scheme = scheme or SchemeVersion.active_on(start_date) or SchemeVersion.current()
    if scheme is None:
        raise DomainError(_("没有适用的政策版本"), code="no_scheme", rule="R19")
    project = Project.objects.create(
        enterprise=actor.organization, created_by=actor, scheme=scheme,
        **{**values, "total_amount": money(total_amount), "equipment_amount": money(equipment_amount),
           "budget": money(budget)})
    _write_milestones(project, milestones)
    from core.services import audit_record

    audit_record(actor=actor, target=project, action="create", to_state=project.state)
    documents_store(project=project, actor=actor, documents=documents)
    return project


@transaction.atomic
def project_update(*, project: Project, actor: User, milestones: list[dict] | None = None,
                   documents: dict | None = None, **changes) -> Project:
    """Edit a draft; ``milestones`` (when given) replaces every milestone row; ``documents`` are filed (R12)."""
    project = lock_project(project)
    check(perms.can_edit(actor, project))
    if project.state != S.DRAFT:
        from core.exceptions import TransitionNotAllowed

        raise TransitionNotAllowed(_("只有草稿可以修改（当前状态：%(s)s）") % {"s": project.get_state_display()})
    unknown = set(changes) - set(PROJECT_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))}, code="invalid")
    if "platform" in changes:
        changes["platform"] = _resolve_platform(changes["platform"])
    values = {name: getattr(project, name) for name in PROJECT_FIELDS} | changes
    rows = milestones if milestones is not None else [
        {name: getattr(m, name) for name in MILESTONE_FIELDS} for m in project.milestones.order_by("seq")]
    check_basic(_proposal_data(values, rows)).raise_if_any(stage=_("保存草稿"))
    for name, value in changes.items():
        if name in ("total_amount", "equipment_amount", "budget"):
            value = money(value)
        elif name == "insured":
            value = bool(value)
        setattr(project, name, value)
    if "start_date" in changes:
        project.scheme = SchemeVersion.active_on(project.start_date) or project.scheme
    project.save()
    if milestones is not None:
        _write_milestones(project, milestones)
    documents_store(project=project, actor=actor, documents=documents)
    return project


def project_validate(project: Project) -> None:
    """The eligibility check of submit and approve; raises one DomainError with every problem."""
    check_eligibility(ProposalData.of(project), scheme=project.scheme,
                      enterprise=project.enterprise).raise_if_any(stage=_("项目"))


def scheme_in_force_or_refuse(project: Project) -> SchemeVersion:
    """I16: the scheme version in force on the submission date (R19); none in force is a refusal."""
    today = timezone.localdate()
    scheme = SchemeVersion.active_on(today)
    if scheme is None:
        raise DomainError(_("%(d)s 没有生效的政策版本，暂不能申报；已通知区科技局登记新的政策版本")
                          % {"d": today.isoformat()}, code="no_scheme_in_force", rule="R19",
                          fields={"scheme": [_("申报日没有生效的政策版本")]})
    return scheme


def _tell_bureau_no_scheme(project: Project) -> None:
    """Outside the refused submission's transaction, so the notice survives its rollback (I16)."""
    with transaction.atomic():
        send_notices([to_reviewers(project, "no_scheme_in_force",
                                   gettext_noop("%(d)s 没有生效的政策版本，项目“%(t)s”无法申报，请登记新的政策版本"),
                                   d=timezone.localdate().isoformat(), t=project.title)])


def project_submit(*, project: Project, actor: User) -> Project:
    """File the proposal (R12) under the scheme version in force today (I16), after the eligibility check."""
    try:
        return _submit(project=project, actor=actor)
    except DomainError as exc:
        if exc.code == "no_scheme_in_force":
            _tell_bureau_no_scheme(project)
        raise


def _refuse_all(*checks) -> None:
    """Run every check; raise one DomainError naming all their problems (the first one's code and rule)."""
    refused = []
    for run in checks:
        try:
            run()
        except DomainError as exc:
            refused.append(exc)
    if not refused:
        return
    if len(refused) == 1:
        raise refused[0]
    first = refused[0]
    fields: dict[str, list[str]] = {}
    for exc in refused:
        for key, msgs in (exc.fields or {}).items():
            fields.setdefault(key, []).extend(msgs)
    raise DomainError(pgettext("标点", "；").join(exc.detail for exc in refused), code=first.code, rule=first.rule,
                      fields=fields or None)


@transaction.atomic
def _submit(*, project: Project, actor: User) -> Project:
    project = lock_project(project)
    check(perms.can_submit(actor, project))
    if project.state != S.DRAFT:
        apply_transition(project, method="submit", actor=actor)  # raises 409
    project.scheme = scheme_in_force_or_refuse(project)
    # R12: the plan and the agreement (and an insured project's policy) are filed with the proposal, so the
    # platform never signs, nor the bureau meets, a proposal that 受理 would have to refuse. One refusal names
    # every problem: the scheme's rules, the missing documents, the checks higher apps register (a policy).
    _refuse_all(lambda: project_validate(project), lambda: documents_check(project, step="submit"),
                lambda: run_acceptance_checks(project))
    apply_transition(project, method="submit", actor=actor, action="submit", extra_fields=["submitted_at", "scheme"],
                     data={"scheme": project.scheme.name}, notices=[to_platform(
                         project, "project_submitted",
                         gettext_noop("企业“%(e)s”向贵平台提交了合作需求“%(t)s”，请揭榜或说明不予揭榜的原因"),
                         e=project.enterprise.name, t=project.title)])
    return project


@transaction.atomic
def project_platform_sign(*, project: Project, actor: User) -> Project:
    """揭榜 (R4): only the platform the proposal is addressed to."""
    project = lock_project(project)
    check(perms.can_platform_act(actor, project))
    apply_transition(project, method="platform_sign", actor=actor, notices=[
        to_enterprise(project, "project_signed", gettext_noop("“%(p)s”已揭榜项目“%(t)s”，等待区科技局受理"),
                      p=project.platform.name, t=project.title),
        to_reviewers(project, "project_to_accept", gettext_noop("项目“%(t)s”已揭榜，待受理"), t=project.title)])
    return project


@transaction.atomic
def project_platform_decline(*, project: Project, actor: User, reason: str) -> Project:
    msg = gettext_noop("“%(p)s”不予揭榜“%(t)s”：%(r)s")
    return refuse(project, actor=actor, permission=perms.can_platform_act, method="platform_decline",
                  label=_("不予揭榜"), reason=reason,
                  notices=lambda p, r: [to_enterprise(p, "project_declined", msg, p=p.platform.name, t=p.title, r=r)])


@transaction.atomic
def project_accept(*, project: Project, actor: User) -> Project:
    """受理 (R12): the plan and the agreement (and an insured project's policy) must be on file.

    Submission already requires them; checked again here (a proposal filed before that rule, a policy
    recorded after signing). A refusal says the reviewer may return the proposal for changes with a reason."""
    project = lock_project(project)
    check(perms.can_review_act(actor, project))
    if project.state == S.SIGNED:
        try:
            documents_check(project, step="accept")
            run_acceptance_checks(project)  # R12: checks registered by higher apps (the insured project's policy)
        except DomainError as exc:
            exc.detail += _("；可“退回修改”并写明原因，企业会收到通知")
            raise
    msg = gettext_noop("项目“%(t)s”已受理，待组织专家评审")
    apply_transition(project, method="accept", actor=actor, notices=[
        to_enterprise(project, "project_accepted", msg, t=project.title),
        to_platform(project, "project_accepted", msg, t=project.title),
        to_reviewers(project, "project_to_review", msg, t=project.title)])
    return project


@transaction.atomic
def project_return_for_changes(*, project: Project, actor: User, reason: str) -> Project:
    """Back to draft. I13: the approval review's scores belong to this version of the proposal, so the
    drawn and scored assignments are voided (kept on record) and the next review round draws afresh."""
    project = lock_project(project)
    check(perms.can_review_act(actor, project))
    reason = require_reason(reason, action=_("退回修改"))
    from ..models import ExpertAssignment

    A = ExpertAssignment.Status
    current = project.assignments.filter(milestone__isnull=True, round=project.review_round)
    voided = list(current.filter(status__in=[A.ASSIGNED, A.SCORED]).values_list("pk", flat=True))
    from_round = project.review_round
    project.review_round += 1
    project.mean_score = None
    msg = gettext_noop("项目“%(t)s”被退回修改：%(r)s")
    apply_transition(project, method="return_for_changes", actor=actor, reason=reason,
                     extra_fields=["review_round", "mean_score"],
                     data={"voided_assignments": voided, "review_round": project.review_round}, notices=[
                         to_enterprise(project, "project_returned", msg, t=project.title, r=reason),
                         to_platform(project, "project_returned", msg, t=project.title, r=reason)])
    current.filter(pk__in=voided).update(status=A.VOIDED, conflict_reason=_(
        "项目退回修改，第 %(n)s 轮评审作废") % {"n": from_round})
    return project
