"""Browser pages: validate input, call one service, render.

Scoping through selectors (404); who may act through ``permissions`` (403), the same decisions the
services enforce, so a page shows a form or button only when the service would accept it.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError, PermissionDeniedError
from core.files import file_response, xlsx_response
from core.params import is_id, page_year
from core.permissions import Decision, is_oversight
from core.services import audit_history, notification_mark_opened, organization_blacklist, organization_lift_blacklist
from projects.models import Milestone

from . import forms, selectors, services
from . import permissions as perms
from .choices import ComputationState, InsuredParty
from .documents import latest_per_enterprise, totals, year_workbook
from .explain import explain_grant, explain_premium
from .models import GrantComputation, PremiumSubsidy

KINDS = {"grant": (GrantComputation, selectors.grants_visible, explain_grant, services.grant_compute),
         "premium": (PremiumSubsidy, selectors.premiums_visible, explain_premium, services.premium_compute)}


def _refuse_unless(decision: Decision) -> None:
    """A refusal of the permission layer is the page's 403, with its reason."""
    if not decision:
        raise PermissionDenied(decision.reason)


def _may_view(user) -> None:
    _refuse_unless(perms.can_view_subsidies(user))


def _call(request, fn, **kwargs):
    """Run one service; a broken rule becomes a message, a forbidden action a 403."""
    try:
        return fn(**kwargs), True
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.detail) from exc
    except DomainError as exc:
        messages.error(request, exc.detail)
        return None, False


def _entry(request, decision: Decision, make_form, service, *, done: str, then):
    """A list page's entry form: shown when ``decision`` allows, its POST given to ``service``; a POST the
    decision refuses is a 403. Returns (form, response): the response is the redirect to ``then(result)``
    once the service accepted the entry."""
    if not decision:
        if request.method == "POST":
            _refuse_unless(decision)
        return None, None
    form = make_form()
    return form, _submit(request, form, service, done=done, then=then) if request.method == "POST" else None


def _submit(request, form, service, *, done: str, then, **kwargs):
    """Give a valid form's data (with ``kwargs``) to ``service``; once it accepts, say ``done`` and answer
    the redirect ``then(result)``. None while the form or a rule refuses (the page shows why)."""
    if not form.is_valid():
        return None
    result, ok = _call(request, service, actor=request.user, **kwargs, **form.cleaned_data)
    if not ok:
        return None
    messages.success(request, done)
    return then(result)


def _file_view(selector, name: str):
    """R12: the page serving a stored file (audit report, policy document) to those who may see its row
    (another enterprise's: 404)."""
    @login_required
    def view(request, pk: int):
        _may_view(request.user)
        return file_response(getattr(get_object_or_404(selector(request.user), pk=pk), name))

    return view


def _year(request) -> int:
    return page_year(request.GET.get("year"), timezone.localdate().year - 1)


@login_required
def index(request):
    """Enterprise staff: their own figures with the trace; oversight: the year's table."""
    _may_view(request.user)
    year = _year(request)
    if not is_oversight(request.user):
        grants = list(selectors.grants_visible(request.user).exclude(state=ComputationState.SUPERSEDED))
        premiums = list(selectors.premiums_visible(request.user).exclude(state=ComputationState.SUPERSEDED))
        return render(request, "subsidies/mine.html", {
            "grants": [(g, explain_grant(g.trace)) for g in grants],
            "premiums": [(p, explain_premium(p.trace)) for p in premiums],
        })
    grants = latest_per_enterprise(selectors.grants_visible(request.user).filter(year=year))
    premiums = latest_per_enterprise(selectors.premiums_visible(request.user).filter(year=year))
    runs = {kind: selectors.runs(kind, year).first() for kind in ("grant", "premium")}
    try:
        scheme = services.scheme_for_year(year)
    except DomainError:
        scheme = None
    return render(request, "subsidies/year.html", {
        "year": year, "scheme": scheme, "grants": grants, "premiums": premiums, "grant_totals": totals(grants),
        "premium_totals": totals(premiums), "runs": runs, "can_compute": perms.can_compute(request.user),
        "can_export": perms.can_export_year(request.user),
        "years": list(range(timezone.localdate().year, 2024, -1)),
    })


