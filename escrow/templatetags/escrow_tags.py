from django import template

register = template.Library()


@register.filter
def percent(value):
    """A 0–1 ratio as a percentage with two decimals."""
    if value is None:
        return "—"
    return f"{value * 100:.2f}%"
