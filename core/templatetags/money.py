"""Money and scheme ratios in templates: ``{{ amount|cny }}`` → ¥1,200,000.00 (I4), ``{{ rate|pct }}`` → 30%.

A builtin: no {% load %} needed."""
from django import template

from core.money import format_cny, format_percent

register = template.Library()
register.filter("cny", format_cny)  # ¥1,200,000.00 (two decimals, half-up at the fen)
register.filter("pct", format_percent)  # a scheme ratio (Decimal, 0–1) as an exact percentage: 0.3000 → 30%
