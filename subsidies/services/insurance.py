"""Insurance policies and claims (R9, R11, R12, I10, I11) and the subsidies other policies paid (R20, I8, I12)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import OrgKind
from core.exceptions import DomainError
from core.files import check_upload
from core.models import Organization
from core.money import ZERO, parse_money
from core.permissions import require
from core.services import audit_record
from projects.models import Milestone, Project

from .. import permissions as perms
from ..choices import InsuredParty
from ..models import InsuranceClaim, InsurancePolicy, OtherPolicySubsidy
from ._common import SHANGHAI, as_text, check_not_blacklisted


@transaction.atomic
def policy_create(*, actor, project: Project, insurer: Organization, type: str, premium: Decimal, cover: Decimal,
                  start_date: date, end_date: date, insured: str = InsuredParty.ENTERPRISE,
                  policy_number: str = "", document=None) -> InsurancePolicy:
    require(perms.can_record_policy(actor, project))
    check_not_blacklisted(project.enterprise)  # R17: a barred enterprise files nothing new
    if insurer.kind != OrgKind.INSURER:
        raise DomainError(_("承保机构必须是保险公司"), code="invalid_insurer", rule="R9",
                          fields={"insurer": [_("请选择保险公司")]})
    if document:
        check_upload(document, field="document")  # R12
    premium, cover = parse_money(premium, field="premium"), parse_money(cover, field="cover")
    if premium <= 0 or cover <= 0:
        raise DomainError(_("保费和保险金额必须大于零"), code="invalid_amount", rule="R9")
    if end_date < start_date:
        raise DomainError(_("保险止期不得早于起期"), code="invalid_period", fields={"end_date": [_("止期早于起期")]})
    policy = InsurancePolicy.objects.create(
        project=project, insurer=insurer, insured=insured, type=type, premium=premium, cover=cover,
        start_date=start_date, end_date=end_date, policy_number=policy_number, document=document or "",
        created_by=actor)
    audit_record(actor=actor, target=policy, action="policy_create",
                 data={"premium": as_text(premium), "cover": as_text(cover), "type": type})
    return policy


def claim_default_loss_year(*, milestone: Milestone | None, paid_on: date | None) -> int:
    """I10: the year of the failed milestone's decision, else of the payment (the loss event), else this year."""
    if milestone is not None and milestone.decided_at is not None:
        return timezone.localtime(milestone.decided_at, SHANGHAI).year
    return (paid_on or timezone.localdate()).year


@transaction.atomic
def claim_create(*, actor, policy: InsurancePolicy, assessed_loss: Decimal, paid_amount: Decimal = ZERO,
                 paid_on: date | None = None, milestone: Milestone | None = None,
                 description: str = "", loss_year: int | None = None) -> InsuranceClaim:
    require(perms.can_record_claim(actor, policy))
    assessed_loss = parse_money(assessed_loss, field="assessed_loss")
    paid_amount = parse_money(paid_amount, field="paid_amount")
    if assessed_loss < 0 or paid_amount < 0:
        raise DomainError(_("金额不得为负"), code="invalid_amount")
    if paid_amount > 0 and paid_on is None:
        raise DomainError(_("已赔付的理赔须填写赔付日期"), code="paid_on_required", rule="R11",
                          fields={"paid_on": [_("请填写赔付日期")]})
    if milestone is not None and milestone.project_id != policy.project_id:
        raise DomainError(_("里程碑不属于该保单的项目"), code="invalid_milestone",
                          fields={"milestone": [_("里程碑不属于该项目")]})
    if paid_amount > policy.cover:
        raise DomainError(_("赔付金额超过保险金额"), code="over_cover", rule="R9",
                          fields={"paid_amount": [_("超过保险金额")]})
    if loss_year is None:
        loss_year = claim_default_loss_year(milestone=milestone, paid_on=paid_on)
    started = policy.project.start_date.year
    if loss_year < started:
        raise DomainError(_("损失所属年度 %(y)s 早于项目开始年度 %(s)s") % {"y": loss_year, "s": started},
                          code="loss_year_before_project", rule="I10",
                          fields={"loss_year": [_("不得早于项目开始年度 %(s)s") % {"s": started}]})
    # A claim compensates input of its year or an earlier one: never a year after it was paid, nor the future.
    latest = min(paid_on.year if paid_on else timezone.localdate().year, timezone.localdate().year)
    if loss_year > latest:
        raise DomainError(_("损失所属年度 %(y)s 晚于赔付年度 %(p)s") % {"y": loss_year, "p": latest},
                          code="loss_year_after_payment", rule="I10",
                          fields={"loss_year": [_("不得晚于 %(p)s") % {"p": latest}]})
    claim = InsuranceClaim.objects.create(policy=policy, milestone=milestone, assessed_loss=assessed_loss,
                                          paid_amount=paid_amount, paid_on=paid_on, description=description,
                                          loss_year=loss_year, created_by=actor)
    audit_record(actor=actor, target=claim, action="claim_create",
                 data={"assessed_loss": as_text(assessed_loss), "paid_amount": as_text(paid_amount), "loss_year": loss_year})
    return claim


