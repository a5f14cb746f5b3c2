"""``{% may_manage_blacklist as shown %}``: the subsidies menu links the blacklist only for those who may manage it."""
from django import template

from subsidies import permissions as perms

register = template.Library()


@register.simple_tag(takes_context=True)
def may_manage_blacklist(context) -> bool:
    return bool(perms.can_manage_blacklist(context["request"].user))
