"""A schedule's "Edit" (what it runs and when: input, version or alias, cron or interval, time
zone, overlap; pausing has its own button) and "Backfill" (the fires due in a past range, in
UTC, taken now), each a form on the schedule's page."""

from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx

from app import api
from app.pages.schedule.state import ScheduleState
from app.state import Failure
from app.view import (
    CRON,
    INTERVAL,
    INTERVAL_UNITS,
    OVERLAPS,
    backfill_done,
    backfill_fires,
    input_time,
    interval_parts,
    release_choice,
    release_choices,
    release_wanted,
    timing_body,
    utc_input,
)
from client import AgentRuntimeClient, ApiError

# The range a backfill form starts with: the last hours, to the minute.
BACKFILL_HOURS = 6


class ScheduleEditState(ScheduleState):
    """The edit and backfill forms of the schedule page (one open at a time)."""

    edit_version_choices: rx.Field[list[str]] = rx.field(default_factory=lambda: ["latest"])
    edit_version: rx.Field[str] = rx.field("latest")
    edit_input: rx.Field[str] = rx.field("")
    edit_mode: rx.Field[str] = rx.field(CRON)
    edit_cron: rx.Field[str] = rx.field("")
    edit_every: rx.Field[str] = rx.field("")
    edit_unit: rx.Field[str] = rx.field("minutes")
    edit_timezone: rx.Field[str] = rx.field("UTC")
    edit_overlap: rx.Field[str] = rx.field("skip")
    # Each field's error (the API's field names), and the API's message.
    edit_errors: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    edit_error: rx.Field[str] = rx.field("")
    saving: rx.Field[bool] = rx.field(False)
    backfill_start: rx.Field[str] = rx.field("")
    backfill_end: rx.Field[str] = rx.field("")
    backfill_errors: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    backfill_error: rx.Field[str] = rx.field("")
    backfilling: rx.Field[bool] = rx.field(False)

    @rx.var
    def overlap_labels(self) -> list[str]:
        return [label for _, label in OVERLAPS]

    @rx.var
    def edit_overlap_label(self) -> str:
        return next((label for value, label in OVERLAPS if value == self.edit_overlap), "")

    @rx.event
    def close_panel(self) -> None:
        self.panel = ""

    # Edit
    @rx.event
    async def open_edit(self) -> Any:
        schedule, agent_id = self._current, self.schedule.agent_id
        self.edit_input = str(schedule.get("input") or "")
        self.edit_version = release_choice(schedule.get("version"))
        self.edit_mode = CRON if schedule.get("cron") else INTERVAL
        self.edit_cron = str(schedule.get("cron") or "0 9 * * 1-5")
        self.edit_every, self.edit_unit = interval_parts(schedule.get("interval_seconds") or 900)
        self.edit_timezone = str(schedule.get("timezone") or "UTC")
        self.edit_overlap = str(schedule.get("overlap") or "skip")
        self.edit_errors, self.edit_error, self.panel = {}, "", "edit"
        yield

        async def read(client: AgentRuntimeClient) -> list[str]:
            aliases = await self._api(client.list_aliases, agent_id)
            versions = await self._api(client.list_versions, agent_id)
            return release_choices(
                [str(a["name"]) for a in aliases], [int(v["number"]) for v in versions]
            )

        choices = await self._attempt(read)
        if isinstance(choices, Failure):
            self.edit_error = choices.message
            yield choices.redirect
            return
        # A version or alias gone since stays offered: saving it again is the API's to refuse.
        self.edit_version_choices = (
            choices if self.edit_version in choices else [*choices, self.edit_version]
        )

    @rx.event
    def set_edit_version(self, value: str) -> None:
        self.edit_version = value

    @rx.event
    def set_edit_input(self, value: str) -> None:
        self.edit_input = value

    @rx.event
    def set_edit_mode(self, value: str | list[str]) -> None:
        self.edit_mode = INTERVAL if value == INTERVAL else CRON

    @rx.event
    def set_edit_cron(self, value: str) -> None:
        self.edit_cron = value

    @rx.event
    def set_edit_every(self, value: str) -> None:
        self.edit_every = value

    @rx.event
    def set_edit_unit(self, value: str) -> None:
        self.edit_unit = value if value in INTERVAL_UNITS else "minutes"

    @rx.event
    def set_edit_timezone(self, value: str) -> None:
        self.edit_timezone = value

    @rx.event
    def set_edit_overlap_label(self, label: str) -> None:
        self.edit_overlap = next((value for value, name in OVERLAPS if name == label), "skip")

    @rx.event
    async def save_edit(self) -> Any:
        timing, interval_error = timing_body(
            self.edit_mode, self.edit_cron, self.edit_every, self.edit_unit
        )
        self.edit_error = ""
        self.edit_errors = {"interval_seconds": interval_error} if interval_error else {}
        if interval_error:
            return
        changes = {
            "input": self.edit_input,
            "version": release_wanted(self.edit_version),
            "timezone": self.edit_timezone.strip() or "UTC",
            "overlap": self.edit_overlap,
            **timing,
        }
        self.saving = True
        yield
        schedule_id = self.schedule_id

        async def saved(client: AgentRuntimeClient) -> Any:
            await self._api(client.update_schedule, schedule_id, **changes)
            return await self._read(client, schedule_id)

        found = await self._attempt(saved)
        self.saving = False
        if isinstance(found, Failure):
            refused = found.cause
            if isinstance(refused, ApiError) and refused.status == 422:
                self.edit_errors = api.field_errors(refused)
            self.edit_error = found.message
            yield found.redirect
            return
        self._show_schedule(*found)
        self.panel = ""
        yield rx.toast.success("Schedule saved: its next fires follow the change.")

    # Backfill
    @rx.event
    def open_backfill(self) -> None:
        now = datetime.now(UTC)
        self.backfill_start = input_time(now - timedelta(hours=BACKFILL_HOURS))
        self.backfill_end = input_time(now)
        self.backfill_errors, self.backfill_error, self.panel = {}, "", "backfill"

    @rx.event
    def set_backfill_start(self, value: str) -> None:
        self.backfill_start = value

    @rx.event
    def set_backfill_end(self, value: str) -> None:
        self.backfill_end = value

    @rx.event
    async def backfill(self) -> Any:
        start, end = utc_input(self.backfill_start), utc_input(self.backfill_end)
        errors = {
            field: "A date and time (UTC)."
            for field, moment in (("start", start), ("end", end))
            if moment is None
        }
        self.backfill_errors, self.backfill_error = errors, ""
        if start is None or end is None:
            return
        self.backfilling = True
        yield
        schedule_id = self.schedule_id

        async def asked(client: AgentRuntimeClient) -> tuple[dict[str, Any], Any]:
            answer = await self._api(client.backfill_schedule, schedule_id, start, end)
            return answer, await self._read(client, schedule_id)

        found = await self._attempt(asked)
        self.backfilling = False
        if isinstance(found, Failure):
            refused = found.cause
            if isinstance(refused, ApiError) and refused.status == 422:
                self.backfill_errors = api.field_errors(refused)
            self.backfill_error = found.message
            yield found.redirect
            return
        answer, details = found
        self._show_schedule(*details)
        fires = backfill_fires(answer)
        # Unsaid, wait for one run; the page then follows until no new run shows up.
        self._await_runs(1 if fires is None else fires)
        self.panel, self.error = "", ""
        yield rx.toast.success(backfill_done(answer))
        yield ScheduleState.watch