@transaction.atomic
def policy_attach_document(*, actor, policy: InsurancePolicy, document) -> InsurancePolicy:
    """R12, I11: file (or replace) the policy document after the policy was recorded."""
    policy = InsurancePolicy.objects.select_for_update().select_related("project__enterprise").get(pk=policy.pk)
    require(perms.can_record_policy(actor, policy.project))
    if not document:
        raise DomainError(_("请上传保单文件"), code="document_required", rule="R12",
                          fields={"document": [_("请上传保单文件")]})
    check_upload(document, field="document")  # R12: PDF or image, judged by the bytes
    replaced = bool(policy.document)
    policy.document = document
    policy.save(update_fields=["document"])
    audit_record(actor=actor, target=policy, action="policy_document_replace" if replaced else "policy_document_add")
    return policy


@transaction.atomic
def other_subsidy_create(*, actor, enterprise: Organization, policy_name: str, issuer: str, type: str, year: int,
                         amount: Decimal, premium_covered: Decimal = ZERO,
                         policy: InsurancePolicy | None = None) -> OtherPolicySubsidy:
    """R20, I8: register a same-type subsidy another policy already paid."""
    require(perms.can_record_other_subsidy(actor, enterprise))
    if enterprise.kind != OrgKind.ENTERPRISE:  # R20: the subsidy another policy paid to an enterprise
        raise DomainError(_("“%(o)s”不是企业，不能登记其他政策补助") % {"o": enterprise.name},
                          code="not_an_enterprise", rule="R20", fields={"enterprise": [_("须为企业")]})
    amount = parse_money(amount)
    if amount <= 0:
        raise DomainError(_("补助金额必须大于零"), code="invalid_amount", fields={"amount": [_("必须大于零")]})
    if policy is not None and (policy.project.enterprise_id != enterprise.pk or policy.type != type):
        raise DomainError(_("对应保单须属于该企业且险种相同"), code="invalid_policy", rule="R20",
                          fields={"policy": [_("须为该企业同险种的保单")]})
    if policy is not None and policy.year != year:  # I12: counted on that premium, in that premium's year
        raise DomainError(_("补助年度 %(y)s 与所补保单的年度 %(p)s 不一致") % {"y": year, "p": policy.year},
                          code="year_not_policy_year", rule="I12",
                          fields={"year": [_("须为保单年度 %(p)s") % {"p": policy.year}]})
    premium_covered = parse_money(premium_covered, field="premium_covered")
    row = OtherPolicySubsidy.objects.create(enterprise=enterprise, policy_name=policy_name, issuer=issuer,
                                            type=type, year=year, amount=amount,
                                            premium_covered=premium_covered, policy=policy, created_by=actor)
    audit_record(actor=actor, target=row, action="other_subsidy_create", data={"amount": as_text(amount)})
    return row
