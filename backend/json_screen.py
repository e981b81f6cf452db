"""Screening of JSON request bodies for what no field may hold.

NUL characters and lone surrogates (no database stores them), NaN and Infinity (Python's json
reads them; JSON has no such numbers), integers past 64 bits, and nesting deeper than
MAX_JSON_DEPTH. A violation names the JSON path of the offending value, e.g. `context.a.0`.

The common case costs a few scans of the raw bytes at C speed: only a body in which one of these
could be present is parsed here, and walked once.
"""

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from core.models.limits import JSON_INT_MAX, JSON_INT_MIN, MAX_JSON_DEPTH

# In JSON text a NUL or a surrogate can only be an escape; NaN/Infinity are bare words; a number
# past 64 bits has 19+ digits; a float overflowing to infinity has a 3-digit exponent.
_SUSPECT = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]|NaN|Infinity|\d{19}|[eE][+-]?\d{3}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# A path is built only when reported: each value links to its parent's path.
_Path = tuple["_Path", str | int] | None


@dataclass(frozen=True)
class Violation:
    field: str
    message: str
    kind: str


def screen_json(body: bytes) -> Violation | None:
    """The first value no field may hold, or None (also for a body that is not JSON at all)."""
    containers = body.count(b"{") + body.count(b"[")
    if containers <= MAX_JSON_DEPTH and not _SUSPECT.search(body):
        return None
    try:
        document = json.loads(body)
    except RecursionError:
        return Violation("body", f"nested deeper than {MAX_JSON_DEPTH} levels", "json_too_deep")
    except ValueError:
        return None  # request validation reports what is not JSON
    return _walk(document)


def _walk(document: Any) -> Violation | None:
    pending: list[tuple[Any, int, _Path]] = [(document, 0, None)]
    while pending:
        value, depth, path = pending.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                return _unstorable(path)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not JSON_INT_MIN <= value <= JSON_INT_MAX:
                return Violation(
                    _dotted(path), "integers must fit in 64 bits", "integer_out_of_range"
                )
        elif isinstance(value, float):
            if not math.isfinite(value):
                return Violation(
                    _dotted(path), "numbers must be finite (no NaN or Infinity)", "number_finite"
                )
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return Violation(
                    _dotted(path), f"nested deeper than {MAX_JSON_DEPTH} levels", "json_too_deep"
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                child: _Path = (path, key)
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    return _unstorable(child)
                pending.append((item, depth + 1, child))
    return None


def _unstorable(path: _Path) -> Violation:
    return Violation(
        _dotted(path),
        "text may not contain NUL characters or unpaired surrogates",
        "string_unstorable",
    )


def _dotted(path: _Path) -> str:
    parts: list[str] = []
    while path is not None:
        path, key = path
        parts.append(str(key))
    return ".".join(reversed(parts)) or "body"
