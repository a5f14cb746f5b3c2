"""A small server-rendered SVG line chart (no JavaScript, nothing fetched)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _


@dataclass
class Series:
    key: str
    label: str
    colour: str
    points: str  # "x,y x,y …" for <polyline>
    last: Decimal


def _nice_max(value: Decimal) -> Decimal:
    if value <= 0:
        return Decimal(1)
    exp = len(str(int(value))) - 1
    step = Decimal(10) ** exp
    for m in ("1", "2", "2.5", "5", "10"):
        top = Decimal(m) * step
        if top >= value:
            return top
    return 10 * step


def _thin(points, limit: int):
    """At most ``limit`` points, evenly spread, the first and the last kept.

    One point per entry grows with the ledger (10,000 projects: 20,000 points, 600 KiB of SVG per page
    view) while the plot has some 750 pixels; beyond two pixels per point nothing more can be seen.
    """
    n = len(points)
    if n <= limit:
        return points
    keep = sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})
    return [points[i] for i in keep]


def pool_chart(points, *, width: int = 860, height: int = 280) -> dict | None:
    """Step lines of available, advanced and losses after each pool entry, on a time axis."""
    if not points:
        return None
    left, right, top, bottom = 90, 16, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    points = _thin(points, plot_w // 2)
    ymax = _nice_max(max(max(p.available, p.advanced, p.losses) for p in points))
    ymin = min(Decimal(0), *(min(p.available, p.advanced, p.losses) for p in points))  # never below 0 in a sound ledger
    t0, t1 = points[0].at.timestamp(), points[-1].at.timestamp()
    span = (t1 - t0) or 1.0

    def x(i: int) -> float:
        if t1 == t0:
            return left + plot_w * (i / (len(points) - 1) if len(points) > 1 else 0.5)
        return left + plot_w * (points[i].at.timestamp() - t0) / span

    def y(v: Decimal) -> Decimal:
        """Pixel row of an amount, computed in Decimal (the amounts are money)."""
        return top + plot_h - (v - ymin) * plot_h / (ymax - ymin)

    series = []
    for key, label, colour in (("available", _("可用"), "#2f855a"), ("advanced", _("已垫付"), "#b7791f"),
                               ("losses", _("损失"), "#c53030")):
        coords = []
        for i, p in enumerate(points):
            value = getattr(p, key)
            if i:
                coords.append(f"{x(i):.1f},{y(getattr(points[i - 1], key)):.1f}")  # step: hold until the entry
            coords.append(f"{x(i):.1f},{y(value):.1f}")
        if len(points) == 1:  # one day of history: its level across the plot, not a point nobody can see
            level = y(getattr(points[0], key))
            coords = [f"{left:.1f},{level:.1f}", f"{left + plot_w:.1f},{level:.1f}"]
        series.append(Series(key, label, colour, " ".join(coords), getattr(points[-1], key)))
    yticks = [{"y": round(y(ymin + (ymax - ymin) * k / 4), 1),
               "label": _("%(n)s 万") % {"n": f"{(ymin + (ymax - ymin) * k / 4) / 10000:,.0f}"}} for k in range(5)]
    xticks, seen = [], set()
    for k in range(5):  # at most five dates on the axis, each once (a span within one day shows one)
        at = datetime.fromtimestamp(t0 + span * k / 4, tz=points[0].at.tzinfo)
        label = timezone.localdate(at).isoformat()
        if label in seen:
            continue
        seen.add(label)
        anchor = "start" if k == 0 else "end" if k == 4 else "middle"
        xticks.append({"x": round(left + plot_w * k / 4, 1), "label": label, "anchor": anchor})
    if len(xticks) == 1 and t1 == t0:
        xticks[0].update(x=round(left + plot_w / 2, 1), anchor="middle")
    return {"width": width, "height": height, "series": series, "yticks": yticks, "xticks": xticks,
            "left": left, "right": width - right, "top": top, "bottom": top + plot_h}
