"""Notices that render when read, in the reader's language.

A notice is stored as a message id (the Chinese source text, marked with ``gettext_noop`` so the catalogue
holds it) and its parameters as JSON. A parameter that is itself translatable — a state or action label, a
milestone's "第1个里程碑" — is stored as a nested message ``{"_msg": msgid, "_ctx": context, "params": {...}}``
(``message()`` builds one; lazy labels such as a choice's ``label`` are turned into one by ``encode``), so the
whole sentence follows the language of whoever reads it: the page's request language, or the recipient's
``User.language`` for e-mail.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext

MSG = "_msg"


def message(msgid: str, context: str = "", **params) -> dict:
    """A translatable parameter (or a whole notice body): rendered in the reader's language when read."""
    out = {MSG: msgid, "params": encode(params)}
    if context:
        out["_ctx"] = context
    return out


def _lazy_message(value: Promise) -> dict:
    """A lazy ``gettext_lazy``/``pgettext_lazy`` string as a message: its source id (and context)."""
    args = getattr(value, "_args", ())
    if len(args) == 2 and all(isinstance(a, str) for a in args):  # pgettext_lazy(context, msgid)
        return {MSG: args[1], "_ctx": args[0], "params": {}}
    with translation.override(None):  # no catalogue: gettext answers the source id
        return {MSG: str(value), "params": {}}


def encode(value):
    """``value`` in JSON, keeping translatable labels translatable."""
    if isinstance(value, Promise):
        return _lazy_message(value)
    if isinstance(value, dict):
        if MSG in value:
            return {**value, "params": encode(value.get("params") or {})}
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _render_value(value):
    if isinstance(value, dict) and MSG in value:
        return render(value[MSG], value.get("params") or {}, context=value.get("_ctx", ""))
    return value


def render(msgid: str, params: dict | None = None, *, context: str = "") -> str:
    """``msgid`` translated into the active language, its parameters filled in (nested messages too)."""
    text = pgettext(context, msgid) if context else gettext(msgid)
    if not params:
        return text
    values = {k: _render_value(v) for k, v in params.items()}
    try:
        return text % values
    except (KeyError, ValueError, TypeError):  # a catalogue entry that lost a placeholder: the source still fits
        return msgid % values


def render_in(language: str | None, msgid: str, params: dict | None = None) -> str:
    with translation.override(language or None):
        return render(msgid, params)


@dataclass
class Notice:
    """One in-app notice (and e-mail) to ``users``: ``msg`` is a ``gettext_noop`` msgid, ``params`` its values."""

    users: Iterable
    verb: str
    msg: str
    params: dict = field(default_factory=dict)
    url: str = ""
