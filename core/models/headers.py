"""Header names and values a tool configuration sends, and secrets read at call time."""

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from core.models.model_spec import StrictModel as _Strict


class SecretRef(_Strict):
    """A header value read from the worker's environment at call time, never stored."""

    secret: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$", description="Worker env var to read.")


# RFC 9110 field names are tokens; values may not hold control characters (but tab), which
# would let a configuration inject headers or split the request.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _header_name(name: str) -> str:
    if not _HEADER_NAME.match(name):
        raise ValueError("a header name is letters, digits and !#$%&'*+.^_`|~- only")
    return name


def _header_value(value: "str | SecretRef") -> "str | SecretRef":
    if isinstance(value, str) and _HEADER_VALUE_FORBIDDEN.search(value):
        raise ValueError("a header value may not contain control characters (CR, LF, NUL...)")
    return value


HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[str | SecretRef, AfterValidator(_header_value)]
