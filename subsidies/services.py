"""Every write of the subsidies app.

Scheme version (R19). A year's figures use the scheme version in force on
31 December of that year (``scheme_for_year``); if the scheme had lapsed by
then (a trial that ended without a successor), the latest version that had
started by that day. So a new version with a new rate changes the
computations of the years whose 31 December falls in it, and no earlier one:
an earlier year recomputed after the new version exists still selects its
own version and gives the same figure.

Versions of a figure. A computation that gives the same result as the
latest version of (enterprise, year) changes nothing (the yearly job may run
any number of times). A different result makes a new version: a still
``computed`` latest version is superseded; an ``approved`` or ``paid`` one is
never changed silently — the new version waits for the reviewer's approval,
and only that approval supersedes an approved, unpaid predecessor. A paid
predecessor stays paid; the new version's trace carries ``previously_paid``
and the finance officer pays only the difference.

Money (I4): ``Decimal`` all the way, rounded half-up at the fen once, at the
end of each computation; the trace keeps the unrounded shares.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.choices import OrgKind, Role
from core.exceptions import DomainError, TransitionNotAllowed
from core.files import check_upload
from core.models import Organization, SchemeVersion
from core.money import ZERO, money, parse_money
from core.permissions import require
from core.services import audit_record, notify, users_of, users_with_role
from projects.choices import ProjectState
from projects.models import Milestone, Project

from . import permissions as perms
from .choices import ComputationState, InsuredParty, RunKind
from .models import (
    AnnualAudit,
    GrantComputation,
    InsuranceClaim,
    InsurancePolicy,
    OtherPolicySubsidy,
    PremiumSubsidy,
    SubsidyFigure,
    SubsidyRun,
    trace_digest,
)
from .selectors import ledger_input, ledger_inputs

CS = ComputationState
SHANGHAI = ZoneInfo("Asia/Shanghai")

# I11: projects in the scheme (approved or later); drafts, filings in review, rejected ones are not.
IN_SCHEME = (ProjectState.APPROVED, ProjectState.ACTIVE, ProjectState.COMPLETED, ProjectState.TERMINATED)


def _s(value: Decimal) -> str:
    return format(value, "f")


def _check_not_blacklisted(org: Organization) -> None:
    """R17, read from the database (the in-memory object may predate the listing)."""
    if Organization.objects.filter(pk=org.pk, blacklisted=True).exists():
        raise DomainError(_("%(name)s 已被列入黑名单，不得参与科创安心宝（R17）") % {"name": org.name},
                          code="blacklisted", rule="R17")


# -- scheme version (R19) ---------------------------------------------------

def scheme_reference_date(year: int) -> date:
    return date(year, 12, 31)


def scheme_for_year(year: int) -> SchemeVersion:
    day = scheme_reference_date(year)
    scheme = SchemeVersion.active_on(day) or SchemeVersion.objects.filter(valid_from__lte=day).order_by(
        "-valid_from").first()
    if scheme is None:
        raise DomainError(_("%(year)s 年没有生效的政策版本（R19）") % {"year": year}, code="no_scheme", rule="R19")
    return scheme


def _scheme_trace(scheme: SchemeVersion, year: int, *fields: str) -> dict:
    out = {"id": scheme.pk, "name": scheme.name, "selected_on": scheme_reference_date(year).isoformat()}
    for f in fields:
        out[f] = _s(getattr(scheme, f))
    return out


# -- insurance (R9) ------------------------------------------------------------

@transaction.atomic
def policy_create(*, by, project: Project, insurer: Organization, type: str, premium: Decimal, cover: Decimal,
                  start_date: date, end_date: date, insured: str = InsuredParty.ENTERPRISE,
                  policy_number: str = "", document=None) -> InsurancePolicy:
    require(perms.can_record_policy(by, project))
    _check_not_blacklisted(project.enterprise)  # R17: a barred enterprise files nothing new
    if insurer.kind != OrgKind.INSURER:
        raise DomainError(_("承保机构必须是保险公司（R9）"), code="invalid_insurer", rule="R9",
                          fields={"insurer": [_("请选择保险公司")]})
    if document:
        check_upload(document, field="document")  # R12
    premium, cover = parse_money(premium, field="premium"), parse_money(cover, field="cover")
    if premium <= 0 or cover <= 0:
        raise DomainError(_("保费和保险金额必须大于零（R9）"), code="invalid_amount", rule="R9")
    if end_date < start_date:
        raise DomainError(_("保险止期不得早于起期"), code="invalid_period", fields={"end_date": [_("止期早于起期")]})
    policy = InsurancePolicy.objects.create(
        project=project, insurer=insurer, insured=insured, type=type, premium=premium, cover=cover,
        start_date=start_date, end_date=end_date, policy_number=policy_number, document=document or "",
        created_by=by)
    audit_record(actor=by, target=policy, action="policy_create",
                 data={"premium": _s(premium), "cover": _s(cover), "type": type})
    return policy


def claim_default_loss_year(*, milestone: Milestone | None, paid_on: date | None) -> int:
    """I10: the year of the failed milestone's decision, else of the payment (the loss event), else this year."""
    if milestone is not None and milestone.decided_at is not None:
        return timezone.localtime(milestone.decided_at, SHANGHAI).year
    return (paid_on or timezone.localdate()).year


