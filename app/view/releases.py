"""Releases as the pages show them: an agent's aliases and their moves, schedules and their
fire times, webhooks and their deliveries.

An alias names one version (`v3`) or splits between several (`v3 90% · v4 10%`); rolling it
back points it where its newest move took it from. A schedule's edit form reads its interval
back in the unit it was given in; a backfill's range is typed in UTC.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.view.format import NONE, parse_time, person, plural, short, short_id, when

# The contract's events, for an API that does not serve `webhook_events` in `/v1/meta`.
FALLBACK_WEBHOOK_EVENTS = (
    "run.started",
    "run.completed",
    "run.failed",
    "run.timed_out",
    "run.cancelled",
    "approval.requested",
    "approval.decided",
)
ALL_EVENTS = "*"
# What a schedule does when a fire comes while its previous run still goes on.
OVERLAPS = (
    ("skip", "Skip the fire"),
    ("buffer_one", "Run it after (one waits)"),
    ("allow_all", "Run at once, overlapping"),
)
DELIVERY_STATUSES = ("pending", "delivered", "failed")
PROMOTED = "prod"  # the alias a version's one-click "Promote" points
INTERVAL_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
# How a schedule's form says when it fires: by a cron expression, or every so often.
CRON, INTERVAL = "cron", "interval"


def targets_text(targets: Any) -> str:
    """`v3`, or a split: `v3 90% · v4 10%`; `—` for none (a deleted alias)."""
    items = [t for t in targets or [] if isinstance(t, dict)]
    if not items:
        return NONE
    if len(items) == 1:
        return f"v{items[0]['version']}"
    total = sum(int(t.get("weight") or 0) for t in items) or 1
    return " · ".join(f"v{t['version']} {round(100 * int(t['weight']) / total)}%" for t in items)


def same_targets(first: Any, second: Any) -> bool:
    def key(targets: Any) -> list[tuple[int, int]]:
        return sorted((int(t["version"]), int(t["weight"])) for t in targets or [])

    return key(first) == key(second)


@dataclass
class AliasRow:
    name: str = ""
    targets: str = ""
    versions: list[int] = field(default_factory=list)
    split: bool = False
    updated: str = ""
    updated_by: str = ""
    # Where "Roll back" points it (its newest move's origin); empty when it has none.
    previous: str = ""


@dataclass
class MoveRow:
    alias: str = ""
    before: str = ""
    after: str = ""
    moved_by: str = ""
    moved: str = ""
    kind: str = ""  # created, moved or deleted


def rollback_targets(alias: dict[str, Any], moves: list[dict[str, Any]]) -> list[dict[str, int]]:
    """What the alias named before its newest move, if that move brought it where it is now."""
    if not moves or not same_targets(moves[0].get("to_versions"), alias.get("versions")):
        return []
    return [
        {"version": int(t["version"]), "weight": int(t["weight"])}
        for t in moves[0].get("from_versions") or []
    ]


def alias_row(
    alias: dict[str, Any], moves: list[dict[str, Any]], me: tuple[str, str] | None = None
) -> AliasRow:
    versions = alias.get("versions") or []
    before = rollback_targets(alias, moves)
    return AliasRow(
        name=str(alias["name"]),
        targets=targets_text(versions),
        versions=[int(t["version"]) for t in versions],
        split=len(versions) > 1,
        updated=when(alias.get("updated_at")),
        updated_by=person(alias.get("updated_by"), me, alias.get("updated_by_name")),
        previous=targets_text(before) if before else "",
    )


def move_row(move: dict[str, Any], me: tuple[str, str] | None = None) -> MoveRow:
    before, after = move.get("from_versions") or [], move.get("to_versions") or []
    return MoveRow(
        alias=str(move.get("name") or ""),
        before=targets_text(before),
        after=targets_text(after),
        moved_by=person(move.get("moved_by"), me, move.get("moved_by_name")),
        moved=when(move.get("moved_at"), seconds=True),
        kind="created" if not before else "deleted" if not after else "moved",
    )


def aliases_by_version(aliases: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Each version's aliases (a split names each of its versions), by name."""
    found: dict[int, list[str]] = {}
    for alias in sorted(aliases, key=lambda a: str(a["name"])):
        for target in alias.get("versions") or []:
            found.setdefault(int(target["version"]), []).append(str(alias["name"]))
    return found


def set_alias_body(targets: list[dict[str, int]]) -> dict[str, Any]:
    """The client's `set_alias` arguments that point an alias at `targets`."""
    if len(targets) == 1:
        return {"version": targets[0]["version"]}
    return {"versions": targets}


def candidate_weight(text: str) -> int | None:
    """A split's share for its candidate, in percent: a whole number from 1 to 99 (the rest
    stays on the first version); None when it is not."""
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= 99:
        return None
    return int(value)


