from django import template

from core.money import format_cny

register = template.Library()


@register.filter
def cny(value):
    """¥1,200,000.00 (I4: two decimals, half-up)."""
    return format_cny(value)