@transaction.atomic
def claim_create(*, by, policy: InsurancePolicy, assessed_loss: Decimal, paid_amount: Decimal = ZERO,
                 paid_on: date | None = None, milestone: Milestone | None = None,
                 description: str = "", loss_year: int | None = None) -> InsuranceClaim:
    require(perms.can_record_claim(by, policy))
    assessed_loss = parse_money(assessed_loss, field="assessed_loss")
    paid_amount = parse_money(paid_amount, field="paid_amount")
    if assessed_loss < 0 or paid_amount < 0:
        raise DomainError(_("金额不得为负"), code="invalid_amount")
    if paid_amount > 0 and paid_on is None:
        raise DomainError(_("已赔付的理赔须填写赔付日期（R11）"), code="paid_on_required", rule="R11",
                          fields={"paid_on": [_("请填写赔付日期")]})
    if milestone is not None and milestone.project_id != policy.project_id:
        raise DomainError(_("里程碑不属于该保单的项目"), code="invalid_milestone",
                          fields={"milestone": [_("里程碑不属于该项目")]})
    if paid_amount > policy.cover:
        raise DomainError(_("赔付金额超过保险金额（R9）"), code="over_cover", rule="R9",
                          fields={"paid_amount": [_("超过保险金额")]})
    if loss_year is None:
        loss_year = claim_default_loss_year(milestone=milestone, paid_on=paid_on)
    started = policy.project.start_date.year
    if loss_year < started:
        raise DomainError(_("损失所属年度 %(y)s 早于项目开始年度 %(s)s（I10）") % {"y": loss_year, "s": started},
                          code="loss_year_before_project", rule="I10",
                          fields={"loss_year": [_("不得早于项目开始年度 %(s)s") % {"s": started}]})
    # A claim compensates input of its year or an earlier one: never a year after it was paid, nor the future.
    latest = min(paid_on.year if paid_on else timezone.localdate().year, timezone.localdate().year)
    if loss_year > latest:
        raise DomainError(_("损失所属年度 %(y)s 晚于赔付年度 %(p)s（I10）") % {"y": loss_year, "p": latest},
                          code="loss_year_after_payment", rule="I10",
                          fields={"loss_year": [_("不得晚于 %(p)s") % {"p": latest}]})
    claim = InsuranceClaim.objects.create(policy=policy, milestone=milestone, assessed_loss=assessed_loss,
                                          paid_amount=paid_amount, paid_on=paid_on, description=description,
                                          loss_year=loss_year, created_by=by)
    audit_record(actor=by, target=claim, action="claim_create",
                 data={"assessed_loss": _s(assessed_loss), "paid_amount": _s(paid_amount), "loss_year": loss_year})
    return claim


@transaction.atomic
def policy_attach_document(*, by, policy: InsurancePolicy, document) -> InsurancePolicy:
    """R12, I11: file (or replace) the policy document after the policy was recorded."""
    policy = InsurancePolicy.objects.select_for_update().select_related("project__enterprise").get(pk=policy.pk)
    require(perms.can_record_policy(by, policy.project))
    if not document:
        raise DomainError(_("请上传保单文件（R12）"), code="document_required", rule="R12",
                          fields={"document": [_("请上传保单文件")]})
    check_upload(document, field="document")  # R12: PDF or image, judged by the bytes
    replaced = bool(policy.document)
    policy.document = document
    policy.save(update_fields=["document"])
    audit_record(actor=by, target=policy, action="policy_document_replace" if replaced else "policy_document_add")
    return policy


@transaction.atomic
def other_subsidy_create(*, by, enterprise: Organization, policy_name: str, issuer: str, type: str, year: int,
                         amount: Decimal, premium_covered: Decimal = ZERO,
                         policy: InsurancePolicy | None = None) -> OtherPolicySubsidy:
    """R20, I8: register a same-type subsidy another policy already paid."""
    require(perms.can_record_other_subsidy(by, enterprise))
    if enterprise.kind != OrgKind.ENTERPRISE:  # R20: the subsidy another policy paid to an enterprise
        raise DomainError(_("“%(o)s”不是企业，不能登记其他政策补助（R20）") % {"o": enterprise.name},
                          code="not_an_enterprise", rule="R20", fields={"enterprise": [_("须为企业")]})
    amount = parse_money(amount)
    if amount <= 0:
        raise DomainError(_("补助金额必须大于零"), code="invalid_amount", fields={"amount": [_("必须大于零")]})
    if policy is not None and (policy.project.enterprise_id != enterprise.pk or policy.type != type):
        raise DomainError(_("对应保单须属于该企业且险种相同（R20）"), code="invalid_policy", rule="R20",
                          fields={"policy": [_("须为该企业同险种的保单")]})
    if policy is not None and policy.year != year:  # I12: counted on that premium, in that premium's year
        raise DomainError(_("补助年度 %(y)s 与所补保单的年度 %(p)s 不一致（I12）") % {"y": year, "p": policy.year},
                          code="year_not_policy_year", rule="I12",
                          fields={"year": [_("须为保单年度 %(p)s") % {"p": policy.year}]})
    premium_covered = parse_money(premium_covered, field="premium_covered")
    row = OtherPolicySubsidy.objects.create(enterprise=enterprise, policy_name=policy_name, issuer=issuer,
                                            type=type, year=year, amount=amount,
                                            premium_covered=premium_covered, policy=policy, created_by=by)
    audit_record(actor=by, target=row, action="other_subsidy_create", data={"amount": _s(amount)})
    return row