def split_targets(first: int, candidate: int, weight: int) -> list[dict[str, int]]:
    """`first` keeps what `candidate`'s `weight` (percent) leaves: the alias's `versions`."""
    return [{"version": first, "weight": 100 - weight}, {"version": candidate, "weight": weight}]


# What a run or schedule asks for: `latest`, an alias (`prod (alias)`), or a number (`v3`).
ALIAS_CHOICE = " (alias)"


def release_choices(aliases: list[str], numbers: list[int]) -> list[str]:
    """A version select's choices: `latest`, the aliases, then the numbers, newest first."""
    numbered = [f"v{n}" for n in sorted(set(numbers), reverse=True)]
    return ["latest", *[f"{name}{ALIAS_CHOICE}" for name in sorted(aliases)], *numbered]


def release_wanted(choice: str) -> int | str:
    """The `version` the API is sent, from a choice of `release_choices`."""
    if choice.endswith(ALIAS_CHOICE):
        return choice.removesuffix(ALIAS_CHOICE)
    if choice.startswith("v") and choice[1:].isdigit():
        return int(choice[1:])
    return "latest"


def release_choice(version: Any) -> str:
    """The choice that asks for `version` (a number, `latest` or an alias; as text too)."""
    text = str(version or "latest")
    if text.isdigit():
        return f"v{text}"
    return "latest" if text == "latest" else f"{text}{ALIAS_CHOICE}"


# Schedules
def interval_text(seconds: Any) -> str:
    """`every 30 s`, `every 5 min`, `every 2 h`, `every 1 d`."""
    value = int(seconds or 0)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if value and value % size == 0:
            return f"every {value // size} {unit}"
    return f"every {value} s"


def spec_text(schedule: dict[str, Any]) -> str:
    if schedule.get("cron"):
        return f"cron {schedule['cron']}"
    return interval_text(schedule.get("interval_seconds"))


def fire_time(value: Any, timezone: str, with_utc: bool = True) -> str:
    """A fire time in the schedule's time zone, and in UTC when that is another:
    `Mon 2026-12-07 09:00 Europe/Paris (08:00 UTC)`."""
    moment = parse_time(value)
    if moment is None:
        return NONE
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone, timezone = ZoneInfo("UTC"), "UTC"
    local = f"{moment.astimezone(zone).strftime('%a %Y-%m-%d %H:%M')} {timezone or 'UTC'}"
    if not with_utc or timezone in ("", "UTC"):
        return local
    return f"{local} ({moment.astimezone(UTC).strftime('%H:%M')} UTC)"


@dataclass
class ScheduleRow:
    id: str = ""
    short_id: str = ""
    agent_id: str = ""
    agent_name: str = ""
    version: str = ""
    spec: str = ""
    timezone: str = ""
    overlap: str = ""
    next_fire: str = ""
    paused: bool = False
    fires: int = 0
    input: str = ""
    note: str = ""
    created: str = ""
    created_by: str = ""


def version_text(version: Any) -> str:
    """How a schedule's `version` reads: `v3`, `latest`, or an alias as given."""
    text = str(version if version is not None else "latest")
    return f"v{text}" if text.isdigit() else text


def schedule_row(
    schedule: dict[str, Any],
    agent_names: dict[str, str] | None = None,
    me: tuple[str, str] | None = None,
) -> ScheduleRow:
    agent_id = str(schedule["agent_id"])
    timezone = str(schedule.get("timezone") or "UTC")
    upcoming = schedule.get("next_fire_times") or []
    return ScheduleRow(
        id=str(schedule["id"]),
        short_id=short_id(str(schedule["id"])),
        agent_id=agent_id,
        agent_name=(agent_names or {}).get(agent_id, short_id(agent_id)),
        version=version_text(schedule.get("version")),
        spec=spec_text(schedule),
        timezone=timezone,
        overlap=str(schedule.get("overlap") or ""),
        next_fire=NONE
        if schedule.get("paused")
        else fire_time(upcoming[0], timezone, with_utc=False)
        if upcoming
        else NONE,
        paused=bool(schedule.get("paused")),
        fires=int(schedule.get("fires") or 0),
        input=short(schedule.get("input"), 80),
        note=str(schedule.get("note") or ""),
        created=when(schedule.get("created_at")),
        created_by=person(schedule.get("created_by"), me, schedule.get("created_by_name")),
    )


def fire_times(schedule: dict[str, Any]) -> list[str]:
    timezone = str(schedule.get("timezone") or "UTC")
    return [fire_time(value, timezone) for value in schedule.get("next_fire_times") or []]


