"""Money and scheme ratios in templates: ``{{ amount|cny }}`` → ¥1,200,000.00 (I4), ``{{ rate|pct }}`` → 30%.

A builtin: no {% load %} needed."""
from django import template

from core.money import format_cny, format_percent

register = template.Library()
register.filter("cny", format_cny)  # ¥1,200,000.00 (two decimals, half-up at the fen)
register.filter("pct", format_percent)  # a scheme ratio (Decimal, 0–1) as an exact percentage: 0.3000 → 30%


@register.simple_tag
def money_help():
    """What an amount field accepts, for a field a template writes by hand (forms say it as help text)."""
    from core.forms import MONEY_HELP

    return MONEY_HELP
