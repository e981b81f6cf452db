"""A schedule: what it runs, when it fires next (in its time zone), pause, unpause, trigger now,
delete, and the runs its fires started, followed while one goes on."""

import asyncio
import time
from typing import Any

import reflex as rx

from app import api
from app.components import (
    busy_note,
    by_width,
    card,
    code_text,
    confirm_delete,
    crumbs,
    empty_state,
    error_callout,
    page_header,
    pause_toggle,
    refusable,
    run_rows,
    section_title,
    shell,
    when_loaded,
)
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
    who_may,
)
from client import AgentRuntimeClient

# How often a schedule's page reads its runs again while one goes on, and for how long at most.
WATCH_SECONDS, WATCH_LIMIT_SECONDS = 1.0, 300.0
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
    # A fire asked for (trigger now) whose run has not shown up yet: how many runs there were.
    awaiting_fire: rx.Field[bool] = rx.field(False)
    watching: rx.Field[bool] = rx.field(False)
    _runs_before: rx.Field[int] = rx.field(0)
    _generation: rx.Field[int] = rx.field(0)

    @rx.var
    def may_write(self) -> bool:
        return may(self.role, WRITER, self.platform_admin)

    @rx.event
    async def load(self) -> Any:
        self.schedule_id = path_part(self.router.url.path, 1)
        self._generation += 1
        self.awaiting_fire, self.busy = False, ""
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
        page = await api.call(client.schedule_runs_page, schedule_id, limit=20)
        return schedule, agent, list(page["items"])

    def _show_schedule(
        self, schedule: dict[str, Any], agent: dict[str, Any], runs: list[dict[str, Any]]
    ) -> None:
        names = {agent["id"]: agent["name"]}
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
        if self.awaiting_fire and len(runs) > self._runs_before:
            self.awaiting_fire = False

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
        self._runs_before, self.awaiting_fire = len(self.runs), True
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
        """Read the schedule's runs again until its fire's run shows up and none goes on."""
        async with self:
            if self.watching:
                return
            schedule_id, generation = self.schedule_id, self._generation
            session = api.SESSIONS.get(self.session_cookie)
            if session is None:
                return
            self.watching = True
        client, deadline = session.client(), time.monotonic() + WATCH_LIMIT_SECONDS
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
                    if not self.awaiting_fire and not any(r.status in ACTIVE for r in self.runs):
                        return
        finally:
            async with self:
                self.watching = False
                if self._generation == generation:
                    self.awaiting_fire = False


def _fact(label: str, value: Any, **props: Any) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label), rx.data_list.value(rx.text(value, size="2", **props))
    )


def _actions(refused: bool) -> rx.Component:
    row: Any = ScheduleState.schedule
    return rx.hstack(
        pause_toggle(
            row.paused,
            refused,
            ScheduleState.pause,
            ScheduleState.unpause,
            lambda action: ScheduleState.busy == action,
        ),
        rx.button(
            rx.icon("zap", size=14),
            "Trigger now",
            on_click=ScheduleState.trigger,
            loading=ScheduleState.busy == "trigger",
            disabled=True if refused else ScheduleState.awaiting_fire,
            id="schedule-trigger",
        ),
        confirm_delete(
            "schedule",
            "It fires no more. The runs it started stay.",
            ScheduleState.delete,
            refused,
        ),
        spacing="2",
        wrap="wrap",
    )


def schedule_page() -> rx.Component:
    row: Any = ScheduleState.schedule
    return shell(
        page_header(
            rx.text("Schedule ", rx.code(row.short_id, size="5", variant="ghost")),
            rx.hstack(
                rx.link(row.agent_name, href=f"/agents/{row.agent_id}"),
                rx.badge(row.version, variant="outline"),
                rx.code(row.spec, size="1", id="schedule-spec"),
                rx.text(row.timezone, size="2", color_scheme="gray"),
                align="center",
                wrap="wrap",
            ),
            refusable(ScheduleState.may_write, who_may(WRITER, "change a schedule"), _actions),
            breadcrumbs=crumbs(("Schedules", "/schedules"), (row.short_id, None)),
            badge=rx.cond(
                row.paused,
                rx.badge("paused", color_scheme="amber", id="schedule-state"),
                rx.badge("active", color_scheme="green", id="schedule-state"),
            ),
        ),
        error_callout(ScheduleState.error),
        when_loaded(
            ScheduleState,
            rx.vstack(
                rx.grid(
                    card(
                        section_title("Next fires"),
                        rx.cond(
                            ScheduleState.upcoming.length() > 0,
                            rx.vstack(
                                rx.foreach(
                                    ScheduleState.upcoming,
                                    lambda moment: rx.hstack(
                                        rx.icon("alarm-clock", size=14),
                                        rx.text(moment, size="2", class_name="fire-time"),
                                        align="center",
                                    ),
                                ),
                                spacing="2",
                                margin_top="8px",
                                id="fire-times",
                            ),
                            rx.text(
                                rx.cond(row.paused, "Paused: no fire is due.", "None due."),
                                size="2",
                                color_scheme="gray",
                                margin_top="8px",
                                id="fire-times-none",
                            ),
                        ),
                    ),
                    card(
                        section_title("What it runs"),
                        rx.data_list.root(
                            _fact("Fires so far", row.fires, id="schedule-fires"),
                            _fact("If a run still goes on", ScheduleState.overlap_label),
                            _fact("Catch-up window", ScheduleState.catchup),
                            _fact("Window", ScheduleState.window),
                            _fact("Created", row.created + " UTC by " + row.created_by),
                            _fact("Note", rx.cond(row.note != "", row.note, "—")),
                            margin_y="8px",
                        ),
                        rx.text("Input", size="1", color_scheme="gray"),
                        code_text(ScheduleState.input_text, max_height="160px"),
                        rx.text("Context", size="1", color_scheme="gray", margin_top="8px"),
                        code_text(ScheduleState.context_text, max_height="160px"),
                    ),
                    columns=by_width("1", "1fr 2fr"),
                    spacing="4",
                    width="100%",
                ),
                section_title(
                    "Runs",
                    busy_note(
                        ScheduleState.awaiting_fire,
                        "Waiting for the fire's run…",
                        id="awaiting-fire",
                    ),
                ),
                rx.cond(
                    ScheduleState.runs.length() > 0,
                    rx.box(run_rows(ScheduleState.runs), width="100%", id="schedule-runs"),
                    empty_state(
                        "circle-play",
                        "No runs yet",
                        "Each fire starts a run; “Trigger now” fires once at once.",
                    ),
                ),
                spacing="4",
                width="100%",
            ),
            "Loading the schedule…",
        ),
    )
