"""Browser pages of proposals: list, form, detail with actions, attachments, expert reviews, reviewer queue.

Each view checks visibility through the selectors (404) and calls one service;
domain errors are shown on the page, each naming its rule.
"""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from core import feedback
from core.choices import Role
from core.exceptions import DomainError, PermissionDeniedError
from core.files import file_response
from core.models import SchemeVersion
from core.permissions import require, require_role
from core.services import audit_history, notification_mark_opened

from . import permissions as perms
from . import selectors, services
from .choices import ProjectState
from .forms import AttachmentForm, ConflictForm, MilestoneFormSet, ProjectForm, ReasonForm, ReviewForm
from .models import ExpertAssignment, Project
from .registry import PROJECT, history_labels, project_panel, run_action
from .services.proposals import MILESTONE_FIELDS, PROJECT_FIELDS

PREFIX = "ms"
QUEUE_PAGE = 50
MILESTONES_IN_MOTION = {ProjectState.APPROVED, ProjectState.ACTIVE, ProjectState.COMPLETED, ProjectState.TERMINATED}


def page(view):
    """A signed-in page; a role or organisation refusal from the permission layer becomes a 403."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.detail) from exc

    return login_required(wrapper)


@page
def project_list(request):
    state = request.GET.get("state") or ""
    qs = selectors.project_list(request.user, state=state if state in ProjectState.values else None)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "projects/list.html", {
        "page": page, "states": ProjectState.choices, "state": state,
        "can_create": perms.can_create(request.user),
    })


def _initial(project: Project | None):
    if project is None:
        return None, []
    initial = {name: getattr(project, name) for name in PROJECT_FIELDS}
    rows = [{name: getattr(m, name) for name in MILESTONE_FIELDS if name != "seq"}
            for m in project.milestones.order_by("seq")]
    return initial, rows


def _apply_errors(error: DomainError, form: ProjectForm, formset, rows_by_seq: dict) -> list[str]:
    """Put each rule's message beside its field; what has no field is returned for the page's top."""
    general: list[str] = []
    for key, msgs in (error.fields or {}).items():
        parts = key.split(".")
        if parts[0] == "milestones" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) in rows_by_seq:
            row = rows_by_seq[int(parts[1])]
            field = parts[2] if len(parts) > 2 and parts[2] in row.fields else None
            for msg in msgs:
                row.add_error(field, msg)
        elif key in form.fields:
            for msg in msgs:
                form.add_error(key, msg)
        else:
            general.extend(msgs)
    if not error.fields:
        general.append(error.detail)
    return general


@page
def project_form(request, pk: int | None = None):
    """Create or edit a draft; "提交申报" saves and submits in one go, showing every rule broken."""
    project = None
    if pk is not None:
        project = selectors.project_get_visible(request.user, pk)
        require(perms.can_edit(request.user, project))
        if project.state != ProjectState.DRAFT:
            messages.error(request, _("只有草稿可以修改"))
            return redirect("projects:detail", pk=project.pk)
    else:
        require(perms.can_create(request.user))
    general: list[str] = []
    scheme = project.scheme if project else SchemeVersion.current()
    rows_kwargs = {"deposit_ratio": scheme.min_deposit_ratio} if scheme else {}
    if request.method == "POST":
        form = ProjectForm(request.POST, request.FILES)
        formset = MilestoneFormSet(request.POST, prefix=PREFIX, form_kwargs=rows_kwargs)
        if form.is_valid() and formset.is_valid():
            live = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            rows = []
            rows_by_seq = {}
            for seq, row_form in enumerate(live, start=1):
                data = {k: v for k, v in row_form.cleaned_data.items() if k != "DELETE"}
                rows.append({"seq": seq, **data})
                rows_by_seq[seq] = row_form
            values, documents = form.proposal_values(), form.documents()
            try:
                if project is None:
                    project = services.project_create(actor=request.user, milestones=rows, documents=documents,
                                                      **values)
                else:
                    project = services.project_update(project=project, actor=request.user, milestones=rows,
                                                      documents=documents, **values)
            except DomainError as exc:
                general = _apply_errors(exc, form, formset, rows_by_seq)
            else:
                if "submit" not in request.POST:
                    messages.success(request, _("草稿已保存"))
                    return redirect("projects:detail", pk=project.pk)
                try:
                    services.project_submit(project=project, actor=request.user)
                except DomainError as exc:
                    general = _apply_errors(exc, form, formset, rows_by_seq)
                    general.insert(0, _("草稿已保存，但未能提交申报，请按提示修改："))
                else:
                    messages.success(request, _("已提交申报，等待科创平台揭榜"))
                    return redirect("projects:detail", pk=project.pk)
    else:
        initial, rows = _initial(project)
        form = ProjectForm(initial=initial)
        formset = MilestoneFormSet(initial=rows or [{}], prefix=PREFIX, form_kwargs=rows_kwargs)
    return render(request, "projects/form.html", {
        "form": form, "formset": formset, "project": project, "general_errors": general, "prefix": PREFIX,
        # R12: the documents already filed, named beside each file input
        "scheme": scheme, "on_file": selectors.proposal_documents_on_file(project),
    })


@page
def project_detail(request, pk: int):
    project = selectors.project_detail_queryset(request.user).filter(pk=pk).first()
    if project is None:
        raise Http404
    notification_mark_opened(actor=request.user, path=request.path)  # its notices are read once it is opened
    reviews = list(selectors.reviews_visible_to(request.user, project))
    show_all_reviews = len(reviews) == len(project.assignments.all())
    my_assignment = next((a for a in project.assignments.all()
                          if a.expert_id == request.user.pk and a.round == project.review_round), None)
    actions = project_panel(request.user, project)
    # I14, issue 15: before 立项 the reviewer sees whether it approves now or waitlists, and whom it passes.
    approval_preview = (services.approval_outcome(project)
                        if any(a["name"] == "approve" and a["allowed"] for a in actions) else None)
    return render(request, "projects/detail.html", {
        "project": project,
        "milestones": list(project.milestones.all()),
        "attachments": list(project.attachments.all()),
        "reviews": reviews,
        "show_mean": show_all_reviews,
        "scored_count": sum(1 for a in reviews if a.status == ExpertAssignment.Status.SCORED),
        "history": list(audit_history(project)),
        "actions": actions,
        "approval_preview": approval_preview,
        "can_edit": perms.can_edit(request.user, project) and project.state == ProjectState.DRAFT,
        **_attachments(request, project),
        "my_assignment": my_assignment,
        "reason_form": ReasonForm(),
        "state_labels": dict(ProjectState.choices),
        # Once approved, the milestone panel (deposits, release, forfeit) replaces the agreed-terms table.
        "milestones_in_motion": project.state in MILESTONES_IN_MOTION,
        "action_labels": history_labels(),
    })


def _refused(request, text: str, *, place: str, form: str):
    """Say why at ``place`` and keep what was typed for the form shown again (``core.feedback``)."""
    feedback.say(request, messages.ERROR, text, place=place)
    feedback.keep_typed(request, place=place, form=form, data=request.POST)


def _form_errors(form) -> str:
    return pgettext("标点", "；").join(m for errs in form.errors.values() for m in errs)


@page
@require_POST
def project_action(request, pk: int, action: str):
    """A proposal action changes the whole page: back to it at the 办理 card, where its message is shown."""
    project = selectors.project_get_visible(request.user, pk)
    if action not in PROJECT:
        raise Http404
    back = redirect(reverse("projects:detail", args=[project.pk]) + "#actions")
    reason = request.POST.get("reason", "")
    form_class = PROJECT.get(action).form
    form = form_class(request.POST, obj=project) if form_class else None
    if form is not None and not form.is_valid():
        _refused(request, _form_errors(form), place="actions", form=action)
        return back
    try:
        result = run_action(project=project, action=action, actor=request.user, reason=reason,
                            data=form.kwargs() if form is not None else None)
    except DomainError as exc:
        _refused(request, exc.detail, place="actions", form=action)
    else:
        if isinstance(result, Project) and action == "approve" and result.state == ProjectState.WAITLISTED:
            feedback.say(request, messages.WARNING, result.state_reason, place="actions")
        elif isinstance(result, Project) and action == "approve":
            feedback.say(request, messages.SUCCESS, _("已立项，通知书编号 %(n)s") % {"n": result.notice_number},
                         place="actions")
        else:
            feedback.say(request, messages.SUCCESS, _("操作已完成"), place="actions")
    return back


def _attachments(request, project) -> dict:
    """What the attachments card shows; the upload form keeps the kind chosen in a refused upload."""
    return {"attachments": list(project.attachments.all()), "can_upload": perms.can_upload(request.user, project),
            "upload_form": AttachmentForm(initial=feedback.typed(request, "attachments").get("upload"))}


@page
@require_POST
def attachment_upload(request, pk: int):
    """Without JavaScript: back to the project page at its attachments card. htmx: the card rendered again in
    place with its message (422 when refused) and the header's unread count."""
    project = selectors.project_get_visible(request.user, pk)
    form = AttachmentForm(request.POST, request.FILES)
    ok = False
    if not form.is_valid():
        _refused(request, _form_errors(form), place="attachments", form="upload")
    else:
        try:
            services.attachment_add(project=project, actor=request.user, kind=form.cleaned_data["kind"],
                                    file=form.cleaned_data["file"])
        except DomainError as exc:
            _refused(request, exc.detail, place="attachments", form="upload")
        else:
            feedback.say(request, messages.SUCCESS, _("材料已上传"), place="attachments")
            ok = True
    url = reverse("projects:detail", args=[project.pk])
    if not request.htmx:
        return redirect(url + "#attachments")
    notification_mark_opened(actor=request.user, path=url)  # as the page does when loaded
    project = selectors.project_detail_queryset(request.user).get(pk=project.pk)
    response = render(request, "projects/attachments_answer.html",
                      {"project": project, **_attachments(request, project)}, status=200 if ok else 422)
    feedback.keep_unshown(request)
    return response


