"""The schedules page's state: the tenant's schedules (of one agent, from the address), the
form that creates one, and each row's pause, unpause, trigger and delete."""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from app import api
from app.state import Failure, PageState, SessionState
from app.view import (
    CRON,
    INTERVAL,
    INTERVAL_UNITS,
    OVERLAPS,
    WRITER,
    ScheduleRow,
    agent_pairs,
    may,
    release_choices,
    release_wanted,
    schedule_row,
    timing_body,
)
from client import AgentRuntimeClient, ApiError

Client = AgentRuntimeClient
ALL_AGENTS = "All agents"
# A row's action: the client's method it calls with the schedule's id.
RowCall = Callable[[AgentRuntimeClient, str], Any]


class SchedulesState(PageState, SessionState):
    schedules: rx.Field[list[ScheduleRow]] = rx.field(default_factory=list)
    agent_filter: rx.Field[str] = rx.field("")
    # [agent id, name] pairs, by name.
    agents: rx.Field[list[list[str]]] = rx.field(default_factory=list)
    # The row whose action is on its way ("<id>:<action>").
    busy: rx.Field[str] = rx.field("")
    # The form
    form_open: rx.Field[bool] = rx.field(False)
    new_agent: rx.Field[str] = rx.field("")
    new_version_choices: rx.Field[list[str]] = rx.field(default_factory=lambda: ["latest"])
    new_version: rx.Field[str] = rx.field("latest")
    new_input: rx.Field[str] = rx.field("")
    new_context: rx.Field[str] = rx.field("")
    new_mode: rx.Field[str] = rx.field(CRON)
    new_cron: rx.Field[str] = rx.field("0 9 * * 1-5")
    new_every: rx.Field[str] = rx.field("15")
    new_unit: rx.Field[str] = rx.field("minutes")
    new_timezone: rx.Field[str] = rx.field("UTC")
    new_overlap: rx.Field[str] = rx.field("skip")
    new_note: rx.Field[str] = rx.field("")
    new_errors: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    new_error: rx.Field[str] = rx.field("")
    creating: rx.Field[bool] = rx.field(False)

    @rx.var
    def may_write(self) -> bool:
        return may(self.role, WRITER, self.platform_admin)

    @rx.var
    def agent_labels(self) -> list[str]:
        return [name for _, name in self.agents]

    @rx.var
    def agent_filter_choices(self) -> list[str]:
        return [ALL_AGENTS, *self.agent_labels]

    @rx.var
    def agent_filter_label(self) -> str:
        return self._agent_name(self.agent_filter) or ALL_AGENTS

    @rx.var
    def new_agent_label(self) -> str:
        return self._agent_name(self.new_agent)

    @rx.var
    def overlap_labels(self) -> list[str]:
        return [label for _, label in OVERLAPS]

    @rx.var
    def new_overlap_label(self) -> str:
        return next((label for value, label in OVERLAPS if value == self.new_overlap), "")

    def _agent_name(self, agent_id: str) -> str:
        return next((name for value, name in self.agents if value == agent_id), "")

    def _agent_id(self, name: str) -> str:
        return next((value for value, label in self.agents if label == name), "")

    @rx.event
    async def load(self) -> Any:
        self.agent_filter = str(self.router.url.query_parameters.get("agent") or "")
        self._start_loading()
        yield
        wanted = self.agent_filter or None

        async def read(
            client: AgentRuntimeClient,
        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            agents = await self._api(client.list_agents)
            schedules = await self._api(client.list_schedules, agent_id=wanted)
            await self._refresh_pending(client)
            return agents, schedules

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        agents, schedules = found
        self.agents = agent_pairs(agents)
        self._show_schedules(schedules, {a["id"]: a["name"] for a in agents})
        self.loaded = True

    def _show_schedules(
        self, schedules: list[dict[str, Any]], names: dict[str, str] | None = None
    ) -> None:
        names = names or {value: name for value, name in self.agents}
        self.schedules = [schedule_row(s, names, self._me()) for s in schedules]

    async def _reload(self, client: AgentRuntimeClient) -> list[dict[str, Any]]:
        return await self._api(client.list_schedules, agent_id=self.agent_filter or None)

    @rx.event
    def set_agent_filter_label(self, label: str) -> Any:
        agent_id = self._agent_id(label)
        return rx.redirect(
            f"/schedules?{urlencode({'agent': agent_id})}" if agent_id else "/schedules"
        )

    # The form
    @rx.event
    def set_form_open(self, value: bool) -> Any:
        self.form_open, self.new_errors, self.new_error = value, {}, ""
        if value and not self.new_agent and self.agents:
            self.new_agent = self.agent_filter or self.agents[0][0]
        return SchedulesState.read_version_choices if value else None

    @rx.event
    async def set_new_agent_label(self, label: str) -> Any:
        self.new_agent = self._agent_id(label)
        return SchedulesState.read_version_choices

    @rx.event
    async def read_version_choices(self) -> Any:
        """What the chosen agent's runs may ask for: latest, its aliases, its versions."""
        agent_id = self.new_agent
        if not agent_id:
            return None

        async def read(client: AgentRuntimeClient) -> list[str]:
            aliases = await self._api(client.list_aliases, agent_id)
            versions = await self._api(client.list_versions, agent_id)
            return release_choices(
                [str(a["name"]) for a in aliases], [int(v["number"]) for v in versions]
            )

        choices = await self._attempt(read)
        if isinstance(choices, Failure):
            self.new_error = choices.message
            return choices.redirect
        self.new_version_choices = choices
        if self.new_version not in choices:
            self.new_version = "latest"
        return None

    @rx.event
    def set_new_version(self, value: str) -> None:
        self.new_version = value

    @rx.event
    def set_new_input(self, value: str) -> None:
        self.new_input = value

    @rx.event
    def set_new_context(self, value: str) -> None:
        self.new_context = value

    @rx.event
    def set_new_mode(self, value: str | list[str]) -> None:
        self.new_mode = INTERVAL if value == INTERVAL else CRON

    @rx.event
    def set_new_cron(self, value: str) -> None:
        self.new_cron = value

    @rx.event
    def set_new_every(self, value: str) -> None:
        self.new_every = value

    @rx.event
    def set_new_unit(self, value: str) -> None:
        self.new_unit = value if value in INTERVAL_UNITS else "minutes"

    @rx.event
    def set_new_timezone(self, value: str) -> None:
        self.new_timezone = value

    @rx.event
    def set_new_overlap_label(self, label: str) -> None:
        self.new_overlap = next((value for value, name in OVERLAPS if name == label), "skip")

    @rx.event
    def set_new_note(self, value: str) -> None:
        self.new_note = value

    def _new_body(self) -> dict[str, Any] | None:
        """The form as the API's body; None (with the fields' errors shown) when it is not."""
        errors: dict[str, str] = {}
        body: dict[str, Any] = {
            "agent": self.new_agent,
            "version": release_wanted(self.new_version),
            "input": self.new_input,
            "timezone": self.new_timezone.strip() or "UTC",
            "overlap": self.new_overlap,
            "note": self.new_note.strip(),
        }
        if not self.new_agent:
            errors["agent"] = "Choose the agent it runs."
        timing, interval_error = timing_body(
            self.new_mode, self.new_cron, self.new_every, self.new_unit
        )
        body.update(timing)
        if interval_error:
            errors["interval_seconds"] = interval_error
        if self.new_context.strip():
            try:
                body["context"] = json.loads(self.new_context)
            except json.JSONDecodeError as exc:
                errors["context"] = f"not valid JSON: {exc.msg}"
            else:
                if not isinstance(body["context"], dict):
                    errors["context"] = "must be a JSON object"
        self.new_errors = errors
        return None if errors else body

    @rx.event
    async def create(self) -> Any:
        self.new_error = ""
        body = self._new_body()
        if body is None:
            return
        self.creating = True
        yield

        async def created(client: AgentRuntimeClient) -> list[dict[str, Any]]:
            await self._api(client.create_schedule, **body)
            return await self._reload(client)

        schedules = await self._attempt(created)
        self.creating = False
        if isinstance(schedules, Failure):
            refused = schedules.cause
            if isinstance(refused, ApiError) and refused.status == 422:
                self.new_errors = api.field_errors(refused)
            self.new_error = schedules.message
            yield schedules.redirect
            return
        self._show_schedules(schedules)
        self.form_open, self.new_input, self.new_context, self.new_note = False, "", "", ""
        yield rx.toast.success("Schedule created.")

    # Each row's actions
    async def _act(self, schedule_id: str, action: str, call: RowCall, done: str) -> Any:
        self.busy = f"{schedule_id}:{action}"
        yield

        async def acted(client: AgentRuntimeClient) -> list[dict[str, Any]]:
            await self._api(call, client, schedule_id)
            return await self._reload(client)

        schedules = await self._attempt(acted)
        self.busy = ""
        yield self._outcome(schedules, done, self._show_schedules)

    @rx.event
    async def pause(self, schedule_id: str) -> Any:
        async for update in self._act(
            schedule_id, "pause", Client.pause_schedule, "Paused: it fires no more."
        ):
            yield update

    @rx.event
    async def unpause(self, schedule_id: str) -> Any:
        async for update in self._act(
            schedule_id, "unpause", Client.unpause_schedule, "It fires again."
        ):
            yield update

    @rx.event
    async def trigger(self, schedule_id: str) -> Any:
        async for update in self._act(
            schedule_id, "trigger", Client.trigger_schedule, "Fired: its run starts now."
        ):
            yield update

    @rx.event
    async def delete(self, schedule_id: str) -> Any:
        async for update in self._act(
            schedule_id, "delete", Client.delete_schedule, "Schedule deleted."
        ):
            yield update
