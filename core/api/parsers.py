"""The API's JSON parser: a body nested deeper than MAX_DEPTH is a 400 before any view (or login) reads it."""
from __future__ import annotations

import io
import re

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32
# A JSON string (skipped whole, so brackets inside it do not count) or one bracket.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    depth = 0
    for match in _TOKEN.finditer(body):
        char = match.group()
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        if json_depth_exceeds(body):
            raise ParseError(_("JSON 嵌套超过 %(n)s 层") % {"n": MAX_DEPTH})
        return super().parse(io.BytesIO(body), media_type, parser_context)
