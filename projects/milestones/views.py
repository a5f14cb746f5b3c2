"""Browser pages for milestones: the project's milestone panel and its action forms.

The panel offers the registry's actions (``registry.py``) with the same permission decisions the services
check; each POST reads the action's form and calls its service. Objects are scoped by the selectors
(another organisation's project → 404).
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import feedback
from core.exceptions import DomainError
from core.files import file_response
from core.permissions import deny
from core.services import notification_mark_opened
from escrow.choices import OperationState
from escrow.models import MoneyOperation
from escrow.permissions import can_operate
from escrow.services import operation_confirm

from .. import milestones as ms
from ..choices import AttachmentKind, ProjectState
from ..choices import MilestoneState as M
from ..models import Attachment, ExpertAssignment
from ..registry import PROJECT, milestone_panel
from . import permissions as perms
from .confirmation import CONFIRMED, confirmation_page
from .registry import MILESTONE, operation_of, perform
from .selectors import (
    milestone_operations,
    milestones_visible_to,
    projects_for_milestones,
)
from .timeline import build_timeline


def _offer(action, user, obj, *, pending: bool = False, rows=()) -> dict | None:
    """The panel's entry for one action: None where the state or the user's role has nothing to do with it;
    otherwise whether it may be taken now and, if not, why (a money operation in flight, separation of duties)."""
    available = action.extra.get("available")
    if obj.state not in action.sources or (available and not available(obj, rows)):
        return None
    decision = action.permission(user, obj)
    if not decision and decision.code != "separation_of_duties":
        return None  # another role's action
    if decision and pending and action.extra.get("money"):
        decision = deny(_("该里程碑有一笔资金操作正在处理"))
    return {"name": action.name, "label": action.label, "allowed": bool(decision), "reason": decision.reason}


def panel_context(project, user, typed=None) -> dict:
    """The milestone table, the actions this user may take (from the registry), and the timeline (a fixed
    number of queries). ``typed(place)``: what was typed into a refused form there (``core.feedback``)."""
    typed = typed or (lambda place: {})
    rows = list(milestones_visible_to(user).filter(project_id=project.pk).order_by("seq"))
    ids = [m.pk for m in rows]
    ops = milestone_operations(ids)
    atts: dict[int, list[Attachment]] = {}
    for a in Attachment.objects.filter(milestone_id__in=ids).order_by("uploaded_at", "pk"):
        atts.setdefault(a.milestone_id, []).append(a)
    active = project.state == ProjectState.ACTIVE  # completed or terminated: nothing more to do on a milestone
    experts: dict[int, list[ExpertAssignment]] = {}
    if perms.sees_experts(user, project):
        for a in ExpertAssignment.objects.filter(milestone_id__in=ids).select_related("expert").order_by("pk"):
            experts.setdefault(a.milestone_id, []).append(a)
    # the second operator's confirmation: the custodian desk's decision (escrow refuses the maker)
    checker = active and bool(can_operate(user))
    items = []
    for m in rows:
        m_ops = ops.get(m.pk, [])
        pending = [o for o in m_ops if o.state in ms.PENDING_STATES]
        awaiting = [o for o in pending if o.state == OperationState.AWAITING_CONFIRMATION]
        offers = [_offer(a, user, m, pending=bool(pending), rows=rows) for a in MILESTONE] if active else []
        can: dict = {"confirm_operation": None, **{a.name: None for a in MILESTONE}}  # the template asks for each
        can.update({o["name"]: o for o in offers if o})
        if checker and any(o.ordered_by_id != user.pk for o in awaiting):
            can["confirm_operation"] = {"name": "confirm_operation", "allowed": True, "reason": ""}
        kept = typed(f"m{m.pk}")
        targets = ms.target_list(m)
        items.append({
            "m": m,
            "place": f"m{m.pk}",
            "typed": kept,
            "targets": targets,
            "target_fields": [{"label": t, "name": f"target_{i}",
                               "value": kept.get("report_completion", {}).get(f"target_{i}", "")}
                              for i, t in enumerate(targets)],
            "operations": m_ops,
            "pending": pending,
            "awaiting": awaiting,
            "receipts": [a for a in atts.get(m.pk, []) if a.kind == AttachmentKind.RECEIPT],
            "evidence": [a for a in atts.get(m.pk, []) if a.kind == AttachmentKind.EVIDENCE],
            "experts": experts.get(m.pk, []),
            "instructions": ms.payment_instructions(m) if active and m.state in (M.DEPOSIT_DUE, M.BALANCE_DUE,
                                                                                 M.BALANCE_OVERDUE) else None,
            "can": can,
        })
    project_can: dict = {a.name: None for a in milestone_panel()}
    for action in milestone_panel():
        refusal = action.extra.get("refusal")
        offer = _offer(action, user, project)
        if offer and offer["allowed"] and not (refusal and refusal(project, rows)):
            project_can[action.name] = offer
    return {"project": project, "items": items, "project_can": project_can, "typed": typed("milestones"),
            "timeline": build_timeline(rows)}


@login_required
def project_milestones(request, project_id: int):
    project = get_object_or_404(projects_for_milestones(request.user).select_related("enterprise", "platform", "scheme"),
                                pk=project_id)
    notification_mark_opened(actor=request.user, path=request.path)  # its milestones' notices are read
    return render(request, "projects/milestones/project.html", {"project": project})


# One form on the page may post to two actions (达标/未达标; 保证金/尾款 by state): its typed values are one set.
FORM_OF = {"review_met": "review", "review_not_met": "review", "confirm_deposit": "confirm",
           "confirm_balance": "confirm"}


def _page(request, project_id: int) -> str:
    """The page the form was on (the project page that includes the panel, or ours)."""
    nxt = request.POST.get("next", "")
    if not (nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure())):
        nxt = reverse("milestones:project", args=[project_id])
    return nxt


def _answer(request, project_id: int, state_before: str, ok: bool, anchor: str):
    """Without JavaScript: back to the page, at the section acted on (its message is shown there).
    htmx: the panel rendered again in place with its message (422 when refused, the typed values kept) and
    the header's unread count; an action that changed the project's state changes the whole page, which is
    loaded again (its message waits in the session)."""
    page = _page(request, project_id)
    if not request.htmx:
        return redirect(page + anchor)
    project = get_object_or_404(projects_for_milestones(request.user).select_related("scheme"), pk=project_id)
    if ok and project.state != state_before:
        return HttpResponse(headers={"HX-Refresh": "true"})
    notification_mark_opened(actor=request.user, path=page.split("?")[0])  # as the page does when loaded
    response = render(request, "projects/milestones/answer.html", {"project": project, "page_path": page},
                      status=200 if ok else 422)
    feedback.keep_unshown(request)
    return response


def _full_page(request, response: HttpResponse) -> HttpResponse:
    """A whole page answered to an htmx form of the panel (the confirmation page): it replaces the page's
    body rather than the panel."""
    if request.htmx:
        response["HX-Retarget"] = "body"
        response["HX-Reswap"] = "innerHTML show:window:top"
    return response


def _run(request, registry, obj, *, place: str) -> bool | HttpResponse:
    """Read the action's form, call its service, say what happened (or why not) at ``place``.

    A money or official action (``confirm`` in the registry) first answers with its confirmation page
    (``confirmation.py``); only that page's form, which adds ``confirmed``, runs it. Otherwise: whether the
    action was done."""
    action = registry.get(request.resolver_match.kwargs["action"])
    form = action.form(request.POST, request.FILES, obj=obj)
    try:
        if not form.is_valid():
            raise DomainError(" ".join(e for errors in form.errors.values() for e in errors), code="invalid")
        if action.confirm and request.POST.get(CONFIRMED) != "1":
            return _full_page(request, confirmation_page(request, action, obj, form.kwargs()))
        result = perform(action, obj, request.user, form.kwargs())
    except DomainError as exc:
        feedback.say(request, messages.ERROR, exc.detail, place=place)
        feedback.keep_typed(request, place=place, form=FORM_OF.get(action.name, action.name), data=request.POST)
        return False
    op = operation_of(result)
    values = {"id": op.pk, "s": MoneyOperation.objects.get(pk=op.pk).get_state_display()} if op else {}
    if isinstance(result, ExpertAssignment):
        values["e"] = result.expert.get_full_name() or result.expert.username
    feedback.say(request, messages.SUCCESS, action.extra["done"] % values if values else action.extra["done"],
                 place=place)
    return True


@login_required
@require_POST
def milestone_action(request, pk: int, action: str):
    milestone = get_object_or_404(milestones_visible_to(request.user), pk=pk)
    if action not in MILESTONE:
        raise Http404
    before = milestone.project.state
    outcome = _run(request, MILESTONE, milestone, place=f"m{milestone.pk}")
    if isinstance(outcome, HttpResponse):
        return outcome
    return _answer(request, milestone.project_id, before, outcome, f"#m{milestone.seq}")


@login_required
@require_POST
def project_action(request, project_id: int, action: str):
    project = get_object_or_404(projects_for_milestones(request.user), pk=project_id)
    if action not in {a.name for a in milestone_panel()}:
        raise Http404
    before = project.state
    outcome = _run(request, PROJECT, project, place="milestones")
    if isinstance(outcome, HttpResponse):
        return outcome
    return _answer(request, project.pk, before, outcome, "#milestones")


@login_required
@require_POST
def operation_confirm_view(request, op_id: int):
    """The second custodian operator's confirmation of a release or forfeiture (maker–checker)."""
    op = get_object_or_404(MoneyOperation, pk=op_id, purpose__in=ms.MILESTONE_PURPOSES)
    milestone = get_object_or_404(milestones_visible_to(request.user), pk=op.context.get("milestone"))
    before, place = milestone.project.state, f"m{milestone.pk}"
    try:
        operation_confirm(operation=op, actor=request.user)
        feedback.say(request, messages.SUCCESS, _("已复核，资金操作 #%(id)s 执行完毕") % {"id": op.pk}, place=place)
        ok = True
    except DomainError as exc:
        feedback.say(request, messages.ERROR, exc.detail, place=place)
        ok = False
    return _answer(request, milestone.project_id, before, ok, f"#m{milestone.seq}")


@login_required
def attachment_download(request, att_id: int):
    att = get_object_or_404(Attachment, pk=att_id, milestone__isnull=False)
    get_object_or_404(milestones_visible_to(request.user), pk=att.milestone_id)
    return file_response(att.file, filename=att.original_name, content_type=att.content_type)

