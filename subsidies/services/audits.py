"""A project's annual evaluation and audited input (R15, I5) and the enterprise's acceptance opinion (I18)."""
from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.choices import Role
from core.exceptions import DomainError
from core.files import check_upload
from core.money import format_amount, parse_money
from core.permissions import require
from core.services import audit_record, notify, users_of
from projects.models import Project

from .. import permissions as perms
from ..models import AnnualAudit
from ..selectors import ledger_input
from ._common import as_text


def _check_audit_reason(audited: Decimal, ledger: Decimal, reason: str) -> None:
    if audited != ledger and not reason.strip():
        raise DomainError(
            _("审计确认的实际投入（¥%(a)s）与账户记录（¥%(l)s）不一致，须说明原因")
            % {"a": format_amount(audited), "l": format_amount(ledger)},
            code="reason_required", rule="I5", fields={"reason": [_("两者不一致时必须填写原因")]})


@transaction.atomic
def audit_save(*, actor, project: Project, year: int, audited_input: Decimal, reason: str = "",
               expert_evaluation: str = "", report=None) -> AnnualAudit:
    """The auditor records (or corrects) a project's yearly evaluation; the ledger's figure is filled in."""
    require(perms.can_record_audit(actor))
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
        audit = AnnualAudit(project=project, year=year, recorded_by=actor)
    else:
        before = {"audited_input": as_text(audit.audited_input), "ledger_input": as_text(audit.ledger_input)}
    audit.ledger_input = ledger
    audit.audited_input = audited_input
    audit.reason = reason
    audit.expert_evaluation = expert_evaluation
    if report:
        audit.report = report
    audit.recorded_by = actor
    audit.save()
    audit_record(actor=actor, target=audit, action="audit_save" if before is None else "audit_correct",
                 reason=reason, data={"audited_input": as_text(audited_input), "ledger_input": as_text(ledger),
                                      "before": before})
    notify(users=users_of(project.enterprise, Role.ENTERPRISE), verb="audit_opinion_due",
           msg=gettext_noop("项目“%(t)s”%(year)s 年度专项审计已录入，请填写验收意见"),
           params={"t": project.title, "year": year}, url=reverse("subsidies:audit", args=[audit.pk]))
    return audit


@transaction.atomic
def audit_opinion(*, actor, audit: AnnualAudit, opinion: str) -> AnnualAudit:
    """R15: the enterprise's acceptance opinion on the year's evaluation."""
    # Only the audit's row (``of``): the join would lock the project too, against audit_save's project → audit.
    audit = AnnualAudit.objects.select_for_update(of=("self",)).select_related("project").get(pk=audit.pk)
    require(perms.can_give_acceptance_opinion(actor, audit))
    if not opinion.strip():
        raise DomainError(_("验收意见不能为空"), code="opinion_required", fields={"opinion": [_("请填写")]})
    audit.opinion = opinion
    audit.opinion_by = actor
    audit.opinion_at = timezone.now()
    audit.save(update_fields=["opinion", "opinion_by", "opinion_at", "updated_at"])
    audit_record(actor=actor, target=audit, action="audit_opinion", reason=opinion)
    return audit