def interval_seconds(amount: str, unit: str) -> int | None:
    """The form's interval (`5`, `minutes`) in seconds; None when it is not a whole number."""
    text = amount.strip()
    if not text.isdigit():
        return None
    return int(text) * INTERVAL_UNITS.get(unit, 1)


def timing_body(mode: str, cron: str, every: str, unit: str) -> tuple[dict[str, Any], str]:
    """A schedule form's "When" as the API's fields (`cron` or `interval_seconds`), and the
    interval's error when it is not a whole number of 1 or more."""
    if mode == CRON:
        return {"cron": cron.strip()}, ""
    seconds = interval_seconds(every, unit)
    return {"interval_seconds": seconds}, "" if seconds else "A whole number, 1 or more."


def interval_parts(seconds: Any) -> tuple[str, str]:
    """An interval as the form shows it, in the largest whole unit: 1800 -> (`30`, `minutes`)."""
    value = int(seconds or 0)
    for unit in ("days", "hours", "minutes"):
        if value and value % INTERVAL_UNITS[unit] == 0:
            return str(value // INTERVAL_UNITS[unit]), unit
    return str(value), "seconds"


def utc_input(text: str) -> datetime | None:
    """A date-and-time input's value (`2026-12-04T09:30`) as a time in UTC; None when empty or
    not a time. A value with an offset is converted."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def input_time(moment: datetime) -> str:
    """What a date-and-time input shows for `moment`, in UTC, to the minute."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def backfill_fires(answer: dict[str, Any]) -> int | None:
    """How many fires an accepted backfill asked for, where the API's answer says."""
    fires = answer.get("fires")
    return fires if isinstance(fires, int) and not isinstance(fires, bool) else None


def backfill_done(answer: dict[str, Any]) -> str:
    """The toast once a backfill is accepted: how many fires it asked for, where the API says."""
    fires = backfill_fires(answer)
    return (
        "Backfill requested." if fires is None else f"Backfill requested: {plural(fires, 'fire')}."
    )


# Webhooks
def events_text(events: Any) -> str:
    names = [str(event) for event in events or []]
    return "every event" if ALL_EVENTS in names else ", ".join(names) or NONE


@dataclass
class WebhookRow:
    id: str = ""
    short_id: str = ""
    url: str = ""
    events: str = ""
    agent_id: str = ""
    agent_name: str = ""
    description: str = ""
    enabled: bool = True
    created: str = ""
    created_by: str = ""


def webhook_row(
    webhook: dict[str, Any],
    agent_names: dict[str, str] | None = None,
    me: tuple[str, str] | None = None,
) -> WebhookRow:
    agent_id = str(webhook.get("agent_id") or "")
    return WebhookRow(
        id=str(webhook["id"]),
        short_id=short_id(str(webhook["id"])),
        url=str(webhook["url"]),
        events=events_text(webhook.get("events")),
        agent_id=agent_id,
        agent_name=(agent_names or {}).get(agent_id, short_id(agent_id)) if agent_id else "",
        description=str(webhook.get("description") or ""),
        enabled=bool(webhook.get("enabled", True)),
        created=when(webhook.get("created_at")),
        created_by=person(webhook.get("created_by"), me, webhook.get("created_by_name")),
    )


@dataclass
class DeliveryRow:
    id: str = ""
    event: str = ""
    status: str = ""
    attempts: int = 0
    status_code: str = ""
    error: str = ""
    next_retry: str = ""
    created: str = ""
    delivered: str = ""
    run_id: str = ""


def delivery_row(delivery: dict[str, Any]) -> DeliveryRow:
    code = delivery.get("last_status_code")
    pending = delivery.get("status") == "pending"
    return DeliveryRow(
        id=str(delivery["id"]),
        event=str(delivery.get("event_type") or ""),
        status=str(delivery.get("status") or ""),
        attempts=int(delivery.get("attempts") or 0),
        status_code=str(code) if code is not None else NONE,
        error=short(delivery.get("last_error") or "", 160),
        next_retry=when(delivery.get("next_attempt_at"), seconds=True) if pending else NONE,
        created=when(delivery.get("created_at"), seconds=True),
        delivered=when(delivery.get("delivered_at"), seconds=True),
        run_id=str(delivery.get("run_id") or ""),
    )


def webhook_events(meta: dict[str, Any]) -> list[str]:
    """The events a webhook may subscribe to, as the API names them (`/v1/meta`)."""
    served = meta.get("webhook_events")
    names = served if isinstance(served, list) and served else FALLBACK_WEBHOOK_EVENTS
    # Each a name, or an object that has one (and may describe it).
    named = [str(n.get("name") if isinstance(n, dict) else n) for n in names]
    return [name for name in named if name != ALL_EVENTS]