@page
def attachment_download(request, pk: int):
    """Served only after the visibility check: another organisation's file is a 404."""
    attachment = selectors.attachment_get_visible(request.user, pk)
    return file_response(attachment.file, filename=attachment.original_name, content_type=attachment.content_type)


@page
def my_reviews(request):
    require_role(request.user, Role.EXPERT)
    return render(request, "projects/my_reviews.html",
                  {"assignments": list(selectors.assignments_for_expert(request.user))})


@page
def review(request, pk: int):
    """The expert's scoring page for one assigned project (R13), with 回避."""
    require_role(request.user, Role.EXPERT)
    project = selectors.project_get_visible(request.user, pk)
    assignment = ExpertAssignment.objects.filter(project=project, milestone__isnull=True, expert=request.user,
                                                 round=project.review_round).first()
    if assignment is None:
        raise Http404
    form, conflict_form = ReviewForm(), ConflictForm()
    if request.method == "POST":
        try:
            if "conflict" in request.POST:
                conflict_form = ConflictForm(request.POST)
                if conflict_form.is_valid():
                    services.review_declare_conflict(project=project, expert=request.user,
                                                     reason=conflict_form.cleaned_data["reason"],
                                                     conflict_with=conflict_form.cleaned_data["conflict_with"])
                    messages.success(request, _("已申报回避，系统已抽取替补专家"))
                    return redirect("projects:my_reviews")
            else:
                form = ReviewForm(request.POST)
                if form.is_valid():
                    services.review_submit(project=project, expert=request.user, **form.cleaned_data)
                    messages.success(request, _("评分已提交"))
                    return redirect("projects:my_reviews")
        except DomainError as exc:
            for key, msgs in (exc.fields or {}).items():
                for msg in msgs:
                    form.add_error(key if key in form.fields else None, msg)
            if not exc.fields:
                form.add_error(None, exc.detail)
    return render(request, "projects/review.html", {"project": project, "assignment": assignment, "form": form,
                                                    "conflict_form": conflict_form})


@page
def reviewer_queue(request):
    require_role(request.user, Role.REVIEWER)
    # Paged (50 a page, each table its own page number): unpaged, 1,700 waiting projects out of
    # 10,000 made a 600 KiB page taking a second to render.
    return render(request, "projects/queue.html", {
        "queue": Paginator(selectors.reviewer_queue(), QUEUE_PAGE).get_page(request.GET.get("page")),
        "waitlist": Paginator(selectors.waitlist_ranked(), QUEUE_PAGE).get_page(request.GET.get("wpage")),
    })
