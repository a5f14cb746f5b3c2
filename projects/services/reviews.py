"""Expert review (R13, R16): random drawing with 回避, scoring, conflict declarations."""
from __future__ import annotations

import random

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.choices import ExpertCategory, Role
from core.exceptions import ConflictError, DomainError, TransitionNotAllowed
from core.models import User
from core.services import audit_record, record_event, send_notices, users_with_role

from .. import permissions as perms
from ..choices import ProjectState as S
from ..models import ConflictDeclaration, ExpertAssignment, Project
from ._common import apply_transition, check, lock_project, to_reviewers, to_users

A = ExpertAssignment.Status
_rng = random.SystemRandom()


def experts_without_conflict(project: Project):
    """The expert pool minus 回避: nobody employed by either party, nobody who declared a conflict with either."""
    parties = [project.enterprise_id, project.platform_id]
    conflicted = ConflictDeclaration.objects.filter(organization_id__in=parties).values("expert_id")
    return (users_with_role(Role.EXPERT).exclude(Q(organization_id__in=parties))
            .exclude(pk__in=conflicted).distinct().order_by("pk"))


def eligible_experts(project: Project):
    """Experts who may be drawn for the approval review: no conflict (回避), and not drawn before
    in this review round (including those who withdrew). I13: a new round draws afresh."""
    drawn = ExpertAssignment.objects.filter(project=project, milestone__isnull=True,
                                            round=project.review_round).values("expert_id")
    return experts_without_conflict(project).exclude(pk__in=drawn)


def panel_pick(candidates: list[User], *, needed: int, covered: set[str]) -> list[User]:
    """I17: one expert of each category the panel still lacks (where the pool has one), the rest at random."""
    chosen: list[User] = []
    for category in ExpertCategory.values:
        if len(chosen) >= needed:
            break
        if category in covered:
            continue
        of_kind = [c for c in candidates if c.expert_category == category and c not in chosen]
        if of_kind:
            chosen.append(_rng.choice(of_kind))
    rest = [c for c in candidates if c not in chosen]
    chosen += _rng.sample(rest, min(needed - len(chosen), len(rest)))
    return chosen


def experts_draw(*, project: Project, actor: User | None, count: int | None = None,
                 strict: bool = True) -> list[ExpertAssignment]:
    """Draw experts until the project has ``scheme.reviews_required`` active reviews in this round (I13).

    The panel gets a technical, an investment and a financial expert where the pool has them (I17). The
    caller holds the project's lock. ``strict`` refuses when the pool is too small.
    """
    active = list(ExpertAssignment.objects.filter(project=project, milestone__isnull=True, round=project.review_round,
                                                  status__in=[A.ASSIGNED, A.SCORED]).select_related("expert"))
    needed = (project.scheme.reviews_required - len(active)) if count is None else count
    if needed <= 0:
        return []
    candidates = list(eligible_experts(project))
    if len(candidates) < needed and strict:
        raise DomainError(_("回避后可抽取的专家只有 %(n)s 名，需要 %(k)s 名") % {"n": len(candidates), "k": needed},
                          code="not_enough_experts", rule="R16")
    chosen = panel_pick(candidates, needed=needed, covered={a.expert.expert_category for a in active})
    assignments = [ExpertAssignment.objects.create(project=project, expert=expert, round=project.review_round)
                   for expert in chosen]
    for assignment in assignments:
        audit_record(actor=actor, target=project, action="expert_drawn",
                     data={"expert": assignment.expert_id, "assignment": assignment.pk, "round": assignment.round,
                           "category": assignment.expert.expert_category})
    if chosen:
        send_notices([to_users(chosen, project, "review_assigned",
                               gettext_noop("您被抽取为项目“%(t)s”的评审专家，请评分或申报回避"), t=project.title)])
    return assignments


@transaction.atomic
def project_start_review(*, project: Project, actor: User) -> Project:
    """accepted → under_review, drawing the experts the scheme requires."""
    project = lock_project(project)
    check(perms.can_review_act(actor, project))
    apply_transition(project, method="start_review", actor=actor)
    experts_draw(project=project, actor=actor)
    return project