# -- annual evaluation (R15, I5) ----------------------------------------------

def _check_audit_reason(audited: Decimal, ledger: Decimal, reason: str) -> None:
    if audited != ledger and not reason.strip():
        raise DomainError(
            _("审计确认的实际投入（¥%(a)s）与账户记录（¥%(l)s）不一致，须说明原因（I5）")
            % {"a": f"{audited:,.2f}", "l": f"{ledger:,.2f}"},
            code="reason_required", rule="I5", fields={"reason": [_("两者不一致时必须填写原因")]})


@transaction.atomic
def audit_save(*, by, project: Project, year: int, audited_input: Decimal, reason: str = "",
               expert_evaluation: str = "", report=None) -> AnnualAudit:
    """The auditor records (or corrects) a project's yearly evaluation; the ledger's figure is filled in."""
    require(perms.can_record_audit(by))
    if report:
        check_upload(report, field="report")  # R12
    audited_input = parse_money(audited_input, field="audited_input")
    if audited_input < 0:
        raise DomainError(_("实际投入不得为负"), code="invalid_amount", fields={"audited_input": [_("不得为负")]})
    # The project's row is locked first: a first audit has no row to lock yet, and two auditors saving it at
    # once would both insert (the second failing on the unique index); the second now waits and corrects it.
    Project.objects.select_for_update(no_key=True).filter(pk=project.pk).values_list("pk", flat=True).get()
    ledger = ledger_input(project.pk, year)
    _check_audit_reason(audited_input, ledger, reason)
    audit = AnnualAudit.objects.select_for_update().filter(project=project, year=year).first()
    before = None
    if audit is None:
        audit = AnnualAudit(project=project, year=year, recorded_by=by)
    else:
        before = {"audited_input": _s(audit.audited_input), "ledger_input": _s(audit.ledger_input)}
    audit.ledger_input = ledger
    audit.audited_input = audited_input
    audit.reason = reason
    audit.expert_evaluation = expert_evaluation
    if report:
        audit.report = report
    audit.recorded_by = by
    audit.save()
    audit_record(actor=by, target=audit, action="audit_save" if before is None else "audit_correct",
                 reason=reason, data={"audited_input": _s(audited_input), "ledger_input": _s(ledger),
                                      "before": before})
    notify(users=users_of(project.enterprise, Role.ENTERPRISE), verb="audit_opinion_due",
           msg=gettext_noop("项目“%(t)s”%(year)s 年度专项审计已录入，请填写验收意见（R15）"),
           params={"t": project.title, "year": year}, url=reverse("subsidies:audit", args=[audit.pk]))
    return audit


@transaction.atomic
def audit_opinion(*, by, audit: AnnualAudit, opinion: str) -> AnnualAudit:
    """R15: the enterprise's acceptance opinion on the year's evaluation."""
    # Only the audit's row (``of``): the join would lock the project too, against audit_save's project → audit.
    audit = AnnualAudit.objects.select_for_update(of=("self",)).select_related("project").get(pk=audit.pk)
    require(perms.can_give_acceptance_opinion(by, audit))
    if not opinion.strip():
        raise DomainError(_("验收意见不能为空"), code="opinion_required", fields={"opinion": [_("请填写")]})
    audit.opinion = opinion
    audit.opinion_by = by
    audit.opinion_at = timezone.now()
    audit.save(update_fields=["opinion", "opinion_by", "opinion_at", "updated_at"])
    audit_record(actor=by, target=audit, action="audit_opinion", reason=opinion)
    return audit


# -- computations ---------------------------------------------------------------

@dataclass
class Figure:
    amount: Decimal
    uncapped: Decimal
    capped: bool
    trace: dict


@dataclass
class RunResult:
    year: int
    created: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    excluded: list = field(default_factory=list)
    run: SubsidyRun | None = None

    def as_dict(self) -> dict:
        return {"year": self.year, "created": len(self.created), "unchanged": len(self.unchanged),
                "excluded": self.excluded}


def grant_figure(*, rate: Decimal, cap: Decimal, projects: list[dict]) -> Figure:
    """R11, I5, I4: Σ rate × max(input − claims, 0), capped at ``cap``; rounded once at the end.

    ``projects``: dicts with ``input`` and ``claims`` (Decimal) and any descriptive keys.
    """
    rows = []
    total = Decimal(0)
    for p in projects:
        base = max(p["input"] - p["claims"], Decimal(0))
        share = rate * base
        total += share
        rows.append({**{k: v for k, v in p.items() if k not in ("input", "claims")},
                     "input": _s(p["input"]), "claims_paid": _s(p["claims"]), "base": _s(base),
                     "share": _s(share)})
    capped = money(total) > cap  # at the fen: a cut that rounds to ¥0.00 is no cut (I4)
    amount = money(min(total, cap))
    uncapped = money(total)
    trace = {"rule": "R11", "rate": _s(rate), "projects": rows, "uncapped_sum": _s(total), "cap": _s(cap),
             "capped": capped, "cap_cut": _s(money(total - cap)) if capped else "0.00", "amount": _s(amount),
             "rounding": "I4"}
    return Figure(amount=amount, uncapped=uncapped, capped=capped, trace=trace)


