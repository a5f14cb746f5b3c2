from django import template

from core.money import format_cny

register = template.Library()


@register.filter
def cny(value):
    """¥1,200,000.00"""
    return format_cny(value)


@register.filter
def percent(value):
    """A 0–1 ratio as a percentage with two decimals."""
    if value is None:
        return "—"
    return f"{value * 100:.2f}%"
