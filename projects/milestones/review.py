"""Completion and review: the platform reports, experts score (R16, I17), the bureau finds the milestone met
or not met (R7, R8, I7)."""
from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from core.choices import ExpertCategory, Role
from core.exceptions import DomainError, PermissionDeniedError
from core.money import format_cny
from core.notices import Notice
from core.permissions import require
from core.services import audit_record, notify, users_with_role

from ..choices import AttachmentKind
from ..choices import MilestoneState as M
from ..models import ExpertAssignment, Milestone, Project
from ..services._common import enterprise_users, milestone_url, party_users, platform_users, require_reason, require_state
from ..services.reviews import experts_without_conflict
from . import permissions as perms
from .common import (
    EXPERT_DRAW_STATES,
    attach,
    audit,
    label_msg,
    lock_milestone,
    target_list,
)

_rng = random.SystemRandom()


@transaction.atomic
def milestone_report_completion(*, milestone: Milestone, actor, description: str,
                                target_notes: dict[str, str] | list[str] | None = None,
                                files: Iterable = ()) -> Milestone:
    """The platform reports completion with evidence, a note against each target (R7)."""
    require(perms.can_report_completion(actor, milestone))
    project, milestone = lock_milestone(milestone)
    require_state(milestone, _("报告完成"), M.IN_PROGRESS)
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
        raise DomainError(_("须逐项说明目标完成情况，缺：%(t)s") % {"t": pgettext("标点", "；").join(missing)},
                          code="target_notes_required", rule="R7", fields={"target_notes": missing})
    for upload in files:
        attach(project=project, milestone=milestone, kind=AttachmentKind.EVIDENCE, upload=upload, actor=actor)
    if not milestone.attachments.filter(kind=AttachmentKind.EVIDENCE).exists():
        raise DomainError(_("须上传至少一份成果证明材料"), code="evidence_required", fields={"files": [_("必填")]})
    lines = [description] + [f"【{t}】{target_notes[t]}" for t in targets]
    milestone.report_completion()
    milestone.completion_report = "\n".join(lines)
    milestone.save(update_fields=["state", "reported_at", "completion_report"])
    audit(actor, milestone, "report_completion", M.IN_PROGRESS, description,
          notices=[Notice(users=users_with_role(Role.REVIEWER), verb="milestone_reported",
                 msg=gettext_noop("%(m)s 平台已报告完成，请审核"), params={"m": label_msg(milestone)},
                 url=milestone_url(milestone))])
    return milestone


def _require_expert_scores(milestone: Milestone, project: Project) -> None:
    """R16 with I17: the acceptance counts the scores of the technical experts assigned to this milestone (any
    expert's only when the conflict-free pool has no technical expert, as the draw does)."""
    needed = project.scheme.milestone_reviews_required
    if needed <= 0:
        return
    scored = ExpertAssignment.objects.filter(milestone=milestone, status=ExpertAssignment.Status.SCORED)
    technical = experts_without_conflict(project).filter(expert_category=ExpertCategory.TECHNICAL).exists()
    if technical:
        scored = scored.filter(expert__expert_category=ExpertCategory.TECHNICAL)
    count = scored.count()
    if count < needed:
        if technical:
            raise DomainError(_("里程碑验收需 %(n)s 份技术专家评分，现有 %(s)s 份")
                              % {"n": needed, "s": count}, code="expert_scores_missing", rule="R16")
        raise DomainError(_("里程碑验收需 %(n)s 份专家评分，现有 %(s)s 份") % {"n": needed, "s": count},
                          code="expert_scores_missing", rule="R16")


@transaction.atomic
def milestone_assign_expert(*, milestone: Milestone, actor, expert) -> ExpertAssignment:
    """The bureau draws an expert for a milestone's acceptance (R16)."""
    require(perms.can_draw_expert(actor, milestone))
    if not expert.has_role(Role.EXPERT):
        raise DomainError(_("所选人员不是专家"), code="not_an_expert", rule="R16")
    if not experts_without_conflict(milestone.project).filter(pk=expert.pk).exists():
        raise DomainError(_("回避：该专家受雇于项目一方或已声明与其存在利益冲突"), code="expert_conflict",
                          rule="R16")
    project, milestone = lock_milestone(milestone)
    require_state(milestone, _("指派专家"), *EXPERT_DRAW_STATES)
    assignment, _created = ExpertAssignment.objects.get_or_create(project=project, milestone=milestone, expert=expert)
    audit_record(actor=actor, target=milestone, action="assign_expert", data={"expert": expert.pk})
    notify(users=[expert], verb="milestone_expert", msg=gettext_noop("请对%(m)s进行验收评分"),
                                                    params={"m": label_msg(milestone)},
           url=milestone_url(milestone))
    return assignment


