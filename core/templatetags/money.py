"""Money in templates: ``{{ amount|cny }}`` → ¥1,200,000.00 (I4). A builtin: no {% load %} needed."""
from django import template

from core.money import format_cny

register = template.Library()


@register.filter
def cny(value):
    """¥1,200,000.00 (two decimals, half-up at the fen)."""
    return format_cny(value)
