"""Small server-rendered SVG charts for the dashboards (bars and a donut; no script, nothing fetched).

Geometry is computed with Decimal, so that no amount passes through a float.
"""
from __future__ import annotations

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.money import format_cny

PALETTE = ["#2b6cb0", "#2f855a", "#b7791f", "#c53030", "#6b46c1", "#319795", "#975a16", "#4a5568",
           "#d53f8c", "#718096", "#38a169"]
Q = Decimal("0.1")


def _n(value) -> str:
    return str(Decimal(value).quantize(Q))


def _id(chart_id: str) -> str:
    return f' id="{escape(chart_id)}"' if chart_id else ""


def _label(value) -> str:
    if isinstance(value, Decimal) and value.as_tuple().exponent < 0:
        return format_cny(value)
    return f"{value:,}"


def _aria(rows) -> str:
    """The figure in words for a screen reader (an image needs a name): "label value; label value"."""
    return f' aria-label="{escape("; ".join(f"{label} {_label(value)}" for label, value in rows))}"'


def bar_chart(rows: list[tuple[str, Decimal | int]], *, width: int = 520, chart_id: str = "") -> SafeString:
    """Horizontal bars, one per (label, value); values of zero draw an empty row."""
    if not rows:
        return mark_safe("")
    row_h, label_w, value_w = 26, 150, 150
    height = row_h * len(rows) + 8
    plot_w = Decimal(width - label_w - value_w)
    top = max((Decimal(v) for _, v in rows), default=Decimal(0)) or Decimal(1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart"{_id(chart_id)} '
           f'viewBox="0 0 {width} {height}" width="{width}" font-size="12" role="img"{_aria(rows)}>']
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        w = plot_w * Decimal(value) / top if value else Decimal(0)
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" fill="#323f4b">{escape(label)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{_n(w)}" height="{row_h - 8}" fill="{colour}">'
                   f'<title>{escape(label)} {escape(_label(value))}</title></rect>')
        out.append(f'<text x="{_n(label_w + w + 6)}" y="{y + 17}" fill="#52606d">{escape(_label(value))}</text>')
    out.append("</svg>")
    return mark_safe("".join(out))


def donut(rows: list[tuple[str, int]], *, size: int = 160, chart_id: str = "") -> SafeString:
    """A donut of counts, drawn with stroke-dasharray on circles (circumference 100)."""
    total = sum(v for _, v in rows)
    if not total:
        return mark_safe("")
    r = Decimal("15.9155")  # 2πr = 100
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart donut"{_id(chart_id)} '
           f'viewBox="0 0 42 42" width="{size}" height="{size}" role="img"{_aria(rows)}>',
           f'<circle cx="21" cy="21" r="{r}" fill="none" stroke="#e4e7eb" stroke-width="6"/>']
    offset = Decimal(25)
    for i, (label, value) in enumerate(rows):
        if not value:
            continue
        share = Decimal(100) * value / total
        out.append(f'<circle cx="21" cy="21" r="{r}" fill="none" stroke="{PALETTE[i % len(PALETTE)]}" '
                   f'stroke-width="6" stroke-dasharray="{_n(share)} {_n(100 - share)}" '
                   f'stroke-dashoffset="{_n(offset)}"><title>{escape(label)} {value}</title></circle>')
        offset -= share
    out.append(f'<text x="21" y="23" text-anchor="middle" font-size="6" fill="#323f4b">{total}</text></svg>')
    return mark_safe("".join(out))


def legend(rows: list[tuple[str, int]]) -> list[dict]:
    return [{"label": label, "value": value, "colour": PALETTE[i % len(PALETTE)]}
            for i, (label, value) in enumerate(rows)]
