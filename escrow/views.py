"""Browser pages of the escrow app: the custodian's desk, the pool, accounts and statements, reconciliation."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import feedback
from core.exceptions import DomainError
from core.files import xlsx_response

from . import permissions as perms
from . import selectors
from .charts import pool_chart
from .choices import OperationKind, OperationState
from .documents import statement_xlsx
from .forms import AccountFilterForm, PeriodForm, StatementUploadForm, TopUpForm
from .permissions import page_require
from .services import operation_confirm, operation_redispatch, operation_reject, pool_top_up
from .services.pool import top_up_lines
from .services.reconciliation import statement_import


@login_required
def desk(request, upload_form=None):
    page_require(perms.can_operate(request.user))
    queues = selectors.desk_queues(request.user)
    return render(request, "escrow/desk.html", {
        **queues,
        "upload_form": upload_form or StatementUploadForm(),
        "statements": selectors.statements_list()[:10],
        "max_attempts": settings.ANXINBAO_OPERATION_MAX_ATTEMPTS,
    })


def _next(request) -> str:
    """Where a form sent from another page (the milestone panel) leads back to; the desk otherwise."""
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return nxt
    return ""


def _desk_action(request, pk: int, service, done: str, *, place: str, review_again: bool = False, **kwargs):
    """Run one custodian action on an operation the user may see (404 otherwise), then back to the page the
    form came from, or the desk at the section the form was in, where the message is shown
    (``core.feedback``)."""
    page_require(perms.can_operate(request.user))
    op = get_object_or_404(selectors.operations_visible_to(request.user), pk=pk)
    try:
        service(operation=op, actor=request.user, **kwargs)
    except DomainError as exc:
        feedback.say(request, messages.ERROR, exc.detail, place=place)
        if review_again and op.state == OperationState.AWAITING_CONFIRMATION:  # no reason given: the page again
            return redirect(f"{reverse('escrow:operation_review', args=[op.pk])}?{urlencode({'next': _next(request)})}")
    else:
        feedback.say(request, messages.SUCCESS, done % {"id": op.pk}, place=place)
    return redirect(_next(request) or f"{reverse('escrow:desk')}#{place}")


@login_required
def operation_review(request, pk: int):
    """The second operator's page: what the order pays, to whom, from which account, on what evidence; then
    复核并执行 or 驳回 with a reason (maker–checker)."""
    page_require(perms.can_operate(request.user))
    op = get_object_or_404(selectors.operations_visible_to(request.user), pk=pk)
    return render(request, "escrow/operation_review.html", {
        **selectors.operation_summary(op), "next": _next(request),
        "is_maker": request.user.pk in {op.ordered_by_id, op.executed_by_id},
        "awaiting": op.state == OperationState.AWAITING_CONFIRMATION,
    })


@login_required
@require_POST
def operation_confirm_view(request, pk: int):
    return _desk_action(request, pk, operation_confirm, _("已复核资金操作 #%(id)s，已派发执行"), place="awaiting")


@login_required
@require_POST
def operation_reject_view(request, pk: int):
    return _desk_action(request, pk, operation_reject, _("已驳回资金操作 #%(id)s，未记账，已通知发起人"),
                        place="awaiting", review_again=True, reason=request.POST.get("reason", ""))


@login_required
@require_POST
def operation_redispatch_view(request, pk: int):
    return _desk_action(request, pk, operation_redispatch, _("资金操作 #%(id)s 已重新派发执行"), place="pending")


@login_required
@require_POST
def statement_upload(request):
    page_require(perms.can_operate(request.user))
    form = StatementUploadForm(request.POST, request.FILES)
    if form.is_valid():
        f = form.cleaned_data["file"]
        try:
            statement = statement_import(filename=f.name, raw=f.read(), actor=request.user)
        except DomainError as exc:
            form.add_error("file", exc.detail)
        else:
            messages.success(request, _("对账单已导入"))
            return redirect("escrow:statement", pk=statement.pk)
    response = desk(request, upload_form=form)
    response.status_code = 400
    return response


@login_required
def statement_detail(request, pk: int):
    page_require(perms.can_read_statements(request.user))
    statement = get_object_or_404(selectors.statements_list(), pk=pk)
    return render(request, "escrow/statement.html", selectors.reconciliation(statement))


@login_required
def pool(request):
    if not selectors.can_see_pool(request.user):
        raise PermissionDenied(_("风险池数据仅限监督管理角色查看"))
    can_top_up = bool(perms.can_top_up(request.user))
    form, confirm = TopUpForm(), None
    if request.method == "POST":
        page_require(perms.can_top_up(request.user))
        form = TopUpForm(request.POST)
        if form.is_valid() and request.POST.get("confirmed") != "1":
            confirm = _top_up_summary(request, form.cleaned_data)  # the page says what it will record first
        elif form.is_valid():
            data = form.cleaned_data
            try:
                pool_top_up(amount=data["amount"], decided_on=data["decided_on"], decision_ref=data["decision_ref"],
                            note=data["note"], actor=request.user,
                            idempotency_key=f"web:topup:{request.user.pk}:{data['token']}")
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, _("风险池注资已记账"))
                return redirect("escrow:pool")
    summary = selectors.pool_summary()
    return render(request, "escrow/pool.html", {
        "summary": summary,
        "chart": pool_chart(selectors.pool_days(summary)),  # the stored daily series and today, not the whole ledger
        "recent": selectors.pool_recent(15, summary),
        "tranches": selectors.pool_tranches()[:50],
        "form": form if can_top_up else None, "confirm": confirm,
    }, status=400 if form.errors else 200)


def _top_up_summary(request, data: dict) -> dict:
    """A top-up before it is recorded: the amount, from which account into which, in words, and the decision."""
    legs = selectors.moves(OperationKind.TOP_UP, top_up_lines(data["amount"]))
    facts = [(_("决定日期"), f"{data['decided_on']:%Y-%m-%d}"), (_("决定文号"), data["decision_ref"] or "—")]
    if data["note"]:
        facts.append((_("说明"), data["note"]))
    return {"moves": legs, "total": data["amount"], "evidence": selectors.Evidence(facts=facts),
            "carried": [(k, v) for k, values in request.POST.lists() if k not in ("csrfmiddlewaretoken", "_once")
                        for v in values]}


@login_required
def accounts(request):
    form = AccountFilterForm(request.GET or None)
    qs = selectors.accounts_visible_to(request.user)
    if form.is_valid():
        if form.cleaned_data["kind"]:
            qs = qs.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["code"]:
            qs = qs.filter(code__startswith=form.cleaned_data["code"])
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    names = selectors.account_names(a.code for a in page)
    for a in page:
        a.name_in_words = names[a.code]  # words first; the code only as a small reference
    return render(request, "escrow/accounts.html", {"form": form, "page": page})


@login_required
def account_statement(request, pk: int):
    account = get_object_or_404(selectors.accounts_visible_to(request.user), pk=pk)
    form = PeriodForm(request.GET or None)
    start = end = None
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    statement = selectors.account_statement(account, start=start, end=end)
    if request.GET.get("format") == "xlsx":
        name = f"statement-{account.code.replace(':', '-')}-{timezone.localdate():%Y%m%d}.xlsx"
        return xlsx_response(statement_xlsx(statement), name)
    return render(request, "escrow/account_statement.html", {
        "statement": statement, "form": form, "query": request.GET.urlencode(),
        "account_name": selectors.account_names([account.code])[account.code]})