@login_required
def figure_detail(request, kind: str, pk: int):
    _may_view(request.user)
    model, selector, explain, _compute = KINDS[kind]
    fig = get_object_or_404(selector(request.user), pk=pk)
    notification_mark_opened(actor=request.user, path=request.path)
    versions = selector(request.user).filter(enterprise_id=fig.enterprise_id, year=fig.year).order_by("version")
    approved = fig.state == ComputationState.APPROVED
    settlement = services.figure_settlement(fig) if approved else None  # I10: recoveries netted from this payment
    return render(request, "subsidies/figure.html", {
        "kind": kind, "fig": fig, "lines": explain(fig.trace), "versions": versions,
        "history": audit_history(fig), "label": model._meta.verbose_name,
        "can_approve": perms.can_approve_figure(request.user) and fig.state == ComputationState.COMPUTED,
        "can_pay": perms.can_pay_figure(request.user) and approved and settlement.due >= 0,
        "settlement": settlement,
        "after_start": [p for p in fig.trace.get("premiums", []) if p.get("after_start")],  # I11
        "pay_form": forms.PayForm(initial={"amount": settlement.cash if settlement else fig.due,
                                           "paid_on": timezone.localdate()}),
    })


@login_required
@require_POST
def figure_approve(request, kind: str, pk: int):
    _may_view(request.user)
    fig = get_object_or_404(KINDS[kind][1](request.user), pk=pk)
    _result, ok = _call(request, services.figure_approve, figure=fig, actor=request.user)
    if ok:
        messages.success(request, _("已审定"))
    return redirect("subsidies:figure", kind=kind, pk=pk)


@login_required
@require_POST
def figure_pay(request, kind: str, pk: int):
    _may_view(request.user)
    fig = get_object_or_404(KINDS[kind][1](request.user), pk=pk)
    form = forms.PayForm(request.POST)
    if form.is_valid():
        _result, ok = _call(request, services.figure_pay, figure=fig, actor=request.user, **form.cleaned_data)
        if ok:
            messages.success(request, _("已登记拨付"))
    else:
        messages.error(request, _("请检查拨付信息：%(e)s") % {"e": form.errors.as_text()})
    return redirect("subsidies:figure", kind=kind, pk=pk)


@login_required
@require_POST
def compute(request, kind: str):
    _refuse_unless(perms.can_compute(request.user))
    form = forms.YearForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("年度无效"))
        return redirect("subsidies:index")
    year = form.cleaned_data["year"]
    result, ok = _call(request, KINDS[kind][3], year=year, actor=request.user)
    if ok:
        messages.success(request, _("测算完成：新增或更新 %(c)s 家，未变化 %(u)s 家，黑名单排除 %(e)s 家") % {
            "c": len(result.created), "u": len(result.unchanged), "e": len(result.excluded)})
    return redirect(f"{reverse('subsidies:index')}?year={year}")


@login_required
def export(request, year: int):
    _may_view(request.user)
    _refuse_unless(perms.can_export_year(request.user))
    grants = latest_per_enterprise(selectors.grants_visible(request.user).filter(year=year))
    premiums = latest_per_enterprise(selectors.premiums_visible(request.user).filter(year=year))
    return xlsx_response(year_workbook(grants=grants, premiums=premiums), f"anxinbao-subsidies-{year}.xlsx")


# -- annual evaluation (R15) ----------------------------------------------------

@login_required
def audits(request):
    _may_view(request.user)
    year = _year(request)
    rows = selectors.audits_visible(request.user).filter(year=year)
    initial = {"year": year}
    if is_id(request.GET.get("project")):
        initial["project"] = int(request.GET["project"])
        initial["audited_input"] = request.GET.get("ledger_input", "")
    may_record = perms.can_record_audit(request.user)
    form, done = _entry(request, may_record, lambda: forms.AuditForm(
        request.POST or None, request.FILES or None, initial=initial, projects=selectors.projects_for_entry(request.user)),
        services.audit_save, done=_("已保存年度评价与审计"), then=lambda audit: redirect("subsidies:audit", pk=audit.pk))
    if done:
        return done
    pending = selectors.projects_awaiting_audit(request.user, year) if may_record else []
    return render(request, "subsidies/audits.html", {
        "rows": rows[:500], "form": form, "pending": pending, "year": year,
        "years": list(range(timezone.localdate().year, 2024, -1))})


@login_required
def audit_detail(request, pk: int):
    _may_view(request.user)
    audit = get_object_or_404(selectors.audits_visible(request.user), pk=pk)
    may_give_opinion = perms.can_give_acceptance_opinion(request.user, audit)
    opinion_form = forms.OpinionForm(request.POST or None, initial={"opinion": audit.opinion}) \
        if may_give_opinion else None
    if request.method == "POST":
        _refuse_unless(may_give_opinion)
        done = _submit(request, opinion_form, services.audit_opinion, audit=audit, done=_("验收意见已提交"),
                       then=lambda _audit: redirect("subsidies:audit", pk=pk))
        if done:
            return done
    return render(request, "subsidies/audit.html", {"audit": audit, "opinion_form": opinion_form,
                                                    "history": audit_history(audit)})


audit_report = _file_view(selectors.audits_visible, "report")


