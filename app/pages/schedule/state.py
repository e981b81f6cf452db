"""The schedule page's state: the schedule, its next fires (in its time zone), pause, unpause,
trigger now, delete, and the runs its fires started, followed while some are due or going on."""

import asyncio
import time
from typing import Any

import reflex as rx

from app import api
from app.state import Failure, PageState, SessionState, path_part
from app.view import (
    ACTIVE,
    OVERLAPS,
    WRITER,
    RunRow,
    ScheduleRow,
    fire_times,
    may,
    pretty,
    run_row,
    schedule_row,
    when,
)
from client import AgentRuntimeClient

# How often a schedule's page reads its runs again while one goes on, and for how long at most.
WATCH_SECONDS, WATCH_LIMIT_SECONDS = 1.0, 300.0
# Reads in a row that found nothing new before the page stops following (the fires of a
# backfill are recorded one by one).
QUIET_READS = 3
# The runs the page lists (the newest).
RUNS_SHOWN = 20
Details = tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]


class ScheduleState(PageState, SessionState):
    schedule_id: rx.Field[str] = rx.field("")
    schedule: rx.Field[ScheduleRow] = rx.field(default_factory=ScheduleRow)
    input_text: rx.Field[str] = rx.field("")
    context_text: rx.Field[str] = rx.field("")
    overlap_label: rx.Field[str] = rx.field("")
    window: rx.Field[str] = rx.field("")
    catchup: rx.Field[str] = rx.field("")
    upcoming: rx.Field[list[str]] = rx.field(default_factory=list)
    runs: rx.Field[list[RunRow]] = rx.field(default_factory=list)
    busy: rx.Field[str] = rx.field("")
    # The form open under the header: "", "edit" or "backfill".
    panel: rx.Field[str] = rx.field("")
    # Fires asked for (trigger now, a backfill) whose runs have not all shown up yet: how many
    # runs the page waits to list.
    awaiting_fire: rx.Field[bool] = rx.field(False)
    watching: rx.Field[bool] = rx.field(False)
    _runs_awaited: rx.Field[int] = rx.field(0)
    # The schedule as the API gave it (the edit form starts from it).
    _current: rx.Field[dict[str, Any]] = rx.field(default_factory=dict)
    _generation: rx.Field[int] = rx.field(0)

    @rx.var
    def may_write(self) -> bool:
        return may(self.role, WRITER, self.platform_admin)

    @rx.event
    async def load(self) -> Any:
        self.schedule_id = path_part(self.router.url.path, 1)
        self._generation += 1
        self.awaiting_fire, self.busy, self.panel = False, "", ""
        self._start_loading()
        yield
        schedule_id = self.schedule_id

        async def read(client: AgentRuntimeClient) -> Details:
            details = await self._read(client, schedule_id)
            await self._refresh_pending(client)
            return details

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        self._show_schedule(*found)
        self.loaded = True
        if any(run.status in ACTIVE for run in self.runs):
            yield ScheduleState.watch

    async def _read(self, client: AgentRuntimeClient, schedule_id: str) -> Details:
        schedule = await api.call(client.get_schedule, schedule_id)
        agent = await api.call(client.get_agent, schedule["agent_id"])
        page = await api.call(client.schedule_runs_page, schedule_id, limit=RUNS_SHOWN)
        return schedule, agent, list(page["items"])

    def _show_schedule(
        self, schedule: dict[str, Any], agent: dict[str, Any], runs: list[dict[str, Any]]
    ) -> None:
        names = {agent["id"]: agent["name"]}
        self._current = schedule
        self.schedule = schedule_row(schedule, names, self._me())
        self.input_text = str(schedule.get("input") or "")
        self.context_text = pretty(schedule.get("context") or {})
        overlap = str(schedule.get("overlap") or "")
        self.overlap_label = next((label for value, label in OVERLAPS if value == overlap), overlap)
        start, end = schedule.get("start_at"), schedule.get("end_at")
        self.window = (
            f"from {when(start)} to {when(end)} UTC" if start or end else "no start or end"
        )
        self.catchup = f"{int(schedule.get('catchup_window_seconds') or 0)} s"
        self.upcoming = [] if schedule.get("paused") else fire_times(schedule)
        self.runs = [run_row(run, names) for run in runs]
        if self.awaiting_fire and len(runs) >= self._runs_awaited:
            self.awaiting_fire = False

    def _await_runs(self, fires: int) -> None:
        """Follow the runs list until `fires` more runs are listed (as many as it shows)."""
        self._runs_awaited = min(len(self.runs) + fires, RUNS_SHOWN)
        self.awaiting_fire = fires > 0

    async def _act(self, action: str, call: Any, done: str) -> Any:
        self.busy = action
        yield
        schedule_id = self.schedule_id

        async def acted(client: AgentRuntimeClient) -> Details:
            await self._api(call, client, schedule_id)
            return await self._read(client, schedule_id)

        found = await self._attempt(acted)
        self.busy = ""
        yield self._outcome(found, done, lambda details: self._show_schedule(*details))

    @rx.event
    async def pause(self) -> Any:
        call = AgentRuntimeClient.pause_schedule
        async for update in self._act("pause", call, "Paused: it fires no more."):
            yield update

    @rx.event
    async def unpause(self) -> Any:
        call = AgentRuntimeClient.unpause_schedule
        async for update in self._act("unpause", call, "It fires again."):
            yield update

    @rx.event
    async def trigger(self) -> Any:
        self._await_runs(1)
        call = AgentRuntimeClient.trigger_schedule
        async for update in self._act("trigger", call, "Fired: its run starts now."):
            yield update
        if self.error:
            self.awaiting_fire = False
            return
        yield ScheduleState.watch

    @rx.event
    async def delete(self) -> Any:
        schedule_id = self.schedule_id
        deleted = await self._attempt(lambda client: self._api(client.delete_schedule, schedule_id))
        return self._outcome(deleted, "Schedule deleted.", None, rx.redirect("/schedules"))

    @rx.event(background=True)
    async def watch(self) -> None:
        """Read the schedule's runs again until the fires' runs show up, none goes on and a
        few reads in a row found no new one."""
        async with self:
            if self.watching:
                return
            schedule_id, generation = self.schedule_id, self._generation
            session = api.SESSIONS.get(self.session_cookie)
            if session is None:
                return
            self.watching = True
        client, deadline = session.client(), time.monotonic() + WATCH_LIMIT_SECONDS
        listed, quiet = -1, 0
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(WATCH_SECONDS)
                try:
                    found = await self._read(client, schedule_id)
                except Exception as exc:
                    async with self:
                        self.error = api.describe(exc)
                    return
                async with self:
                    if self._generation != generation:
                        return
                    self._show_schedule(*found)
                    settled = not any(r.status in ACTIVE for r in self.runs)
                    quiet = quiet + 1 if settled and len(self.runs) == listed else 0
                    listed = len(self.runs)
                    if not self.awaiting_fire and quiet >= QUIET_READS:
                        return
        finally:
            async with self:
                self.watching = False
                if self._generation == generation:
                    self.awaiting_fire = False
