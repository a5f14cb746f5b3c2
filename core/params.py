"""Query parameters of pages and the API: ids are ASCII digits, years lie in the scheme's range."""
from __future__ import annotations

from django.core.exceptions import BadRequest
from django.utils.translation import gettext as _

# Years a page or list may ask for (the forms and the API's year fields use the same range).
YEAR_MIN, YEAR_MAX = 2000, 2100


def is_id(text: str | None) -> bool:
    """ASCII digits that fit a database id: "²", "١" and "٣" pass str.isdigit but are no id."""
    return bool(text) and text.isascii() and text.isdigit() and len(text) <= 18


def page_year(text: str | None, default: int) -> int:
    """The ``year`` of a page's query string; anything but a year in range is a 400 page saying so."""
    if text in (None, ""):
        return default
    # four digits at most before int(): a string of thousands of digits is refused, not converted
    if not (text.isascii() and text.isdigit() and len(text) <= 4 and YEAR_MIN <= int(text) <= YEAR_MAX):
        raise BadRequest(_("年度须为 %(low)s 至 %(high)s 之间的整数") % {"low": YEAR_MIN, "high": YEAR_MAX})
    return int(text)
