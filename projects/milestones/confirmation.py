"""The panel's money and official actions say what they will do before they do it.

An action marked ``confirm`` in the registry (confirming a deposit or balance, release, forfeiture, declaring a
breach, closing or terminating the project) first answers with a confirmation page: the payee, the amount and how
it splits, the account it comes from, in words, and the evidence the order rests on (the milestone's completion
report and evidence files, the review decision and its reason, bank receipts). Only the page's explicit
confirmation, which carries the typed values and a one-time form token, runs the action.

The page's figures are the service's own: the action is rehearsed in a savepoint that is always rolled back
(``rehearse``), so the same checks refuse it before anyone confirms, and the legs shown are the lines of the
operations it would order. Nothing of the rehearsal is kept: no posting, audit row or notice, and the work a
commit would dispatch is dropped with the savepoint. The second custodian operator reads the same summary of an
order awaiting confirmation on the escrow page (``operation_evidence``, registered in ``projects/hooks.py``).
"""
from __future__ import annotations

from django.db import transaction
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.money import format_cny
from escrow.choices import OperationState
from escrow.models import MoneyOperation
from escrow.selectors import Evidence, moves

from ..choices import AttachmentKind
from ..models import Attachment, Milestone, Project
from ..services._common import milestone_url
from .common import label
from .registry import perform
from .settlement import forfeit_split

CONFIRMED = "confirmed"  # the field the confirmation page's form adds
CARRIED_SKIP = {"csrfmiddlewaretoken", "_once", CONFIRMED}


class _Rehearsed(Exception):
    def __init__(self, result, operations):
        super().__init__("rehearsal")
        self.result, self.operations = result, operations


def rehearse(action, obj, actor, kwargs: dict):
    """Run the action's service and roll it all back: what it returned and the operations it ordered.

    A refusal (DomainError) propagates as it would from the real call."""
    project_id = obj.pk if isinstance(obj, Project) else obj.project_id
    before = MoneyOperation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        with transaction.atomic():
            result = perform(action, obj, actor, kwargs)
            ops = list(MoneyOperation.objects.filter(pk__gt=before, project_ref=project_id).order_by("pk"))
            raise _Rehearsed(result, ops)
    except _Rehearsed as done:
        return done.result, done.operations


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else "—"


def milestone_evidence(milestone: Milestone) -> Evidence:
    """What an order on this milestone rests on: its figures, the bureau's decision, the report and the files."""
    project = milestone.project
    facts = [(_("企业"), project.enterprise.name), (_("平台"), project.platform.name),
             (_("里程碑状态"), milestone.get_state_display()),
             (_("阶段经费 T"), format_cny(milestone.amount)), (_("约定保证金 D"), format_cny(milestone.deposit_amount)),
             (_("已缴入"), format_cny(milestone.paid_in)), (_("付款附言"), milestone.payment_reference)]
    if milestone.decided_by_id:
        facts.append((_("审核人"), f"{_name(milestone.decided_by)} {milestone.decided_at:%Y-%m-%d}"
                      if milestone.decided_at else _name(milestone.decided_by)))
    if milestone.decision_reason:
        facts.append((_("审核意见"), milestone.decision_reason))
    if milestone.breached_by_id:
        facts.append((_("违约认定人"), _name(milestone.breached_by)))
    if milestone.breach_reason:
        facts.append((_("违约认定理由"), milestone.breach_reason))
    files: dict[str, list] = {AttachmentKind.EVIDENCE: [], AttachmentKind.RECEIPT: []}
    for a in Attachment.objects.filter(milestone=milestone, kind__in=list(files)).order_by("uploaded_at", "pk"):
        files[a.kind].append((a.original_name, reverse("milestones:attachment", args=[a.pk])))
    return Evidence(subject=label(milestone), project_titles={project.pk: project.title}, facts=facts,
                    report=milestone.completion_report,
                    files=[(_("成果材料"), files[AttachmentKind.EVIDENCE]), (_("银行回单"), files[AttachmentKind.RECEIPT])],
                    link=milestone_url(milestone))


def operation_evidence(op: MoneyOperation) -> Evidence | None:
    """The escrow checker page's evidence for an order placed on a milestone (registered per purpose)."""
    ctx = op.context if isinstance(op.context, dict) else {}
    milestone = (Milestone.objects.select_related("project__enterprise", "project__platform", "decided_by",
                                                  "breached_by")
                 .filter(pk=ctx.get("milestone"), project_id=ctx.get("project")).first())
    return milestone_evidence(milestone) if milestone is not None else None


def _project_evidence(project: Project) -> Evidence:
    return Evidence(subject=project.title, project_titles={project.pk: project.title},
                    facts=[(_("企业"), project.enterprise.name), (_("平台"), project.platform.name),
                           (_("项目状态"), project.get_state_display())],
                    link=reverse("milestones:project", args=[project.pk]))


def _notes(action, result, operations) -> list[str]:
    notes = []
    if any(op.state == OperationState.AWAITING_CONFIRMATION for op in operations):
        notes.append(_("金额超过双人复核阈值：确认后须由另一名监管账户操作员查看证据并复核，复核前资金不动。"))
    if action.name == "declare_breach" and isinstance(result, Milestone):
        _paid, forfeit, refund = forfeit_split(result)
        project = result.project
        notes.append(_("认定违约本身不动用资金。随后由监管账户操作员罚没：保证金 %(f)s 支付给平台 %(pf)s，"
                       "其余 %(r)s 退还企业 %(e)s；后续里程碑取消，项目终止，平台归还风险池垫付 %(b)s。")
                     % {"f": format_cny(forfeit), "pf": project.platform.name, "r": format_cny(refund),
                        "e": project.enterprise.name, "b": format_cny(result.breach_repaid_amount or 0)})
    if action.name in ("close", "terminate"):
        notes.append(_("项目将结项。") if action.name == "close" else _("项目将终止，未开始的里程碑随之取消。"))
    return notes


def confirmation_page(request, action, obj, kwargs: dict):
    """The confirmation page of one action: rehearsed first (a DomainError propagates: the service refuses)."""
    result, operations = rehearse(action, obj, request.user, kwargs)
    project = obj if isinstance(obj, Project) else obj.project
    evidence = _project_evidence(project) if isinstance(obj, Project) else milestone_evidence(obj)
    legs = [m for op in operations for m in moves(op.kind, op.lines, project_titles=evidence.project_titles)]
    typed = [(_("银行流水号"), kwargs["bank_ref"]) if kwargs.get("bank_ref") else None,
             (_("理由"), kwargs["reason"]) if kwargs.get("reason") else None]
    evidence.facts = [t for t in typed if t] + evidence.facts
    carried = [(k, v) for k, values in request.POST.lists() if k not in CARRIED_SKIP for v in values]
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = ""
    return render(request, "projects/milestones/confirm.html", {
        "action": action, "title": action.label, "obj": obj, "project": project, "moves": legs,
        "total": sum((m.amount for m in legs), 0), "evidence": evidence, "notes": _notes(action, result, operations),
        "carried": carried, "confirmed_field": CONFIRMED, "back": back})
