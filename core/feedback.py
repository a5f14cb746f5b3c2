"""Feedback next to the thing acted on, with what the person typed kept when it is refused.

A view that answers a form says what happened with ``say(request, level, text, place=…)``: a Django
message that carries its place (``extra_tags`` "at-<place>"). The section of the page that holds the
place renders it (``{% feedback "<place>" %}``, core/templatetags/feedback.py); base.html prints at the
top only messages without a place, and at the end any whose place the page did not show.

When a form is refused, ``keep_typed`` keeps its text fields for the form shown again: an htmx answer
renders them from this request's POST; a redirect (no JavaScript) keeps them in the session for the
next page, which drops them once rendered. ``typed(request, place)`` reads them back.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.messages import get_messages

PREFIX = "at-"
SESSION_KEY = "feedback_typed"
_ATTR = "_feedback_typed"
_SHOWN = "_feedback_shown"
SKIP = {"csrfmiddlewaretoken", "_once", "next"}
MAX_FIELDS = 30
MAX_CHARS = 4000


def say(request, level: int, text: str, *, place: str) -> None:
    messages.add_message(request, level, text, extra_tags=PREFIX + place)


def place_of(message) -> str | None:
    for tag in (message.extra_tags or "").split():
        if tag.startswith(PREFIX):
            return tag[len(PREFIX):]
    return None


def keep_typed(request, *, place: str, form: str, data) -> None:
    """Keep the text fields of a refused form (``data``: the POST) for the form shown again at ``place``."""
    values = {}
    for key, value in data.items():
        if key in SKIP or not isinstance(value, str) or len(values) >= MAX_FIELDS:
            continue
        values[key] = value[:MAX_CHARS]
    record = {"place": place, "form": form, "values": values}
    if getattr(request, "htmx", False):
        setattr(request, _ATTR, record)
    else:
        request.session[SESSION_KEY] = record


def typed(request, place: str) -> dict[str, dict[str, str]]:
    """``{form: {field: value}}`` typed into a refused form at ``place`` (empty when there is none)."""
    record = getattr(request, _ATTR, None)
    if record is None and hasattr(request, "session"):
        record = request.session.get(SESSION_KEY)
    if record and record.get("place") == place:
        return {record["form"]: record["values"]}
    return {}


def forget_typed(request) -> None:
    """The page that showed the kept values is rendered: they are not shown again."""
    if hasattr(request, "session") and SESSION_KEY in request.session:
        del request.session[SESSION_KEY]


def take(request, keep) -> list:
    """The messages not shown yet in this response for which ``keep(message)`` holds; they count as shown."""
    if request is None:
        return []
    shown = getattr(request, _SHOWN, None)
    if shown is None:
        shown = set()
        setattr(request, _SHOWN, shown)
    items = [m for m in get_messages(request) if id(m) not in shown and keep(m)]
    shown.update(id(m) for m in items)
    return items


def keep_unshown(request) -> None:
    """After an answer that showed only a section: the messages it did not show wait for the next page (reading
    some marks them all as read)."""
    shown = getattr(request, _SHOWN, set())
    storage = get_messages(request)
    for m in [m for m in storage if id(m) not in shown]:
        storage.add(m.level, m.message, extra_tags=m.extra_tags)