def premium_figure(*, rate: Decimal, cap: Decimal, policies: list[dict], others: list[dict]) -> Figure:
    """R9, I6, I12, R20 for one enterprise and year: non-duplication is per premium (I12).

    For each premium (policy): ours = min(rate × premium, cap) (our policy alone never pays more than
    the cap, R9); the best single policy = the larger of ours and the largest other same-type subsidy
    recorded *on that premium*; we pay the best less what the others paid on that premium, floored at
    0. Another policy's payment on a different premium never reduces ours; a record attached to no
    premium of ours reduces nothing and is listed as ``unattached`` for the reviewer. The year's sum is
    then capped at ``cap`` (I6). Rounded once at the end (I4).
    """
    on_premium: dict[int, list] = defaultdict(list)
    unattached = []
    by_policy = {p.get("policy"): p for p in policies}
    for o in others:
        target = by_policy.get(o.get("policy")) if o.get("policy") is not None else None
        if target is not None and target["type"] == o["type"]:
            on_premium[o["policy"]].append(o)
        else:
            unattached.append(o)
    raw_total = Decimal(0)
    due_total = Decimal(0)
    rows = []
    for p in policies:
        share = rate * p["premium"]
        raw_total += share
        alone = min(share, cap)
        mine = on_premium.get(p.get("policy"), []) if p.get("policy") is not None else []
        others_total = sum((o["amount"] for o in mine), Decimal(0))
        best_other = max((o["amount"] for o in mine), default=Decimal(0))
        best = max(alone, best_other)
        due = max(best - others_total, Decimal(0))
        due_total += due
        rows.append({**{k: v for k, v in p.items() if k != "premium"}, "premium": _s(p["premium"]),
                     "share": _s(share), "alone": _s(alone), "alone_capped": money(share) > cap,
                     "others": [_other_row(o) for o in mine], "others_total": _s(others_total),
                     "best_single": _s(best), "due": _s(due)})
    year_capped = money(due_total) > cap  # at the fen, as the grant's cap (I4)
    capped = year_capped or any(r["alone_capped"] for r in rows)
    amount = money(min(due_total, cap))
    trace = {"rule": "R9/I6/I12", "rate": _s(rate), "premiums": rows,
             "unattached_others": [_other_row(o) for o in unattached],
             "raw_sum": _s(raw_total), "due_sum": _s(due_total), "cap": _s(cap), "capped": capped,
             "year_cap_applied": year_capped, "cap_cut": _s(money(due_total - cap)) if year_capped else "0.00",
             "amount": _s(amount), "rounding": "I4"}
    return Figure(amount=amount, uncapped=money(raw_total), capped=capped, trace=trace)


def _other_row(o: dict) -> dict:
    return {"name": o["name"], "issuer": o["issuer"], "type": o["type"], "amount": _s(o["amount"]),
            "policy": o.get("policy")}


def _same(fig: Figure, digest: str, latest: dict, scheme: SchemeVersion) -> bool:
    return (latest["amount"] == fig.amount and latest["uncapped_amount"] == fig.uncapped
            and latest["capped"] == fig.capped and latest["scheme_id"] == scheme.pk
            and latest["trace_digest"] == digest)


def _year_settled(versions: list[dict]) -> Decimal:
    """I10: what the enterprise has been given for one year so far, over all versions: cash paid, plus
    recoveries netted from those payments, less what was recovered (``SubsidyFigure.settled_value``)."""
    return sum((money(v["paid_amount"] or 0) + v["netted"] - v["recovered"] for v in versions), ZERO)


_STORED = ("pk", "enterprise_id", "version", "state", "amount", "uncapped_amount", "capped", "scheme_id",
           "trace_digest", "paid_amount", "netted", "recovered")


