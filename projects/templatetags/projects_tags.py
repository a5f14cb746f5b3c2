from django import template

from core.money import format_cny

register = template.Library()


@register.filter
def cny(value):
    """¥1,200,000.00"""
    return format_cny(value)


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
