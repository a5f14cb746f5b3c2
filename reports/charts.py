"""Charts as inline SVG for the print documents (no scripts, no outside assets).

Geometry is computed with Decimal as well, so that no amount ever passes through a float.
"""
from __future__ import annotations

from decimal import Decimal

from django.utils.html import escape

from core.money import ZERO

Q = Decimal("0.1")


def _n(value: Decimal) -> str:
    return str(Decimal(value).quantize(Q))


def _wan(value: Decimal) -> str:
    return f"{(Decimal(value) / 10000).quantize(Decimal('0.01')):,}万"


def _legend(items, *, x: Decimal, y: Decimal, size: int, font: int, gap: int, step: int) -> list[str]:
    """A coloured square and its words per (words, colour), left to right, closing the chart."""
    out = []
    for words, colour in items:
        out.append(f'<rect x="{_n(x)}" y="{y}" width="{size}" height="{size}" fill="{colour}"/>')
        out.append(f'<text x="{_n(x + size + gap)}" y="{y + size - 1}" font-size="{font}">{escape(words)}</text>')
        x += step
    return [*out, "</svg>"]


def pool_utilisation_svg(summary) -> str:
    """A stacked bar: available, advanced and lost shares of the pool's funding (I2)."""
    width, height, bar_h = Decimal(480), Decimal(110), Decimal(28)
    funding = summary.funding or ZERO
    parts = [("可用", summary.available, "#4c9a6a"), ("已垫付", summary.advanced, "#d9a441"),
             ("损失", summary.losses, "#c0504d")]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="风险池使用情况">']
    out.append(f'<rect x="0" y="20" width="{width}" height="{bar_h}" fill="#eeeeee"/>')
    x = ZERO
    for _label, value, colour in parts:
        if funding > 0 and value > 0:
            w = width * value / funding
            out.append(f'<rect x="{_n(x)}" y="20" width="{_n(w)}" height="{bar_h}" fill="{colour}"/>')
            x += w
    ratio = ((summary.advanced + summary.losses) / funding * 100).quantize(Decimal("0.1")) if funding else ZERO
    out.append(f'<text x="0" y="12" font-size="10">风险池资金 {_wan(funding)}元，使用率 {ratio}%</text>')
    legend = [(f"{label} {_wan(value)}元", colour) for label, value, colour in parts]
    return "".join(out + _legend(legend, x=ZERO, y=Decimal(64), size=10, font=9, gap=4, step=160))


def monthly_flows_svg(months: dict) -> str:
    """Grouped bars per month: inputs, releases, forfeitures, refunds through custody (in 万元)."""
    series = [("缴入", "inputs", "#4f81bd"), ("拨付", "releases", "#4c9a6a"),
              ("罚没", "forfeitures", "#c0504d"), ("退还", "refunds", "#8064a2")]
    width, height = Decimal(480), Decimal(200)
    left, bottom, top = Decimal(40), Decimal(170), Decimal(20)
    peak = max([getattr(f, key) for f in months.values() for _l, key, _c in series] + [ZERO])
    scale = (bottom - top) / peak if peak > 0 else ZERO
    slot = (width - left) / 12
    bar = (slot - 4) / 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="本年度资金流动">']
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{width}" y2="{bottom}" stroke="#333" stroke-width="0.5"/>')
    out.append(f'<text x="0" y="{top - 6}" font-size="9">峰值 {_wan(peak)}元</text>')
    for m in range(1, 13):
        x0 = left + slot * (m - 1) + 2
        flows = months.get(m)
        for i, (_label, key, colour) in enumerate(series):
            value = getattr(flows, key) if flows else ZERO
            h = value * scale
            if h > 0:
                out.append(f'<rect x="{_n(x0 + bar * i)}" y="{_n(bottom - h)}" width="{_n(bar)}" '
                           f'height="{_n(h)}" fill="{colour}"/>')
        out.append(f'<text x="{_n(x0 + slot / 2 - 6)}" y="{bottom + 12}" font-size="8">{m}月</text>')
    legend = [(label, colour) for label, _key, colour in series]
    return "".join(out + _legend(legend, x=left, y=height - 12, size=8, font=8, gap=3, step=60))
