"""The trace of a figure in plain words (简体中文 first; English via locale/)."""
from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.money import format_cny, format_percent, money

from .choices import ComputationState, PolicyType


def _cny(value) -> str:
    return format_cny(money(Decimal(value)))


def _pct(rate) -> str:
    return format_percent(Decimal(rate))


def _scheme_line(scheme: dict, rate_key: str, cap_key: str, cap_words: str) -> str:
    return _("适用政策版本：%(name)s（按 %(day)s 当日有效的版本确定）；比例 %(rate)s，%(cap_words)s %(cap)s。") % {
        "name": scheme.get("name", ""), "day": scheme.get("selected_on", ""), "rate": _pct(scheme.get(rate_key, 0)),
        "cap_words": cap_words, "cap": _cny(scheme.get(cap_key, 0))}


def _version_lines(trace: dict) -> list[str]:
    lines = []
    sup = trace.get("supersedes")
    if sup:
        lines.append(_("本版本是重新测算的结果，取代第 %(v)s 版（该版状态：%(s)s）。") % {
            "v": sup["version"], "s": ComputationState(sup["state"]).label})
    paid = Decimal(trace.get("previously_paid") or "0")
    amount = Decimal(trace.get("amount") or "0")
    if paid and paid > amount:
        lines.append(_("此前版本已拨付 %(p)s，高于本版本金额，差额 %(r)s 为追回款，从该企业下一笔拨付中抵扣。") % {
            "p": _cny(paid), "r": _cny(paid - amount)})
    elif paid:
        lines.append(_("此前版本已拨付 %(p)s，本版本只需拨付差额。") % {"p": _cny(paid)})
    return lines


def explain_grant(trace: dict) -> list[str]:
    lines = []
    if trace.get("scheme"):
        lines.append(_scheme_line(trace["scheme"], "grant_rate", "grant_cap", _("每家企业每年资助上限")))
    rate = _pct(trace.get("rate", 0))
    for p in trace.get("projects", []):
        line = _("项目“%(t)s”：审计确认的当年实际投入 %(i)s") % {"t": p.get("title", ""), "i": _cny(p["input"])}
        if p.get("ledger_input") is not None and Decimal(p["ledger_input"]) != Decimal(p["input"]):
            line += _("（安心宝账户记录为 %(l)s，以审计数为准，差异原因：%(r)s）") % {
                "l": _cny(p["ledger_input"]), "r": p.get("audit_reason") or "—"}
        line += _("；当年保险公司实际赔付 %(c)s；资助基数 %(b)s（不低于零）；按 %(rate)s 计 %(s)s。") % {
            "c": _cny(p["claims_paid"]), "b": _cny(p["base"]), "rate": rate, "s": _cny(p["share"])}
        lines.append(line)
    for p in trace.get("projects", []):
        ev = p.get("evaluation")
        if ev:
            text = _("项目“%(t)s”：年度专项审计（第 %(a)s 号记录）与企业验收意见（%(d)s）均已在案，计入资助。")
            lines.append(text % {"t": p.get("title", ""), "a": ev["audit"], "d": ev.get("opinion_on") or "—"})
    for p in trace.get("excluded", []):
        lines.append(_("项目“%(t)s”：专项审计已在案（审计确认投入 %(i)s），企业验收意见尚未填写，暂不计入；"
                       "填写后重新测算。") % {"t": p.get("title", ""), "i": _cny(p["audited_input"])})
    for p in trace.get("pending_audit", []):
        lines.append(_("项目“%(t)s”尚未完成年度专项审计（账户记录投入 %(l)s），暂不计入；审计完成后重新测算。") % {
            "t": p.get("title", ""), "l": _cny(p["ledger_input"])})
    if not trace.get("projects") and not trace.get("pending_audit") and not trace.get("excluded"):
        lines.append(_("当年没有可计入的项目。"))
    if trace.get("capped"):
        lines.append(_("各项目合计 %(u)s，超过每年上限 %(c)s，按上限核定，核减 %(cut)s。") % {
            "u": _cny(trace["uncapped_sum"]), "c": _cny(trace["cap"]), "cut": _cny(trace["cap_cut"])})
    else:
        lines.append(_("各项目合计 %(u)s，未超过每年上限 %(c)s。") % {
            "u": _cny(trace.get("uncapped_sum", 0)), "c": _cny(trace.get("cap", 0))})
    lines.append(_("核定资助金额 %(a)s。金额只在最后一步按四舍五入保留到分。") % {"a": _cny(trace.get("amount", 0))})
    return lines + _version_lines(trace)


def after_start_flag(policy_row: dict) -> str:
    """I11: a policy bought after the cooperation started is subsidised but flagged for the reviewer."""
    text = _("【合作后投保】保险起期 %(d)s 晚于项目开始日期，请审定前核实。")
    return text % {"d": policy_row.get("start_date", "")}


def explain_premium(trace: dict) -> list[str]:
    lines = []
    if trace.get("scheme"):
        lines.append(_scheme_line(trace["scheme"], "premium_rate", "premium_cap", _("每家企业每年补助上限")))
    rate = _pct(trace.get("rate", 0))
    for p in trace.get("premiums", []):
        line = _("保单 %(n)s（%(type)s，项目“%(t)s”）：保费 %(p)s，按 %(rate)s 计 %(s)s") % {
            "n": p.get("number") or f"#{p.get('policy')}", "type": PolicyType(p["type"]).label,
            "t": p.get("title", ""), "p": _cny(p["premium"]), "rate": rate, "s": _cny(p["share"])}
        if p.get("alone_capped"):
            line += _("（超过上限，按上限 %(a)s 计）") % {"a": _cny(p["alone"])}
        if p.get("others"):
            others = pgettext("标点", "、").join(_("%(name)s（%(issuer)s）%(a)s") % {
                "name": o["name"], "issuer": o["issuer"], "a": _cny(o["amount"])} for o in p["others"])
            line += _("；该保费已获其他政策补助：%(o)s，合计 %(t)s；"
                      "从优就高、不重复，最优单项政策为 %(b)s，本区补足差额 %(d)s。") % {
                "o": others, "t": _cny(p["others_total"]), "b": _cny(p["best_single"]), "d": _cny(p["due"])}
        else:
            line += _("；该保费无其他政策同类补助，本区应补 %(d)s。") % {"d": _cny(p["due"])}
        if p.get("after_start"):
            line += " " + after_start_flag(p)
        lines.append(line)
    for p in trace.get("excluded_policies", []):
        lines.append(_("保单 %(n)s（项目“%(t)s”，保费 %(p)s）尚未上传保单文件，暂不补助；上传后重新测算。") % {
            "n": p.get("number") or f"#{p.get('policy')}", "t": p.get("title", ""), "p": _cny(p["premium"])})
    for o in trace.get("unattached_others", []):
        lines.append(_("其他政策补助 %(name)s（%(issuer)s）%(a)s 未对应本区补助的保费，不抵减。") % {
            "name": o["name"], "issuer": o["issuer"], "a": _cny(o["amount"])})
    if trace.get("year_cap_applied"):
        lines.append(_("各险种合计 %(s)s，超过每家企业每年上限 %(c)s，按上限核定，核减 %(cut)s。") % {
            "s": _cny(trace["due_sum"]), "c": _cny(trace["cap"]), "cut": _cny(trace["cap_cut"])})
    lines.append(_("核定保费补助 %(a)s。金额只在最后一步按四舍五入保留到分。") % {"a": _cny(trace.get("amount", 0))})
    return lines + _version_lines(trace)
