"""The agent page's state: the agent, its versions and their aliases, recent runs, the launcher,
the charts."""

import json
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from app.components.forms import AgentRenameDrafts, FirstVisitGuide, save_rename
from app.state import Failure, PageState, SessionState, path_part
from app.stats_view import DEFAULT_RANGE, RANGES, StatsView, stats_view, window
from app.view import (
    ACTIVE,
    WRITER,
    AliasRow,
    MoveRow,
    RunRow,
    VersionRow,
    alias_row,
    aliases_by_version,
    may,
    move_row,
    person,
    release_choice,
    release_choices,
    release_wanted,
    run_row,
    version_row,
)
from client import AgentRuntimeClient

# An agent's versions, its aliases, and the moves of each alias by its name.
Releases = tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, list[dict[str, Any]]]]


class AgentState(FirstVisitGuide, AgentRenameDrafts, PageState, SessionState):
    agent_id: rx.Field[str] = rx.field("")
    name: rx.Field[str] = rx.field("")
    description: rx.Field[str] = rx.field("")
    archived: rx.Field[bool] = rx.field(False)
    latest: rx.Field[int] = rx.field(0)
    created: rx.Field[str] = rx.field("")
    created_by: rx.Field[str] = rx.field("")
    tab: rx.Field[str] = rx.field("run")
    versions: rx.Field[list[VersionRow]] = rx.field(default_factory=list)
    runs: rx.Field[list[RunRow]] = rx.field(default_factory=list)
    # Its aliases, by name, and every move of each (newest first)
    aliases: rx.Field[list[AliasRow]] = rx.field(default_factory=list)
    alias_moves: rx.Field[list[MoveRow]] = rx.field(default_factory=list)
    # The launcher
    launch_version: rx.Field[str] = rx.field("latest")
    launch_input: rx.Field[str] = rx.field("")
    launch_context: rx.Field[str] = rx.field("")
    launch_error: rx.Field[str] = rx.field("")
    launching: rx.Field[bool] = rx.field(False)
    # Charts (`GET /v1/stats` of this agent over a range)
    chart_range: rx.Field[str] = rx.field(DEFAULT_RANGE)
    stats: rx.Field[StatsView] = rx.field(default_factory=StatsView)

    @rx.var
    def version_choices(self) -> list[str]:
        numbers = [row.number for row in self.versions]
        return release_choices([row.name for row in self.aliases], numbers)

    @rx.var
    def may_write(self) -> bool:
        return may(self.role, WRITER, self.platform_admin)

    @rx.event
    async def load(self) -> Any:
        agent_id = path_part(self.router.url.path, 1)
        if agent_id != self.agent_id:
            self.launch_input, self.launch_context = "", ""
        self.agent_id = agent_id
        query = self.router.url.query_parameters
        self.tab = query.get("tab", self.tab or "run")
        # "Run it" on a version and "Run again" on a run prefill the launcher (`version` is a
        # number or an alias).
        self.launch_version = release_choice(query.get("version"))
        if "input" in query:
            self.launch_input = query["input"]
        if "context" in query:
            self.launch_context = query["context"]
        self._start_loading()
        self.launch_error = ""
        yield

        async def read(
            client: AgentRuntimeClient,
        ) -> tuple[dict[str, Any], Releases, dict[str, Any], bool]:
            agent = await self._api(client.get_agent, self.agent_id)
            releases = await self._read_releases(client)
            page = await self._api(client.list_runs_page, agent_id=self.agent_id, limit=20)
            tenant_has_runs = bool(page["items"]) or bool(
                (await self._api(client.list_runs_page, limit=1))["items"]
            )
            await self._refresh_pending(client)
            return agent, releases, page, tenant_has_runs

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        agent, releases, page, self.tenant_has_runs = found
        self.name, self.description = agent["name"], agent.get("description") or ""
        self.archived, self.latest = bool(agent["archived"]), int(agent["latest_version"] or 0)
        self.created = str(agent.get("created_at", ""))[:10]
        me = self._me()
        self.created_by = person(agent.get("created_by"), me, agent.get("created_by_name"))
        self._show_releases(*releases)
        if self.launch_version not in self.version_choices:
            self.launch_version = "latest"
        names = {self.agent_id: self.name}
        self.runs = [run_row(run, names) for run in page["items"]]
        if not self.versions and self.tab == "run":
            self.tab = "versions"
        self.loaded = True
        if self.tab == "charts":
            yield AgentState.load_charts

    async def _read_releases(self, client: AgentRuntimeClient) -> Releases:
        """The agent's versions, its aliases and each alias's moves (an agent has few)."""
        versions = await self._api(client.list_versions, self.agent_id)
        aliases = await self._api(client.list_aliases, self.agent_id)
        moves = {
            str(alias["name"]): await self._api(
                client.alias_history, self.agent_id, str(alias["name"])
            )
            for alias in aliases
        }
        return versions, aliases, moves

    def _show_releases(
        self,
        versions: list[dict[str, Any]],
        aliases: list[dict[str, Any]],
        moves: dict[str, list[dict[str, Any]]],
    ) -> None:
        me, named = self._me(), aliases_by_version(aliases)
        newest_first = sorted(versions, key=lambda v: -v["number"])
        self.versions = [version_row(v, me, named.get(v["number"], [])) for v in newest_first]
        self.aliases = [alias_row(a, moves.get(str(a["name"]), []), me) for a in aliases]
        self.alias_moves = [move_row(m, me) for name in sorted(moves) for m in moves[name]]

    @rx.event
    def set_tab(self, tab: str) -> Any:
        self.tab = tab
        if tab == "charts":
            return AgentState.load_charts
        return None

    @rx.event
    async def load_charts(self) -> Any:
        params = {**window(self.chart_range, datetime.now(UTC)).params(), "agent_id": self.agent_id}
        answer = await self._attempt(lambda client: self._api(client.stats, **params))
        if isinstance(answer, Failure):
            self.error = answer.message
            return answer.redirect
        self.stats = stats_view(answer, self.run_statuses, ACTIVE)
        return None

    @rx.event
    def set_chart_range(self, value: str | list[str]) -> Any:
        self.chart_range = value if isinstance(value, str) and value in RANGES else DEFAULT_RANGE
        return AgentState.load_charts

    # The launcher
    @rx.event
    def set_launch_version(self, value: str) -> None:
        self.launch_version = value

    @rx.event
    def set_launch_input(self, value: str) -> None:
        self.launch_input = value

    @rx.event
    def set_launch_context(self, value: str) -> None:
        self.launch_context = value

    @rx.event
    async def launch(self) -> Any:
        self.launch_error = ""
        context: dict[str, Any] = {}
        if self.launch_context.strip():
            try:
                parsed = json.loads(self.launch_context)
            except json.JSONDecodeError as exc:
                self.launch_error = f"Context is not valid JSON: {exc.msg}"
                return
            if not isinstance(parsed, dict):
                self.launch_error = "Context must be a JSON object."
                return
            context = parsed
        version = release_wanted(self.launch_version)
        self.launching = True
        yield
        agent_id, text = self.agent_id, self.launch_input
        run = await self._attempt(
            lambda client: self._api(
                client.start_run, agent_id, text, version=version, context=context
            )
        )
        self.launching = False
        if isinstance(run, Failure):
            self.launch_error = run.message
            yield run.redirect
            return
        self.launch_input = ""
        yield rx.redirect(f"/runs/{run['id']}")

    # Rename and archive
    @rx.event
    def open_edit(self) -> None:
        self.edit_id = self.agent_id
        self.edit_name, self.edit_description = self.name, self.description
        self.edit_open, self.edit_error = True, ""

    @rx.event
    async def save_edit(self) -> Any:
        saved = await save_rename(self)
        if isinstance(saved, Failure):
            return saved.redirect
        self.name, self.description = saved["name"], saved.get("description") or ""
        return None

    @rx.event
    async def toggle_archived(self) -> Any:
        agent_id, archived = self.agent_id, not self.archived
        agent = await self._attempt(
            lambda client: self._api(client.update_agent, agent_id, archived=archived)
        )
        if isinstance(agent, Failure):
            self.error = agent.message
            return agent.redirect
        self.archived = bool(agent["archived"])
        return rx.toast.success("Archived." if self.archived else "Restored.")
