"""Plain words for what the API returns: times, durations, money, statuses and people.

Every widget formats through these, so a time or a person reads the same everywhere.
"""

from collections.abc import Mapping
from datetime import UTC, datetime

NOTHING = "—"  # what a value the API did not give shows as
# Audit fields name their subject so: `key:<key name>`, `oidc:<token subject>`.
SUBJECT_PREFIXES = ("key:", "oidc:")
MINUTE, HOUR, DAY = 60, 3600, 86400


def parse_time(value: object) -> datetime | None:
    """An API time (ISO 8601; UTC when it names no zone), or None for none or a malformed one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(value: object, now: datetime | None = None, relative: bool = True) -> str:
    """How far from now, then the UTC clock time: `in 4 min (15:42 UTC)`, `2 h ago (09:05 UTC)`;
    without `relative`, the clock time alone (`15:42 UTC`).

    The date is added when it is not today's (UTC). A time the API did not give shows as `—`.
    """
    moment = parse_time(value)
    if moment is None:
        return NOTHING if value is None or value == "" else str(value)
    now = now or datetime.now(UTC)
    seconds = (moment - now).total_seconds()
    distance = _distance(abs(seconds))
    if distance is None:
        distance_words = "now" if seconds >= 0 else "just now"
    else:
        distance_words = f"in {distance}" if seconds > 0 else f"{distance} ago"
    utc = moment.astimezone(UTC)
    today = utc.date() == now.astimezone(UTC).date()
    clock = utc.strftime("%H:%M" if today else "%Y-%m-%d %H:%M")
    return f"{distance_words} ({clock} UTC)" if relative else f"{clock} UTC"


def _distance(seconds: float) -> str | None:
    # Rounded down: "expires in 4 min" must not promise a minute that is not there.
    whole = int(seconds)
    if whole < 1:
        return None
    if whole < MINUTE:
        return f"{whole} s"
    if whole < HOUR:
        return f"{whole // MINUTE} min"
    if whole < DAY:
        hours, minutes = divmod(whole // MINUTE, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days = whole // DAY
    return f"{days} day" if days == 1 else f"{days} days"


def duration(milliseconds: float | None) -> str:
    """A step's or a run's duration; `—` when it has no start and end to measure between."""
    if milliseconds is None:
        return NOTHING
    # A clock read on two machines can put the end a hair before the start: that is no time.
    milliseconds = max(float(milliseconds), 0.0)
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    seconds = milliseconds / 1000
    if seconds < MINUTE:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), MINUTE)
    return f"{minutes} min {rest} s"


def money(cost_usd: float) -> str:
    if cost_usd == 0:
        return "$0"
    if 0 < cost_usd < 0.00005:
        return "<$0.0001"
    return f"${cost_usd:.4f}"


def status_label(status: str) -> str:
    """A status as words (`awaiting_approval` -> `awaiting approval`): any status the API names."""
    return status.replace("_", " ")


def person(subject: str | None, name: str | None = None) -> str:
    """Who did something: the name the API gives, else its subject without `key:` or `oidc:`."""
    if name:
        return name
    if not subject:
        return NOTHING
    for prefix in SUBJECT_PREFIXES:
        if subject.startswith(prefix):
            return subject.removeprefix(prefix)
    return subject


def who(record: Mapping[str, object] | None, field: str) -> str:
    """The person in an audit field of a record (`created_by`, `decided_by`), by its
    `<field>_name` when the API returns one."""
    record = record or {}
    subject, name = record.get(field), record.get(f"{field}_name")
    return person(
        subject if isinstance(subject, str) else None, name if isinstance(name, str) else None
    )