def _assignment_for(project: Project, expert: User) -> ExpertAssignment:
    assignment = (ExpertAssignment.objects.select_for_update()
                  .filter(project=project, milestone__isnull=True, expert=expert, round=project.review_round).first())
    if assignment is None:
        from core.exceptions import PermissionDeniedError

        raise PermissionDeniedError(_("您不是该项目的评审专家"), code="not_assigned")
    check(perms.can_score(expert, assignment))
    return assignment


def _update_mean(project: Project) -> None:
    from ..selectors import review_mean

    project.mean_score = review_mean(project)
    project.save(update_fields=["mean_score", "updated_at"])


@transaction.atomic
def review_submit(*, project: Project, expert: User, feasibility: int, terms: int, cost: int,
                  opinion: str) -> ExpertAssignment:
    """An expert scores the three criteria of R13 (0–100 each) with an opinion."""
    project = lock_project(project)
    assignment = _assignment_for(project, expert)
    if project.state != S.UNDER_REVIEW:
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”，不在评审中") % {"s": project.get_state_display()})
    if assignment.status != A.ASSIGNED:
        raise ConflictError(_("该评审已%(s)s，不能再次提交") % {"s": assignment.get_status_display()},
                            code="already_reviewed")
    errors: dict[str, list[str]] = {}
    values = {"feasibility": feasibility, "terms": terms, "cost": cost}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            errors[name] = [_("评分须为 0–100 的整数")]
    if not (opinion or "").strip():
        errors["opinion"] = [_("须填写评审意见")]
    if errors:
        raise DomainError(_("评分不完整或超出范围"), code="invalid_review", rule="R13", fields=errors)
    for name, value in values.items():
        setattr(assignment, name, value)
    assignment.opinion = opinion.strip()
    assignment.status = A.SCORED
    assignment.scored_at = timezone.now()
    assignment.save(update_fields=["feasibility", "terms", "cost", "opinion", "status", "scored_at"])
    _update_mean(project)
    scored = project.assignments.filter(milestone__isnull=True, round=project.review_round, status=A.SCORED).count()
    complete = [to_reviewers(project, "reviews_complete",
                             gettext_noop("项目“%(t)s”的专家评审已完成（平均分 %(m)s），可以立项或不予立项"),
                             t=project.title, m=project.mean_score)] if scored >= project.scheme.reviews_required else []
    record_event(actor=expert, target=project, action="review_scored",
                 data={"assignment": assignment.pk, "score": str(assignment.score)}, notices=complete)
    return assignment


@transaction.atomic
def review_declare_conflict(*, project: Project, expert: User, reason: str = "",
                            conflict_with: str = "enterprise") -> ExpertAssignment | None:
    """回避: the expert withdraws, the conflict is recorded for later drawings, and a replacement is drawn.

    Returns the replacement's assignment (None when the pool is exhausted: the reviewers are told).
    """
    project = lock_project(project)
    assignment = _assignment_for(project, expert)
    if assignment.status != A.ASSIGNED:
        raise ConflictError(_("该评审已%(s)s，不能申报回避") % {"s": assignment.get_status_display()},
                            code="already_reviewed")
    organization = project.platform if conflict_with == "platform" else project.enterprise
    reason = (reason or "").strip() or _("与项目当事方存在利害关系")
    assignment.status = A.WITHDRAWN
    assignment.conflict_reason = reason
    assignment.save(update_fields=["status", "conflict_reason"])
    ConflictDeclaration.objects.get_or_create(expert=expert, organization=organization, defaults={"reason": reason})
    audit_record(actor=expert, target=project, action="review_conflict", reason=reason,
                 data={"assignment": assignment.pk, "organization": organization.pk})
    replacement = None
    if project.state == S.UNDER_REVIEW:
        drawn = experts_draw(project=project, actor=expert, count=1, strict=False)
        replacement = drawn[0] if drawn else None
        if replacement is None:
            send_notices([to_reviewers(project, "experts_exhausted",
                                       gettext_noop("项目“%(t)s”有专家回避，专家库中已无可替补的专家"),
                                       t=project.title)])
    return replacement


__all__ = ["experts_draw", "eligible_experts", "panel_pick",
           "experts_without_conflict", "project_start_review", "review_submit",
           "review_declare_conflict"]