# -- insurance (R9) and other policies (R20) ------------------------------------

@login_required
def policies(request):
    _may_view(request.user)
    form, done = _entry(request, perms.can_record_policy(request.user), lambda: forms.PolicyForm(
        request.POST or None, request.FILES or None, projects=selectors.projects_for_entry(request.user)),
        services.policy_create, done=_("保单已登记"), then=lambda policy: redirect("subsidies:policy", pk=policy.pk))
    return done or render(request, "subsidies/policies.html", {
        "rows": selectors.policies_visible(request.user)[:500], "form": form})


@login_required
def policy_detail(request, pk: int):
    _may_view(request.user)
    policy = get_object_or_404(selectors.policies_visible(request.user), pk=pk)
    form = document_form = None
    may_record = perms.can_record_claim(request.user, policy)
    if may_record:
        document_form = forms.PolicyDocumentForm()
        if request.method == "POST" and "document" in request.FILES:  # R12, I11: the document filed later
            document_form = forms.PolicyDocumentForm(request.POST, request.FILES)
            done = _submit(request, document_form, services.policy_attach_document, policy=policy,
                           done=_("保单文件已上传"), then=lambda _policy: redirect("subsidies:policy", pk=pk))
            if done:
                return done
        form = forms.ClaimForm(request.POST if request.method == "POST" and "document" not in request.FILES else None,
                               milestones=Milestone.objects.filter(project_id=policy.project_id))
        done = form.is_bound and _submit(request, form, services.claim_create, policy=policy, done=_("理赔已登记"),
                                         then=lambda _claim: redirect("subsidies:policy", pk=pk))
        if done:
            return done
    elif request.method == "POST":
        _refuse_unless(may_record)
    return render(request, "subsidies/policy.html", {
        "policy": policy, "claims": policy.claims.select_related("milestone"), "form": form,
        "document_form": document_form,
        "others": policy.other_subsidies.all()})


policy_document = _file_view(selectors.policies_visible, "document")


@login_required
def other_subsidies(request):
    _may_view(request.user)

    def make_form():
        ents = selectors.enterprises()
        if not perms.records_for_every_enterprise(request.user):
            ents = ents.filter(pk=request.user.organization_id)
        policies = selectors.policies_visible(request.user).filter(insured=InsuredParty.ENTERPRISE).select_related(
            "project")
        return forms.OtherSubsidyForm(request.POST or None, enterprises=ents, policies=policies)

    form, done = _entry(request, perms.can_record_other_subsidy(request.user), make_form, services.other_subsidy_create,
                        done=_("已登记其他政策补助"), then=lambda _row: redirect("subsidies:other"))
    return done or render(request, "subsidies/other.html", {
        "rows": selectors.other_subsidies_visible(request.user)[:500], "form": form})


# -- blacklist (R17) --------------------------------------------------------------

@login_required
def blacklist(request):
    _refuse_unless(perms.can_manage_blacklist(request.user))
    ents = selectors.enterprises()
    add_form = forms.BlacklistForm(prefix="add", organizations=ents.filter(blacklisted=False))
    lift_form = forms.LiftForm(prefix="lift", organizations=ents.filter(blacklisted=True))
    if request.method == "POST":
        if request.POST.get("action") == "lift":
            lift_form = forms.LiftForm(request.POST, prefix="lift", organizations=ents.filter(blacklisted=True))
            if lift_form.is_valid():
                _r, ok = _call(request, organization_lift_blacklist, actor=request.user,
                               organization=lift_form.cleaned_data["organization"],
                               reason=lift_form.cleaned_data["reason"])
                if ok:
                    messages.success(request, _("已移出黑名单"))
                    return redirect("subsidies:blacklist")
        else:
            add_form = forms.BlacklistForm(request.POST, request.FILES, prefix="add",
                                           organizations=ents.filter(blacklisted=False))
            if add_form.is_valid():
                _r, ok = _call(request, organization_blacklist, actor=request.user,
                               organization=add_form.cleaned_data["organization"],
                               reason=add_form.cleaned_data["reason"],
                               evidence=add_form.cleaned_data["evidence"])
                if ok:
                    messages.success(request, _("已列入黑名单"))
                    return redirect("subsidies:blacklist")
    return render(request, "subsidies/blacklist.html", {
        "listed": ents.filter(blacklisted=True), "history": selectors.blacklist_history()[:500],
        "add_form": add_form, "lift_form": lift_form})


@login_required
def blacklist_evidence(request, pk: int):
    """R17: evidence of a listing, for the bureau and the auditors only (anyone else: 404)."""
    return file_response(get_object_or_404(selectors.blacklist_evidence_visible(request.user), pk=pk).evidence)