def _store(model, *, year: int, scheme: SchemeVersion, figures: dict[int, Figure], scheme_trace: dict,
           result: RunResult) -> None:
    """Create new versions where a figure changed; leave equal ones alone (idempotent).

    The year's rows are read as plain values, without their traces: a figure is the same when its amounts,
    scheme and trace digest are (``models.trace_digest``).
    """
    existing: dict[int, list] = defaultdict(list)
    # Locked (pk order): an approval or payment committing meanwhile is seen, never overwritten.
    for row in model.objects.select_for_update().filter(year=year).order_by("pk").values(*_STORED):
        existing[row["enterprise_id"]].append(row)
    new_rows = []
    to_supersede = []
    for ent_id, fig in figures.items():
        versions = sorted(existing.get(ent_id, []), key=lambda r: r["version"])
        latest = versions[-1] if versions else None
        digest = trace_digest(fig.trace)
        if latest is not None and latest["state"] != CS.SUPERSEDED and _same(fig, digest, latest, scheme):
            result.unchanged.append(latest["pk"])
            continue
        trace = {**fig.trace, "scheme": scheme_trace}
        paid = _year_settled(versions)
        trace["previously_paid"] = _s(paid)
        if latest is not None:
            trace["supersedes"] = {"version": latest["version"], "state": latest["state"]}
            if latest["state"] == CS.COMPUTED:
                to_supersede.append(latest["pk"])
        new_rows.append(model(enterprise_id=ent_id, year=year, version=(latest["version"] + 1) if latest else 1,
                              amount=fig.amount, uncapped_amount=fig.uncapped, capped=fig.capped, trace=trace,
                              trace_digest=digest, scheme=scheme, recovery=max(paid - fig.amount, ZERO)))
    for row in model.objects.filter(pk__in=to_supersede).order_by("pk"):
        row.supersede()
        row.save(update_fields=["state"])
        audit_record(actor=None, target=row, action="supersede", from_state=CS.COMPUTED, to_state=CS.SUPERSEDED,
                     reason=_("重新测算结果不同，生成新版本"))
    model.objects.bulk_create(new_rows, batch_size=5000)
    result.created.extend(new_rows)


def _record_run(kind: str, result: RunResult, by) -> None:
    """Log the run (with the enterprises excluded under R17) unless it changed nothing at all."""
    last = SubsidyRun.objects.filter(kind=kind, year=result.year).order_by("-pk").first()
    if not result.created and last is not None and last.summary.get("excluded") == result.excluded:
        result.run = last
        return
    result.run = SubsidyRun.objects.create(kind=kind, year=result.year, actor=by if getattr(by, "pk", None) else None,
                                           summary=result.as_dict())
    audit_record(actor=by, target=result.run, action=f"{kind}_compute", data=result.as_dict())


def _tell_reviewers(model, result: RunResult, *, rule: str) -> None:
    """New figures wait for the bureau's approval: one notice per run that created any."""
    if not result.created:
        return
    notify(users=users_with_role(Role.REVIEWER), verb="subsidy_to_approve",
           msg=gettext_noop("%(year)s 年度%(what)s已生成 %(n)s 项新测算，待审定（%(rule)s）"),
           params={"year": result.year, "what": model._meta.verbose_name, "n": len(result.created), "rule": rule},
           url=f"{reverse('subsidies:index')}?year={result.year}")


_LOCK_KEYS = {RunKind.GRANT: 6101, RunKind.PREMIUM: 6102}


