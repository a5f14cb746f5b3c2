"""Browser pages for milestones: the project's milestone panel and its action forms.

Each POST validates input and calls one service; permissions are checked by
the services and scoped by the selectors (another organisation's project → 404).
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.choices import Role
from core.exceptions import DomainError
from core.files import file_response
from core.permissions import has_role
from core.services import notification_mark_opened
from escrow.choices import OperationState
from escrow.models import MoneyOperation
from escrow.services import operation_confirm

from .. import milestones as ms
from ..choices import AttachmentKind, ProjectState
from ..choices import MilestoneState as M
from ..models import Attachment, ExpertAssignment
from .selectors import (
    milestone_events,
    milestone_operations,
    milestones_visible_to,
    projects_for_milestones,
)
from .timeline import build_timeline


def panel_context(project, user) -> dict:
    """The milestone table, the actions this user may take, and the timeline (a fixed number of queries)."""
    rows = list(milestones_visible_to(user).filter(project_id=project.pk).order_by("seq"))
    ids = [m.pk for m in rows]
    ops = milestone_operations(ids)
    events = milestone_events(ids)
    atts: dict[int, list[Attachment]] = {}
    for a in Attachment.objects.filter(milestone_id__in=ids).order_by("uploaded_at", "pk"):
        atts.setdefault(a.milestone_id, []).append(a)
    is_ent = has_role(user, Role.ENTERPRISE) and user.organization_id == project.enterprise_id
    is_plat = has_role(user, Role.PLATFORM) and user.organization_id == project.platform_id
    is_cust = has_role(user, Role.CUSTODIAN)
    is_rev = has_role(user, Role.REVIEWER)
    active = project.state == ProjectState.ACTIVE  # completed or terminated: nothing more to do on a milestone
    experts: dict[int, list[ExpertAssignment]] = {}
    if is_rev:  # the parties never see who judges their milestone (as with the approval reviews)
        for a in ExpertAssignment.objects.filter(milestone_id__in=ids).select_related("expert").order_by("pk"):
            experts.setdefault(a.milestone_id, []).append(a)
    items = []
    for m in rows:
        m_ops = ops.get(m.pk, [])
        pending = [o for o in m_ops if o.state in ms.PENDING_STATES]
        awaiting = [o for o in pending if o.state == OperationState.AWAITING_CONFIRMATION]
        payable = m.state in ms.BALANCE_PAYABLE and m.paid_in < m.amount  # I15: from the deposit on
        items.append({
            "m": m,
            "targets": ms.target_list(m),
            "operations": m_ops,
            "pending": pending,
            "awaiting": awaiting,
            "receipts": [a for a in atts.get(m.pk, []) if a.kind == AttachmentKind.RECEIPT],
            "evidence": [a for a in atts.get(m.pk, []) if a.kind == AttachmentKind.EVIDENCE],
            "experts": experts.get(m.pk, []),
            "instructions": ms.payment_instructions(m) if active and m.state in (M.DEPOSIT_DUE, M.BALANCE_DUE,
                                                                                 M.BALANCE_OVERDUE) else None,
            "can": {k: allowed and active for k, allowed in {
                "upload_receipt": is_ent and (m.state == M.DEPOSIT_DUE or payable),
                "confirm_deposit": is_cust and m.state == M.DEPOSIT_DUE and not pending,
                "confirm_balance": is_cust and payable and not pending,
                "report_completion": is_plat and m.state == M.IN_PROGRESS,
                "review": is_rev and m.state == M.REPORTED,
                "review_not_met": is_rev and m.state in (M.IN_PROGRESS, M.OVERDUE),
                "extend": is_rev and m.state == M.OVERDUE,
                "extend_balance": is_rev and m.state == M.BALANCE_OVERDUE,  # I15
                "declare_breach": is_rev and m.state == M.BALANCE_OVERDUE and not pending,  # I15
                "release": is_cust and m.state == M.RELEASABLE and not pending,
                "forfeit": is_cust and m.state in (M.FAILED, M.BREACHED) and not pending,
                "confirm_operation": is_cust and any(o.ordered_by_id != user.pk for o in awaiting),
                "request_deposit": is_rev and m.state == M.PLANNED,
                "draw_expert": is_rev and m.state in ms.EXPERT_DRAW_STATES,  # I17: a technical expert
            }.items()},
        })
    states = [m.state for m in rows]
    settled = {M.RELEASED, M.FORFEITED}
    project_can = {
        "open_escrow": is_rev and project.state == ProjectState.APPROVED,
        "continue": is_rev and project.state == ProjectState.ACTIVE and M.PLANNED in states
        and all(s in settled | {M.PLANNED} for s in states) and M.FORFEITED in states,
        "close": is_rev and project.state == ProjectState.ACTIVE and bool(states)
        and all(s in settled for s in states) and states[-1] == M.RELEASED,
        "terminate": is_rev and project.state in (ProjectState.APPROVED, ProjectState.ACTIVE),
    }
    return {"project": project, "items": items, "project_can": project_can,
            "timeline": build_timeline(rows, events)}


@login_required
def project_milestones(request, project_id: int):
    project = get_object_or_404(projects_for_milestones(request.user).select_related("enterprise", "platform", "scheme"),
                                pk=project_id)
    notification_mark_opened(user=request.user, path=request.path)  # its milestones' notices are read
    return render(request, "projects/milestones/project.html", {"project": project})


def _back(request, project_id: int, anchor: str = ""):
    """Back to the page the form was on (the project page that includes the panel, or ours)."""
    nxt = request.POST.get("next", "")
    if not (nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure())):
        nxt = reverse("milestones:project", args=[project_id])
    return redirect(nxt + anchor)


@login_required
@require_POST
def milestone_action(request, pk: int, action: str):
    milestone = get_object_or_404(milestones_visible_to(request.user), pk=pk)
    p = request.POST
    user = request.user
    try:
        if action == "upload_receipt":
            upload = request.FILES.get("file")
            if upload is None:
                raise DomainError(_("请选择银行回单文件"), code="file_required")
            ms.milestone_upload_receipt(milestone=milestone, actor=user, file=upload)
            messages.success(request, _("银行回单已上传，等待监管账户操作员核对"))
        elif action in ("confirm_deposit", "confirm_balance"):
            fn = ms.milestone_confirm_deposit if action == "confirm_deposit" else ms.milestone_confirm_balance
            op = fn(milestone=milestone, actor=user, amount=p.get("amount"), bank_ref=p.get("bank_ref", ""))
            messages.success(request, _("已登记到账，资金操作 #%(id)s") % {"id": op.pk})
        elif action == "report_completion":
            targets = ms.target_list(milestone)
            notes = {t: p.get(f"target_{i}", "") for i, t in enumerate(targets)}
            ms.milestone_report_completion(milestone=milestone, actor=user, description=p.get("description", ""),
                                           target_notes=notes, files=request.FILES.getlist("files"))
            messages.success(request, _("已报告完成，等待科技局审核"))
        elif action == "review_met":
            ms.milestone_review_met(milestone=milestone, actor=user, reason=p.get("reason", ""))
            messages.success(request, _("已审核通过"))
        elif action == "review_not_met":
            ms.milestone_review_not_met(milestone=milestone, actor=user, reason=p.get("reason", ""))
            messages.success(request, _("已认定未达标"))
        elif action == "release":
            _m, op = ms.milestone_release(milestone=milestone, actor=user)
            messages.success(request, _("已发起拨付，资金操作 #%(id)s：%(s)s")
                             % {"id": op.pk, "s": MoneyOperation.objects.get(pk=op.pk).get_state_display()})
        elif action == "forfeit":
            _m, op = ms.milestone_forfeit(milestone=milestone, actor=user)
            messages.success(request, _("已发起罚没与退还，资金操作 #%(id)s：%(s)s")
                             % {"id": op.pk, "s": MoneyOperation.objects.get(pk=op.pk).get_state_display()})
        elif action == "extend":
            try:
                due = parse_date(p.get("due_date", "") or "")
            except ValueError:  # well formed but no such day, e.g. 2026-02-30
                due = None
            if due is None:
                raise DomainError(_("请填写新的截止日期"), code="due_date_required")
            ms.milestone_extend(milestone=milestone, actor=user, due_date=due, reason=p.get("reason", ""))
            messages.success(request, _("已延期"))
        elif action == "declare_breach":
            ms.milestone_declare_breach(milestone=milestone, actor=user, reason=p.get("reason", ""),
                                        repaid_amount=p.get("repaid_amount") or None)
            messages.success(request, _("已认定企业违约，待监管账户操作员执行罚没与退还（I15）"))
        elif action == "request_deposit":
            ms.milestone_request_deposit(milestone=milestone, actor=user, reason=p.get("reason", ""))
            messages.success(request, _("已通知企业缴纳保证金"))
        elif action == "draw_expert":
            assignment = ms.milestone_expert_draw(milestone=milestone, actor=user)
            messages.success(request, _("已抽取专家 %(e)s 负责该里程碑的验收评分（I17）")
                             % {"e": assignment.expert.get_full_name() or assignment.expert.username})
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.detail)
    return _back(request, milestone.project_id, f"#m{milestone.seq}")


@login_required
@require_POST
def project_action(request, project_id: int, action: str):
    project = get_object_or_404(projects_for_milestones(request.user), pk=project_id)
    p = request.POST
    user = request.user
    try:
        repaid = p.get("repaid_amount") or None
        if action == "open_escrow":
            ms.project_open_escrow(project=project, actor=user, reason=p.get("reason", ""))
            messages.success(request, _("已开通保证金通道（R14）"))
        elif action == "continue":
            ms.project_continue(project=project, actor=user, reason=p.get("reason", ""))
            messages.success(request, _("已继续下一里程碑"))
        elif action == "close":
            ms.project_close(project=project, actor=user, repaid_amount=repaid, reason=p.get("reason", ""))
            messages.success(request, _("项目已结项"))
        elif action == "terminate":
            ms.project_terminate(project=project, actor=user, repaid_amount=repaid, reason=p.get("reason", ""))
            messages.success(request, _("项目已终止"))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.detail)
    return _back(request, project.pk)


@login_required
@require_POST
def operation_confirm_view(request, op_id: int):
    """The second custodian operator's confirmation of a release or forfeiture (maker–checker)."""
    op = get_object_or_404(MoneyOperation, pk=op_id, purpose__in=ms.MILESTONE_PURPOSES)
    milestone = get_object_or_404(milestones_visible_to(request.user), pk=op.context.get("milestone"))
    try:
        operation_confirm(operation=op, by=request.user)
        messages.success(request, _("已复核，资金操作 #%(id)s 执行完毕") % {"id": op.pk})
    except DomainError as exc:
        messages.error(request, exc.detail)
    return _back(request, milestone.project_id, f"#m{milestone.seq}")


@login_required
def attachment_download(request, att_id: int):
    att = get_object_or_404(Attachment, pk=att_id, milestone__isnull=False)
    get_object_or_404(milestones_visible_to(request.user), pk=att.milestone_id)
    return file_response(att.file, filename=att.original_name, content_type=att.content_type)

