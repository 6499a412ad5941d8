"""Request input read strictly: ids and numbers in ASCII digits, control characters
refused, JSON nesting bounded before it is parsed.

Python's ``str.isdigit()``, ``int()`` and regular expressions' ``\\d`` all accept digits of
other scripts ("٣", and for ``isdigit`` even "²", which ``int()`` then refuses): an id in a
URL or query string is ASCII digits or it is not an id.
"""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

MAX_JSON_DEPTH = 64  # arrays and objects nested in a request body
MAX_ID_DIGITS = 18  # every id fits a signed 64-bit integer
# C0 controls but tab, LF and CR, and DEL: never part of text (and PostgreSQL refuses NUL).
CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# In a URL path not even tab, LF or CR.
CONTROL_IN_PATH = re.compile("[\x00-\x1f\x7f]")
_JSON_STRUCTURE = re.compile(rb'["\\\[\]{}]')


def ascii_int(text: str | None, max_digits: int = MAX_ID_DIGITS) -> int | None:
    """The number ``text`` spells in ASCII digits (no sign, no spaces), else None."""
    if not text or len(text) > max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


class AsciiIntConverter(IntegerConverter):
    """Werkzeug's ``int`` converter, but only ASCII digits (its ``\\d+`` matches "٣") and only
    values a 64-bit database integer holds; anything else does not match the route (404)."""

    # At most 18 digits: every such value fits, so a match never fails in to_python (a
    # failed conversion lets Werkzeug answer 405 from another method's rule, not 404).
    regex = rf"[0-9]{{1,{MAX_ID_DIGITS}}}"


def json_depth_exceeds(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays/objects in ``data`` (JSON text, valid or not) nest deeper than
    ``limit``; brackets inside strings do not count. A scan, not a parse: no recursion."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    in_string = False
    skip_to = 0  # the character after a backslash inside a string is not looked at
    for match in _JSON_STRUCTURE.finditer(data):
        position = match.start()
        if position < skip_to:
            continue
        char = match.group()
        if in_string:
            if char == b"\\":
                skip_to = position + 2
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False