@transaction.atomic
def milestone_expert_score(*, milestone: Milestone, actor, feasibility: int, terms: int, cost: int,
                           opinion: str = "") -> ExpertAssignment:
    """An assigned expert scores a reported milestone, each score 0–100 (R16)."""
    require(perms.can_score(actor, milestone))
    project, milestone = lock_milestone(milestone)
    require_state(milestone, _("专家评分"), M.REPORTED)
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
    require(perms.can_review(actor, milestone))
    reason = require_reason(reason, action=_("审核通过"), rule="R7")
    project, milestone = lock_milestone(milestone)
    require_state(milestone, _("审核通过"), M.REPORTED)
    _require_expert_scores(milestone, project)
    balance = milestone.amount - milestone.paid_in
    if balance == 0:  # I15: the whole tranche was paid in before the decision
        milestone.review_met_fully_paid(by=actor)
    else:
        milestone.review_met(by=actor, balance_due_date=timezone.localdate()
                             + timedelta(days=project.scheme.balance_grace_days))
    milestone.decision_reason = reason
    milestone.save(update_fields=["state", "decided_at", "decided_by", "decision_reason", "balance_due_date"])
    audit(actor, milestone, "review_met", M.REPORTED, reason, balance_due=balance,
           balance_due_date=milestone.balance_due_date or "")
    if balance == 0:
        notify(users=users_with_role(Role.CUSTODIAN), verb="milestone_releasable",
               msg=gettext_noop("%(m)s 审核通过且已全额缴入，请拨付 %(t)s 给平台"),
               params={"m": label_msg(milestone), "t": format_cny(milestone.amount)}, url=milestone_url(milestone))
    else:
        notify(users=enterprise_users(project), verb="balance_due",
               msg=gettext_noop("%(m)s 审核通过，请于 %(d)s 前缴纳尾款 %(b)s，付款附言 %(ref)s"),
               params={"m": label_msg(milestone), "b": format_cny(balance), "ref": milestone.payment_reference,
                  "d": milestone.balance_due_date.isoformat()},
               url=milestone_url(milestone))
    notify(users=platform_users(project), verb="milestone_met",
           msg=gettext_noop("%(m)s 审核通过"), params={"m": label_msg(milestone)}, url=milestone_url(milestone))
    return milestone


@transaction.atomic
def milestone_review_not_met(*, milestone: Milestone, actor, reason: str) -> Milestone:
    """The bureau finds the milestone not met (reported, in progress or overdue, I7) → failed (R8)."""
    require(perms.can_review(actor, milestone))
    if not (reason or "").strip():
        raise DomainError(_("认定未达标须说明理由"), code="reason_required", rule="R8",
                          fields={"reason": [_("必填")]})
    project, milestone = lock_milestone(milestone)
    from_state = milestone.state
    require_state(milestone, _("认定未达标"), M.REPORTED, M.IN_PROGRESS, M.OVERDUE)
    if from_state == M.REPORTED:
        _require_expert_scores(milestone, project)
    milestone.review_not_met(by=actor)
    milestone.decision_reason = reason
    milestone.save(update_fields=["state", "decided_at", "decided_by", "decision_reason"])
    audit(actor, milestone, "review_not_met", from_state, reason,
          notices=[Notice(users=users_with_role(Role.CUSTODIAN), verb="milestone_failed",
                 msg=gettext_noop("%(m)s 认定未达标，请执行保证金罚没与退还"), params={"m": label_msg(milestone)},
                 url=milestone_url(milestone)),
          Notice(users=party_users(project), verb="milestone_not_met",
                 msg=gettext_noop("%(m)s 认定未达标：%(r)s"),
                 params={"m": label_msg(milestone), "r": reason}, url=milestone_url(milestone))])
    return milestone


@transaction.atomic
def milestone_expert_draw(*, milestone: Milestone, actor) -> ExpertAssignment:
    """I17: a milestone's acceptance draws a technical expert without conflict (any expert when the pool has
    no technical one), assigned through the milestone service.

    The milestone is locked before anyone is chosen, so two draws at once choose one after the other and never
    the same expert twice; the page's form carries a one-time token, so a double-click draws once.
    """
    require(perms.can_draw_expert(actor, milestone))  # the reviewer's decision, refused before anything is drawn
    project, milestone = lock_milestone(milestone)
    taken = ExpertAssignment.objects.filter(milestone=milestone).values("expert_id")
    candidates = list(experts_without_conflict(project).exclude(pk__in=taken))
    if not candidates:
        raise DomainError(_("回避后已无可抽取的专家"), code="not_enough_experts", rule="R16")
    technical = [c for c in candidates if c.expert_category == ExpertCategory.TECHNICAL]
    return milestone_assign_expert(milestone=milestone, actor=actor, expert=_rng.choice(technical or candidates))
