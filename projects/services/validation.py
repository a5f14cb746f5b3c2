"""Eligibility of a proposal (R1, R2, R4–R7, R17, I4, I9): checked at submit and again at approval.

Every problem names its rule. Errors are collected, not raised one by one, so
the enterprise sees everything wrong with a proposal at once. Field keys are
the proposal's field names, and ``milestones.<seq>.<field>`` for a milestone.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.exceptions import DomainError
from core.models import Organization, SchemeVersion
from core.money import format_cny, has_at_most_two_places

from ..choices import Mode


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (clamped to the month's end): the end of an R7 cycle."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class MilestoneData:
    seq: int | None
    title: str = ""
    amount: Decimal | None = None
    deposit_amount: Decimal | None = None
    start_date: date | None = None
    due_date: date | None = None
    targets: str = ""
    deliverables: str = ""


@dataclass
class ProposalData:
    platform: Organization | None
    mode: str
    title: str
    total_amount: Decimal | None
    equipment_amount: Decimal | None
    budget: Decimal | None
    start_date: date | None
    end_date: date | None
    milestones: list[MilestoneData] = field(default_factory=list)
    ip_terms: str = ""
    profit_sharing: str = ""

    @classmethod
    def of(cls, project) -> ProposalData:
        return cls(platform=project.platform, mode=project.mode, title=project.title,
                   total_amount=project.total_amount, equipment_amount=project.equipment_amount,
                   budget=project.budget, start_date=project.start_date, end_date=project.end_date,
                   ip_terms=project.ip_terms, profit_sharing=project.profit_sharing,
                   milestones=[MilestoneData(seq=m.seq, title=m.title, amount=m.amount,
                                             deposit_amount=m.deposit_amount, start_date=m.start_date,
                                             due_date=m.due_date) for m in project.milestones.order_by("seq")])


class Errors:
    def __init__(self) -> None:
        self.items: list[tuple[str, str | None, str]] = []

    def add(self, key: str, rule: str | None, message: str) -> None:
        self.items.append((key, rule, message))  # the rule travels as DomainError.rule, not in the words

    def __bool__(self) -> bool:
        return bool(self.items)

    def fields(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, _rule, text in self.items:
            out.setdefault(key, []).append(text)
        return out

    def raise_if_any(self, *, stage: str) -> None:
        if not self.items:
            return
        rules = []
        for _key, rule, _text in self.items:
            if rule and rule not in rules:
                rules.append(rule)
        detail = (_("%(stage)s未通过校验：") % {"stage": stage}
                  + pgettext("标点", "；").join(text for _k, _r, text in self.items))
        raise DomainError(detail, code="proposal_invalid", rule=rules[0] if rules else None, fields=self.fields())


def _money_ok(errors: Errors, key: str, value, *, label: str, positive: bool = True) -> bool:
    if value is None or value == "":
        errors.add(key, None, _("%(label)s必填") % {"label": label})
        return False
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        errors.add(key, "I4", _("%(label)s不是有效金额") % {"label": label})
        return False
    if not value.is_finite():
        errors.add(key, "I4", _("%(label)s不是有效金额") % {"label": label})
        return False
    if not has_at_most_two_places(value):
        errors.add(key, "I4", _("%(label)s最多两位小数（精确到分）") % {"label": label})
        return False
    if positive and value <= 0:
        errors.add(key, "I4", _("%(label)s必须大于零") % {"label": label})
        return False
    if not positive and value < 0:
        errors.add(key, "I4", _("%(label)s不能为负数") % {"label": label})
        return False
    return True


def _exact_cny(value: Decimal) -> str:
    """An exact figure: fen when it is whole fen, otherwise every digit (no rounding either way)."""
    if value == value.quantize(Decimal("0.01")):
        return format_cny(value)
    return f"¥{value.normalize():,f}"


def check_basic(data: ProposalData) -> Errors:
    """What any draft must satisfy to be stored: amounts, dates, milestone numbering."""
    errors = Errors()
    if not (data.title or "").strip():
        errors.add("title", None, _("项目名称必填"))
    if data.mode not in Mode.values:
        errors.add("mode", "R1", _("合作方式须为项目合作、技术转化、共建联合研究中心、联合实验室或其他"))
    if data.platform is None or data.platform.kind != "platform":
        errors.add("platform", "R1", _("合作对象须为本区的科创平台"))
    _money_ok(errors, "total_amount", data.total_amount, label=_("协议总合作经费"))
    _money_ok(errors, "equipment_amount", data.equipment_amount, label=_("设备购置费"), positive=False)
    _money_ok(errors, "budget", data.budget, label=_("平台立项预算 B"))
    if data.start_date is None:
        errors.add("start_date", None, _("开始日期必填"))
    if data.end_date is None:
        errors.add("end_date", None, _("结束日期必填"))
    if data.start_date and data.end_date and data.end_date <= data.start_date:
        errors.add("end_date", None, _("结束日期须晚于开始日期"))
    seen: set[int] = set()
    for m in data.milestones:
        key = f"milestones.{m.seq}"
        if m.seq is None or m.seq < 1:
            errors.add("milestones", "R7", _("里程碑序号须为 1、2、3……"))
            continue
        if m.seq in seen:
            errors.add(f"{key}.seq", "R7", _("里程碑序号 %(seq)s 重复") % {"seq": m.seq})
        seen.add(m.seq)
        if not (m.title or "").strip():
            errors.add(f"{key}.title", None, _("里程碑 %(seq)s 的名称必填") % {"seq": m.seq})
        amount_ok = _money_ok(errors, f"{key}.amount", m.amount, label=_("里程碑 %(seq)s 的阶段经费") % {"seq": m.seq})
        deposit_ok = _money_ok(errors, f"{key}.deposit_amount", m.deposit_amount,
                               label=_("里程碑 %(seq)s 的约定保证金") % {"seq": m.seq})
        if amount_ok and deposit_ok and Decimal(m.deposit_amount) > Decimal(m.amount):
            errors.add(f"{key}.deposit_amount", "R5",
                       _("里程碑 %(seq)s 的保证金不能超过其阶段经费") % {"seq": m.seq})
        if m.start_date is None or m.due_date is None:
            errors.add(f"{key}.due_date", None, _("里程碑 %(seq)s 的开始和截止日期必填") % {"seq": m.seq})
        elif m.due_date <= m.start_date:
            errors.add(f"{key}.due_date", None, _("里程碑 %(seq)s 的截止日期须晚于开始日期") % {"seq": m.seq})
    return errors


def check_eligibility(data: ProposalData, *, scheme: SchemeVersion, enterprise: Organization) -> Errors:
    """Everything of ``check_basic`` plus the scheme's rules: what submit and approve require."""
    errors = check_basic(data)
    if enterprise.blacklisted:
        errors.add("enterprise", "R17", _("企业“%(name)s”已列入黑名单，不得申报或立项") % {"name": enterprise.name})
    if data.platform is not None and data.platform.blacklisted:
        errors.add("platform", "R17", _("科创平台“%(name)s”已列入黑名单") % {"name": data.platform.name})
    if data.platform is not None and data.platform.kind == "platform" and not data.platform.district_platform:
        # R1 made exact: one of the district's platforms, as the bureau keeps them.
        errors.add("platform", "R1", _("“%(name)s”不是区科技局认定的本区科创平台") % {"name": data.platform.name})
    # R4 made exact: IP ownership for each stage and the later profit sharing are part of the agreement.
    if not (data.ip_terms or "").strip():
        errors.add("ip_terms", "R4", _("各阶段知识产权归属必填"))
    if not (data.profit_sharing or "").strip():
        errors.add("profit_sharing", "R4", _("后续盈利分成必填"))
    if {"total_amount", "equipment_amount"} & {k for k, _r, _t in errors.items}:
        return errors  # amounts unusable: the sums below would only repeat the error
    total, equipment = Decimal(data.total_amount), Decimal(data.equipment_amount)
    net = total - equipment
    # R2: total − equipment ≥ the scheme's minimum.
    if net < scheme.min_net_funding:
        errors.add("total_amount", "R2",
                   _("不含企业设备购置费的合作经费为 %(net)s（总经费 %(total)s − 设备 %(eq)s），低于最低要求 %(min)s")
                   % {"net": format_cny(net), "total": format_cny(total), "eq": format_cny(equipment),
                      "min": format_cny(scheme.min_net_funding)})
    milestones = sorted([m for m in data.milestones if m.seq], key=lambda m: m.seq)
    if not milestones:
        errors.add("milestones", "R4", _("合作协议至少须有一个里程碑"))
        return errors
    bad_keys = {k for k, _r, _t in errors.items}
    usable = [m for m in milestones if f"milestones.{m.seq}.amount" not in bad_keys
              and f"milestones.{m.seq}.deposit_amount" not in bad_keys]
    if len(usable) == len(milestones):
        # I9: the tranches add up to the net funding.
        tranches = sum((Decimal(m.amount) for m in milestones), Decimal("0.00"))
        if tranches != net:
            errors.add("milestones", "I9", _("各里程碑阶段经费合计 %(sum)s，应等于不含设备的合作经费 %(net)s")
                       % {"sum": format_cny(tranches), "net": format_cny(net)})
    if [m.seq for m in milestones] != list(range(1, len(milestones) + 1)):
        errors.add("milestones", "R7", _("里程碑须从 1 起连续编号"))
    ratio = scheme.min_deposit_ratio
    for m in usable:
        amount, deposit = Decimal(m.amount), Decimal(m.deposit_amount)
        # R5/R7: compared exactly (ratio × tranche is not rounded in the enterprise's favour).
        if deposit < ratio * amount:
            errors.add(f"milestones.{m.seq}.deposit_amount", "R5" if m.seq == 1 else "R7",
                       _("里程碑 %(seq)s 的约定保证金 %(dep)s 低于阶段经费 %(amt)s 的 %(pct)s%%（%(min)s）")
                       % {"seq": m.seq, "dep": format_cny(deposit), "amt": format_cny(amount),
                          "pct": f"{(ratio * 100).normalize():f}", "min": _exact_cny(ratio * amount)})
    first = milestones[0]
    if first.seq == 1 and "milestones.1.amount" not in bad_keys and "budget" not in bad_keys:
        # R6: the platform's budget B is at least the first tranche.
        if Decimal(data.budget) < Decimal(first.amount):
            errors.add("budget", "R6", _("平台立项预算 B %(b)s 低于首笔合作经费（里程碑 1）%(t)s")
                       % {"b": format_cny(Decimal(data.budget)), "t": format_cny(Decimal(first.amount))})
    # R7: each milestone at most one cycle; in sequence inside the project period.
    months = scheme.max_milestone_months
    previous_due = None
    for m in milestones:
        if m.start_date is None or m.due_date is None or m.due_date <= m.start_date:
            continue
        if m.due_date > add_months(m.start_date, months):
            errors.add(f"milestones.{m.seq}.due_date", "R7",
                       _("里程碑 %(seq)s 历时超过 %(n)s 个月（%(s)s 至 %(d)s）")
                       % {"seq": m.seq, "n": months, "s": m.start_date, "d": m.due_date})
        if data.start_date and m.start_date < data.start_date:
            errors.add(f"milestones.{m.seq}.start_date", "R7",
                       _("里程碑 %(seq)s 早于项目开始日期 %(d)s") % {"seq": m.seq, "d": data.start_date})
        if data.end_date and m.due_date > data.end_date:
            errors.add(f"milestones.{m.seq}.due_date", "R7",
                       _("里程碑 %(seq)s 晚于项目结束日期 %(d)s") % {"seq": m.seq, "d": data.end_date})
        if previous_due and m.start_date < previous_due:
            errors.add(f"milestones.{m.seq}.start_date", "R7",
                       _("里程碑 %(seq)s 须在上一里程碑截止（%(d)s）之后开始") % {"seq": m.seq, "d": previous_due})
        previous_due = m.due_date
    return errors
