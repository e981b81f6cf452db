"""How the pages write what the API answers: times, durations, money, tokens, ids, people.

Pure functions over plain values, so they are easy to test and pages stay declarative.
"""

import json
from datetime import UTC, datetime
from typing import Any

# How each status looks; the statuses themselves are the API's (`GET /v1/meta`). A status
# missing here shows gray.
STATUS_COLORS = {
    "queued": "gray",
    "running": "blue",
    "awaiting_approval": "amber",
    "cancelling": "orange",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "bronze",
    "timed_out": "red",
    "pending": "amber",
    "approved": "green",
    "rejected": "red",
    "expired": "gray",
    # A thread's (from its runs).
    "idle": "gray",
    "busy": "blue",
    "interrupted": "amber",
    "error": "red",
    # A webhook delivery's (pending and failed as above).
    "delivered": "green",
}
NONE = "—"
SUBJECT_PREFIXES = ("key:", "oidc:")  # how audit fields name an API key or a token's subject


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when(value: Any, seconds: bool = False) -> str:
    moment = parse_time(value)
    if moment is None:
        return NONE
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def seconds_between(start: Any, end: Any) -> float | None:
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None:
        return None
    return max((last - first).total_seconds(), 0.0)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    seconds = max(seconds, 0.0)  # clocks of two machines may disagree by a little: never "-3 ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def cost(value: Any) -> str:
    amount = float(value or 0)
    if amount == 0:
        return "$0"
    if amount < 0.01:
        return f"${amount:.5f}"
    return f"${amount:.4f}" if amount < 1 else f"${amount:,.2f}"


def tokens(usage: Any) -> str:
    if not isinstance(usage, dict):
        return NONE
    given, taken = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return f"{given + taken:,} ({given:,} in / {taken:,} out)"


def pretty(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def short(text: Any, limit: int = 120) -> str:
    flat = " ".join(str(text if text is not None else "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def short_id(identifier: str) -> str:
    prefix, _, rest = identifier.partition("_")
    return f"{prefix}_…{rest[-6:]}" if rest else identifier


def size(count: Any) -> str:
    value = float(count or 0)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 step`, `2 steps`, `0 steps` (`many` for words not made plural by an `s`)."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def person(subject: Any, me: tuple[str, str] | None = None, name: Any = None) -> str:
    """Who did something: `you` for the signed-in caller, else the display name the API
    recorded (`*_by_name`), else the subject without its `key:` / `oidc:` prefix."""
    text = str(subject or "")
    if me is not None and me[0] and text == me[0]:
        return "you"
    if name:
        return str(name)
    if text.startswith(SUBJECT_PREFIXES):
        return text.partition(":")[2] or text
    return text


def error_text(error: Any) -> str:
    if not error:
        return ""
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        return f"{code}: {message}" if code and message else str(message or code or error)
    return str(error)


def file_link(api_path: str | None) -> str:
    """The workbench's own link for an API download (it adds the credentials server-side)."""
    return f"/files{api_path}" if api_path else ""
