"""Words for what the API records: who did something, how long, how long ago, how many."""

from datetime import UTC, datetime
from typing import Any

MINUTE, HOUR, DAY = 60, 3600, 86400
# Past this, "how long ago" is a date: "41 d ago" says less than the day itself.
AGO_AS_DATE_AFTER_DAYS = 30


def actor(name: Any, subject: Any) -> str:
    """Who did it, for people: the API's display name, else the audit subject without its
    `key:` / `oidc:` prefix."""
    if isinstance(name, str) and name:
        return name
    if not isinstance(subject, str) or not subject:
        return "?"
    prefix, colon, rest = subject.partition(":")
    return rest if colon and prefix in {"key", "oidc"} and rest else subject


def plural(count: int, singular: str, several: str | None = None) -> str:
    """`1 step`, `3 steps`, `0 steps`."""
    return f"{count} {singular if count == 1 else several or singular + 's'}"


def span(seconds: float) -> str:
    """A length of time as people say it: `45 s`, `3 min 12 s`, `23 h 59 min`, `2 d 4 h`."""
    whole = int(seconds)
    if whole < MINUTE:
        return f"{whole} s"
    if whole < HOUR:
        minutes, rest = divmod(whole, MINUTE)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    if whole < DAY:
        hours, rest = divmod(whole, HOUR)
        minutes = rest // MINUTE
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, rest = divmod(whole, DAY)
    hours = rest // HOUR
    return f"{days} d {hours} h" if hours else f"{days} d"


def parse_time(value: Any) -> datetime | None:
    """An API timestamp (ISO 8601; UTC when it names no zone)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def seconds_between(start: Any, end: Any) -> float | None:
    started, ended = parse_time(start), parse_time(end)
    if started is None or ended is None:
        return None
    return max((ended - started).total_seconds(), 0.0)


def seconds_since(start: Any) -> float | None:
    started = parse_time(start)
    return None if started is None else max((datetime.now(UTC) - started).total_seconds(), 0.0)


def ago(value: Any, now: datetime | None = None) -> str:
    """`just now`, `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`; a date past a month."""
    moment = parse_time(value)
    if moment is None:
        return "—"
    now = now or datetime.now(UTC)
    seconds = (now - moment).total_seconds()
    if seconds < 1:
        return "just now"
    if seconds >= AGO_AS_DATE_AFTER_DAYS * DAY:
        return moment.astimezone().strftime("%Y-%m-%d")
    whole = int(seconds)
    for unit, name in ((DAY, "d"), (HOUR, "h"), (MINUTE, "min")):
        if whole >= unit:
            return f"{whole // unit} {name} ago"
    return f"{whole} s ago"


def expires_in(value: Any, now: datetime | None = None) -> str:
    """`in 23 h 59 min`, `in 40 s`, `expired 3 min ago`; `never` without an expiry."""
    moment = parse_time(value)
    if moment is None:
        return "never"
    now = now or datetime.now(UTC)
    seconds = (moment - now).total_seconds()
    if seconds <= 0:
        return f"expired {span(-seconds)} ago"
    return f"in {span(seconds)}"
