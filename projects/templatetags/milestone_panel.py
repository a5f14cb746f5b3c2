"""``{% milestone_panel project as panel %}``: everything _milestones_panel.html shows, in a fixed number of queries."""
from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def milestone_panel(context, project):
    from core import feedback
    from projects.milestones.views import panel_context

    request = context["request"]
    return panel_context(project, request.user, typed=lambda place: feedback.typed(request, place))


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)