def _lock_year(kind: str, year: int) -> None:
    """One computation of a kind and year at a time (PostgreSQL advisory lock, released at commit)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_KEYS[kind], year])


def _may_compute(by) -> None:
    if by is not None:  # the yearly job runs without a user
        require(perms.can_compute(by))


@transaction.atomic
def grant_compute(*, year: int, by=None) -> RunResult:
    """R11, R15, I5: prepare the year's grant per enterprise. Running it twice changes nothing.

    Inputs, in a handful of queries whatever the number of enterprises: the
    year's audits, the ledger's inputs (one query over postings), the claims
    paid in the year per project, the projects, the latest versions.
    Projects with ledger input but no audit yet are listed as pending (R15:
    the grant is paid on the audited input) and block approval.
    """
    _may_compute(by)
    _lock_year(RunKind.GRANT, year)
    scheme = scheme_for_year(year)
    rate, cap = scheme.grant_rate, scheme.grant_cap
    # The opinion's local day comes from the database (one conversion per row there, not 20,000 in Python).
    audits = {a["project_id"]: a for a in AnnualAudit.objects.filter(year=year).annotate(
        opinion_on=TruncDate("opinion_at", tzinfo=SHANGHAI)).values(
        "pk", "project_id", "audited_input", "ledger_input", "reason", "opinion_at", "opinion_on")}
    ledger = ledger_inputs(year)
    # I10: only claims paid to the enterprise (it is the insured) count, against the year of the input
    # they compensate (loss_year), whenever they were paid.
    claims = dict(InsuranceClaim.objects.filter(loss_year=year, paid_amount__gt=0,
                                                policy__insured=InsuredParty.ENTERPRISE)
                  .values_list("policy__project_id").annotate(s=Sum("paid_amount")).values_list(
                      "policy__project_id", "s"))
    project_ids = sorted(set(audits) | {p for p, v in ledger.items() if v > 0})
    # The audited projects by a subquery (no list of 20,000 ids to send); the few with ledger input and no
    # audit yet by their ids.
    fields = ("pk", "title", "notice_number", "enterprise_id", "enterprise__name", "enterprise__blacklisted")
    audited = AnnualAudit.objects.filter(year=year).values("project_id")
    projects = {row["pk"]: row for row in Project.objects.filter(pk__in=audited).values(*fields)}
    unaudited = [pid for pid in project_ids if pid not in projects]
    for chunk_start in range(0, len(unaudited), 5000):
        chunk = unaudited[chunk_start:chunk_start + 5000]
        projects.update((row["pk"], row) for row in Project.objects.filter(pk__in=chunk).values(*fields))
    per_enterprise: dict[int, dict] = defaultdict(lambda: {"rows": [], "pending": [], "excluded": []})
    result = RunResult(year=year)
    excluded = {}
    for pid in project_ids:
        p = projects[pid]
        ent = p["enterprise_id"]
        if p["enterprise__blacklisted"]:
            excluded[ent] = p["enterprise__name"]
            continue
        ledger_value = ledger.get(pid, ZERO)
        audit = audits.get(pid)
        desc = {"project": pid, "title": p["title"], "notice_number": p["notice_number"] or ""}
        if audit is None:
            per_enterprise[ent]["pending"].append({**desc, "ledger_input": _s(ledger_value)})
            continue
        opinion_on = audit["opinion_on"]
        evaluation = {"audit": audit["pk"], "audited_input": _s(audit["audited_input"]),
                      "opinion_on": opinion_on.isoformat() if opinion_on else None}
        if audit["opinion_at"] is None:  # I18: the enterprise's acceptance opinion is not on file yet
            per_enterprise[ent]["excluded"].append({**desc, **evaluation, "reason": "opinion_missing",
                                                    "rule": "I18"})
            continue
        per_enterprise[ent]["rows"].append({
            **desc, "input": audit["audited_input"], "claims": claims.get(pid) or ZERO,
            "ledger_input": _s(audit["ledger_input"]), "audit_reason": audit["reason"], "evaluation": evaluation,
        })
    result.excluded = [{"enterprise": e, "name": n, "rule": "R17", "reason": "blacklisted"}
                       for e, n in sorted(excluded.items())]
    figures = {}
    for ent, data in per_enterprise.items():
        fig = grant_figure(rate=rate, cap=cap, projects=data["rows"])
        fig.trace["pending_audit"] = data["pending"]
        fig.trace["excluded"] = data["excluded"]
        figures[ent] = fig
    _store(GrantComputation, year=year, scheme=scheme, figures=figures,
           scheme_trace=_scheme_trace(scheme, year, "grant_rate", "grant_cap"), result=result)
    _record_run(RunKind.GRANT, result, by)
    _tell_reviewers(GrantComputation, result, rule="R11")
    return result


@transaction.atomic
def premium_compute(*, year: int, by=None) -> RunResult:
    """R9, I6, I8, R20: prepare the year's premium subsidies. Running it twice changes nothing.

    The enterprise-insured policies whose year (start date) is ``year``; the
    same-type subsidies of other policies registered for that enterprise and
    year reduce ours so that the total never exceeds the best single policy.
    """
    _may_compute(by)
    _lock_year(RunKind.PREMIUM, year)
    scheme = scheme_for_year(year)
    # I11: the enterprise's premiums (it is the insured) of the year on projects in the scheme, with the
    # policy document on file. A policy without its document is listed, not subsidised, so the reviewer
    # sees why; one bought after the cooperation started is subsidised and flagged 合作后投保.
    policies = (InsurancePolicy.objects.filter(start_date__year=year, insured=InsuredParty.ENTERPRISE,
                                               project__state__in=IN_SCHEME)
                .values("pk", "policy_number", "type", "premium", "start_date", "document", "project_id",
                        "project__title", "project__start_date", "project__enterprise_id",
                        "project__enterprise__name", "project__enterprise__blacklisted")
                .order_by("pk"))
    per_enterprise: dict[int, list] = defaultdict(list)
    no_document: dict[int, list] = defaultdict(list)
    excluded = {}
    for p in policies:
        ent = p["project__enterprise_id"]
        if p["project__enterprise__blacklisted"]:
            excluded[ent] = p["project__enterprise__name"]
            continue
        row = {"policy": p["pk"], "number": p["policy_number"], "type": p["type"], "project": p["project_id"],
               "title": p["project__title"], "premium": p["premium"], "start_date": p["start_date"].isoformat(),
               "after_start": p["start_date"] > p["project__start_date"]}
        if not p["document"]:
            no_document[ent].append({**{k: v for k, v in row.items() if k != "premium"},
                                     "premium": _s(p["premium"]), "reason": "no_document", "rule": "I11"})
            continue
        per_enterprise[ent].append(row)
    for ent in no_document:
        per_enterprise.setdefault(ent, [])
    others: dict[int, list] = defaultdict(list)
    for o in OtherPolicySubsidy.objects.filter(year=year, enterprise_id__in=list(per_enterprise)).values(
            "enterprise_id", "policy_name", "issuer", "type", "amount", "policy_id").order_by("pk"):
        others[o["enterprise_id"]].append({"name": o["policy_name"], "issuer": o["issuer"], "type": o["type"],
                                           "amount": o["amount"], "policy": o["policy_id"]})
    result = RunResult(year=year)
    result.excluded = [{"enterprise": e, "name": n, "rule": "R17", "reason": "blacklisted"}
                       for e, n in sorted(excluded.items())]
    figures = {}
    for ent, rows in per_enterprise.items():
        fig = premium_figure(rate=scheme.premium_rate, cap=scheme.premium_cap, policies=rows,
                             others=others.get(ent, []))
        fig.trace["excluded_policies"] = no_document.get(ent, [])
        fig.trace["after_start"] = [r["policy"] for r in rows if r["after_start"]]
        figures[ent] = fig
    _store(PremiumSubsidy, year=year, scheme=scheme, figures=figures,
           scheme_trace=_scheme_trace(scheme, year, "premium_rate", "premium_cap"), result=result)
    _record_run(RunKind.PREMIUM, result, by)
    _tell_reviewers(PremiumSubsidy, result, rule="R9")
    return result


def subsidies_prepare_year(*, year: int) -> dict:
    """The yearly beat job's work: both computations for ``year``."""
    return {"grants": grant_compute(year=year).as_dict(), "premiums": premium_compute(year=year).as_dict()}


