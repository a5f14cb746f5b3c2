from django import template

from core.money import format_cny
from reports.capitals import amount_in_capitals

register = template.Library()


@register.filter
def cny(value):
    """¥1,200,000.00"""
    return format_cny(value)


@register.filter
def capitals(value):
    """人民币壹佰贰拾万元整"""
    return amount_in_capitals(value)


@register.filter
def plain(value):
    """1,200,000.00 (wide tables state the unit in their heading)."""
    from core.money import money

    return "—" if value is None else f"{money(value):,.2f}"
