"""The milestone timeline of a project, computed server-side as SVG geometry (no script, no asset)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import format_cny

WIDTH = 880
LABEL_W = 130
ROW_H = 58
TOP = 34


@dataclass
class Row:
    seq: int
    title: str
    state: str
    state_label: str
    y: int
    planned: tuple[int, int]
    actual: tuple[int, int] | None
    actual_class: str
    markers: list[dict] = field(default_factory=list)
    money: str = ""


def _day(moment) -> date | None:
    return timezone.localdate(moment) if moment else None


def build_timeline(milestones, today: date | None = None) -> dict:
    """Planned and actual periods from the milestones' own dates (deposit in, reported, first overdue,
    breach, settled)."""
    today = today or timezone.localdate()
    if not milestones:
        return {"rows": [], "ticks": [], "width": WIDTH, "height": TOP + 20}
    facts = [(m, _day(m.started_at), _day(m.reported_at), _day(m.settled_at), _day(m.overdue_at),
              _day(m.breached_at)) for m in milestones]
    lo = min([m.start_date for m in milestones] + [f[1] for f in facts if f[1]])
    hi = max([m.due_date for m in milestones] + [d for f in facts for d in f[1:] if d] + [today])
    span = max((hi - lo).days, 1)
    plot_w = WIDTH - LABEL_W - 20

    def x(d: date) -> int:
        return LABEL_W + round((d - lo).days * plot_w / span)

    rows = []
    for i, (m, started, reported, settled, overdue, breached) in enumerate(facts):
        y = TOP + i * ROW_H
        actual = None
        cls = "ongoing"
        if started:
            end = settled or today
            actual = (x(started), max(x(end) - x(started), 4))
            cls = {"released": "released", "forfeited": "forfeited", "overdue": "overdue",
                   "balance_overdue": "overdue", "breached": "breached"}.get(m.state, "ongoing")
        markers = []
        for d, label, kind in ((started, _("缴入"), "paid"), (reported, _("报告完成"), "reported"),
                               (overdue, _("逾期"), "overdue"), (breached, _("认定违约"), "breached"),
                               (settled, _("已取消") if m.state == "cancelled" else _("结算"), kind_of(m))):
            if d:
                markers.append({"x": x(d), "label": label, "kind": kind, "date": d.isoformat()})
        parts = [_("缴入 %(a)s") % {"a": format_cny(m.paid_in)}]
        if m.released_amount:
            parts.append(_("拨付 %(a)s") % {"a": format_cny(m.released_amount)})
        if m.forfeited_amount:
            parts.append(_("罚没 %(a)s") % {"a": format_cny(m.forfeited_amount)})
        if m.refunded_amount:
            parts.append(_("退还 %(a)s") % {"a": format_cny(m.refunded_amount)})
        rows.append(Row(seq=m.seq, title=m.title, state=m.state, state_label=m.get_state_display(), y=y,
                        planned=(x(m.start_date), max(x(m.due_date) - x(m.start_date), 2)), actual=actual,
                        actual_class=cls, markers=markers, money=" · ".join(parts)))
    ticks = []
    d = date(lo.year, lo.month, 1)
    step = 1 if span <= 400 else 3 if span <= 1200 else 6
    while d <= hi:
        if d >= lo:
            ticks.append({"x": x(d), "label": f"{d.year}-{d.month:02d}"})
        month = d.month - 1 + step
        d = date(d.year + month // 12, month % 12 + 1, 1)
    height = TOP + len(rows) * ROW_H + 10
    return {"rows": rows, "ticks": ticks, "width": WIDTH, "height": height, "today_x": x(today),
            "label_w": LABEL_W}


def kind_of(m) -> str:
    return {"forfeited": "forfeited", "cancelled": "cancelled"}.get(m.state, "released")