# -- approval and payment -----------------------------------------------------

def _label(model) -> str:
    return str(model._meta.verbose_name)


@transaction.atomic
def figure_approve(*, figure: SubsidyFigure, by) -> SubsidyFigure:
    """The bureau approves a computed figure; an older approved, unpaid version is superseded."""
    require(perms.can_approve_figure(by))
    model = type(figure)
    rows = list(model.objects.select_for_update().filter(enterprise_id=figure.enterprise_id, year=figure.year)
                .select_related("enterprise").order_by("pk"))
    fig = next(r for r in rows if r.pk == figure.pk)
    if fig.state != CS.COMPUTED:
        raise TransitionNotAllowed(_("当前状态为“%(s)s”，不能审定") % {"s": fig.get_state_display()})
    if any(r.version > fig.version for r in rows):
        raise TransitionNotAllowed(_("已有更新的测算版本，请审定最新版本"), code="stale_version")
    _check_not_blacklisted(fig.enterprise)
    pending = fig.trace.get("pending_audit") or []
    if pending:
        raise DomainError(_("尚有 %(n)s 个项目未完成年度专项审计，资助须按审计确认的实际投入核定（R15）")
                          % {"n": len(pending)}, code="audit_pending", rule="R15")
    for older in rows:
        if older.pk != fig.pk and older.state == CS.APPROVED:
            older.supersede()
            older.save(update_fields=["state"])
            audit_record(actor=by, target=older, action="supersede", from_state=CS.APPROVED,
                         to_state=CS.SUPERSEDED, reason=_("新版本 v%(v)s 已审定") % {"v": fig.version})
    # I10: what was paid above this version is owed back; read now (a payment may have come since computing).
    fig.recovery = max(sum((r.settled_value for r in rows if r.pk != fig.pk), ZERO) - fig.amount, ZERO)
    fig.approve(by=by)
    fig.save(update_fields=["state", "approved_by", "approved_at", "recovery"])
    audit_record(actor=by, target=fig, action="approve", from_state=CS.COMPUTED, to_state=CS.APPROVED,
                 data={"amount": _s(fig.amount), "recovery": _s(fig.recovery)})
    notify(users=list(users_of(fig.enterprise, Role.ENTERPRISE)) + list(users_with_role(Role.FINANCE)),
           verb="subsidy_approved", msg=gettext_noop("%(year)s 年度%(what)s已审定：¥%(a)s"),
           params={"year": fig.year, "what": model._meta.verbose_name, "a": f"{fig.amount:,.2f}"})
    return fig


FIGURE_MODELS = (GrantComputation, PremiumSubsidy)  # lock order: grants before premiums, each in pk order


def _kind_of(model) -> str:
    return RunKind.GRANT if model is GrantComputation else RunKind.PREMIUM


@dataclass
class Settlement:
    """I10: what paying ``figure`` now means: its due, the recoveries netted from it, the cash to pay."""
    due: Decimal
    netted: Decimal
    cash: Decimal
    recoveries: list  # [(figure, amount netted from it)]


def _outstanding_recoveries(enterprise_id: int, *, exclude, lock: bool) -> list:
    """Approved versions of the enterprise with a recovery still owed, oldest year first (both kinds)."""
    found = []
    for model in FIGURE_MODELS:
        qs = model.objects.filter(enterprise_id=enterprise_id, state=CS.APPROVED, recovery__gt=0)
        if lock:
            qs = qs.select_for_update().order_by("pk")
        found += [r for r in qs if r.recovery_outstanding > 0 and r != exclude]
    return sorted(found, key=lambda r: (r.year, _kind_of(type(r)), r.pk))


def figure_settlement(figure: SubsidyFigure, *, lock: bool = False) -> Settlement:
    """I10: the due amount of an approved figure, less the enterprise's outstanding recoveries (netted from
    its next payment, never lost, never paid twice)."""
    due = figure.due
    recoveries, left = [], max(due, ZERO)
    for r in _outstanding_recoveries(figure.enterprise_id, exclude=figure, lock=lock):
        take = min(left, r.recovery_outstanding)
        if take <= 0:
            break
        recoveries.append((r, take))
        left -= take
    netted = sum((t for _r, t in recoveries), ZERO)
    return Settlement(due=due, netted=netted, cash=max(due, ZERO) - netted, recoveries=recoveries)


