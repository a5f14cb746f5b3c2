"""Messages where the eye is (``core.feedback``).

``{% feedback "m12" %}`` renders the messages placed at ``m12`` (a section of the page shows its own);
``{% page_messages as ms %}`` the messages without a place (base.html's top); ``{% rest_messages as ms %}``
those not shown yet in this response (base.html's end) and, at the end of a page, drops the typed values
kept for it (``end=True``).
"""
from django import template

from core import feedback as fb

register = template.Library()


@register.inclusion_tag("core/_feedback.html", takes_context=True)
def feedback(context, place):
    return {"place": place, "items": fb.take(context.get("request"), lambda m: fb.place_of(m) == place)}


@register.simple_tag(takes_context=True)
def page_messages(context):
    return fb.take(context.get("request"), lambda m: fb.place_of(m) is None)


@register.simple_tag(takes_context=True)
def rest_messages(context, end=False):
    request = context.get("request")
    items = fb.take(request, lambda m: True)
    if end and request is not None:
        fb.forget_typed(request)
    return items


@register.simple_tag(takes_context=True)
def typed(context, place):
    """``{form: {field: value}}`` typed into a refused form at ``place``."""
    request = context.get("request")
    return fb.typed(request, place) if request is not None else {}