def _lock_for_payment(figure: SubsidyFigure) -> None:
    """Lock the year's versions of the figure and the enterprise's approved rows of both kinds, grants
    first, each in pk order: two payments cannot both see "nothing paid yet" or net the same recovery."""
    for model in FIGURE_MODELS:
        qs = model.objects.filter(enterprise_id=figure.enterprise_id, state=CS.APPROVED)
        if model is type(figure):
            qs = qs | model.objects.filter(enterprise_id=figure.enterprise_id, year=figure.year)
        list(qs.select_for_update().order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def figure_pay(*, figure: SubsidyFigure, by, amount: Decimal, paid_on: date, voucher: str) -> SubsidyFigure:
    """The finance officer records the payment of an approved figure (amount, date, voucher).

    I10: the enterprise's outstanding recoveries (approved versions below what was paid) are netted from
    this payment; the amount paid is the due less what is netted, and the recoveries are settled with it.
    R17: a blacklisted enterprise is paid nothing.
    """
    require(perms.can_pay_figure(by))
    model = type(figure)
    _lock_for_payment(figure)
    fig = model.objects.select_related("enterprise").get(pk=figure.pk)
    if fig.state != CS.APPROVED:
        raise TransitionNotAllowed(_("当前状态为“%(s)s”，只有已审定的金额可以登记拨付") % {"s": fig.get_state_display()})
    _check_not_blacklisted(fig.enterprise)
    amount = parse_money(amount, field="amount")
    plan = figure_settlement(fig, lock=True)
    if plan.due < 0:
        raise DomainError(_("本版本低于已拨付金额，差额 ¥%(r)s 须追回，将从该企业下一笔拨付中抵扣（I10）")
                          % {"r": f"{-plan.due:,.2f}"}, code="recovery_pending", rule="I10")
    if amount != plan.cash:
        detail = _("拨付金额 ¥%(a)s 与应付金额 ¥%(d)s 不一致") % {"a": f"{amount:,.2f}", "d": f"{plan.cash:,.2f}"}
        if plan.netted:
            detail += _("（审定应付 ¥%(due)s，抵扣追回款 ¥%(n)s，I10）") % {"due": f"{plan.due:,.2f}",
                                                                   "n": f"{plan.netted:,.2f}"}
        raise DomainError(detail, code="amount_mismatch", rule="I10" if plan.netted else None,
                          fields={"amount": [_("须等于应付金额 ¥%(c)s") % {"c": f"{plan.cash:,.2f}"}]})
    if plan.cash > 0 and not voucher.strip():
        raise DomainError(_("请填写凭证号"), code="voucher_required", fields={"voucher": [_("请填写凭证号")]})
    voucher = voucher.strip()
    for rec, take in plan.recoveries:
        _settle_recovery(rec, take, by=by, against=fig, paid_on=paid_on, voucher=voucher)
    fig.netted = plan.netted
    fig.netted_from = [{"kind": _kind_of(type(r)), "id": r.pk, "year": r.year, "version": r.version,
                        "amount": _s(t)} for r, t in plan.recoveries]
    fig.pay(by=by, amount=amount, on=paid_on, voucher=voucher)
    fig.save(update_fields=["state", "paid_by", "paid_amount", "paid_on", "voucher", "netted", "netted_from"])
    audit_record(actor=by, target=fig, action="pay", from_state=CS.APPROVED, to_state=CS.PAID,
                 data={"amount": _s(amount), "paid_on": paid_on.isoformat(), "voucher": voucher,
                       "due": _s(plan.due), "netted": _s(plan.netted)})
    paid = {"year": fig.year, "what": model._meta.verbose_name, "a": f"{amount:,.2f}", "n": f"{plan.netted:,.2f}"}
    notify(users=users_of(fig.enterprise, Role.ENTERPRISE), verb="subsidy_paid", params=paid,
           msg=gettext_noop("%(year)s 年度%(what)s已拨付 ¥%(a)s（已抵扣追回款 ¥%(n)s）") if plan.netted
           else gettext_noop("%(year)s 年度%(what)s已拨付 ¥%(a)s"))
    return fig


def _settle_recovery(rec: SubsidyFigure, take: Decimal, *, by, against: SubsidyFigure, paid_on: date,
                     voucher: str) -> None:
    """I10: ``take`` of ``rec``'s recovery was netted from the payment of ``against``; once the whole
    recovery is settled the version is closed as paid (nothing more is paid on it)."""
    rec.recovered += take
    fields = ["recovered"]
    if rec.recovered == rec.recovery:
        rec.pay(by=by, amount=ZERO, on=paid_on, voucher=voucher)
        fields += ["state", "paid_by", "paid_amount", "paid_on", "voucher"]
    rec.save(update_fields=fields)
    audit_record(actor=by, target=rec, action="recovery_netted", from_state=CS.APPROVED, to_state=rec.state,
                 reason=_("从 %(y)s 年度%(what)s的拨付中抵扣") % {"y": against.year, "what": _label(type(against))},
                 data={"amount": _s(take), "against": against.pk, "recovered": _s(rec.recovered),
                       "recovery": _s(rec.recovery)})


__all__ = [
    "policy_create", "claim_create", "other_subsidy_create", "audit_save", "audit_opinion", "grant_compute",
    "premium_compute", "subsidies_prepare_year", "figure_approve", "figure_pay", "grant_figure", "premium_figure",
    "scheme_for_year", "policy_attach_document", "figure_settlement", "claim_default_loss_year",
]
