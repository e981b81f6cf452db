"""The tenant's threads (conversations across runs), newest first, by status and agent.

The filters live in the address (`/threads?status=busy&agent=agt_…`), so a link reproduces them.
"""

from typing import Any
from urllib.parse import urlencode

import reflex as rx

from app.components import (
    empty_state,
    error_callout,
    loading,
    page_header,
    shell,
    status_badge,
    table,
)
from app.state import Failure, PageState, SessionState
from app.view import THREAD_STATUSES, ThreadRow, thread_row
from client import AgentRuntimeClient

ANY = "any status"
ALL_AGENTS = "All agents"


class ThreadsState(PageState, SessionState):
    threads: rx.Field[list[ThreadRow]] = rx.field(default_factory=list)
    status_filter: rx.Field[str] = rx.field(ANY)
    agent_filter: rx.Field[str] = rx.field("")
    # [agent id, name] pairs, by name; the first ("") is every agent.
    agent_choices: rx.Field[list[list[str]]] = rx.field(default_factory=list)

    @rx.var
    def status_choices(self) -> list[str]:
        return [ANY, *THREAD_STATUSES]

    @rx.var
    def agent_labels(self) -> list[str]:
        return [label for _, label in self.agent_choices]

    @rx.var
    def agent_label(self) -> str:
        return next(
            (label for value, label in self.agent_choices if value == self.agent_filter),
            ALL_AGENTS,
        )

    @rx.event
    async def load(self) -> Any:
        query = dict(self.router.url.query_parameters)
        status = str(query.get("status") or "")
        self.status_filter = status if status in THREAD_STATUSES else ANY
        self.agent_filter = str(query.get("agent") or "")
        self._start_loading()
        yield
        status_wanted = None if self.status_filter == ANY else self.status_filter
        agent_wanted = self.agent_filter or None

        async def read(
            client: AgentRuntimeClient,
        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            agents = await self._api(client.list_agents)
            archived = await self._api(client.list_agents, archived=True)
            threads = await self._api(
                client.list_threads, agent_id=agent_wanted, status=status_wanted
            )
            await self._refresh_pending(client)
            return [*agents, *archived], threads

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        agents, threads = found
        names = {a["id"]: a["name"] for a in agents}
        self.agent_choices = [["", ALL_AGENTS]] + [
            [agent_id, name] for agent_id, name in sorted(names.items(), key=lambda i: i[1])
        ]
        self.threads = [thread_row(thread, names) for thread in threads]
        self.loaded = True

    def _navigate(self) -> Any:
        query = {"status": self.status_filter if self.status_filter != ANY else ""}
        query["agent"] = self.agent_filter
        wanted = {key: value for key, value in query.items() if value}
        return rx.redirect(f"/threads?{urlencode(wanted)}" if wanted else "/threads")

    @rx.event
    def set_status_filter(self, value: str) -> Any:
        self.status_filter = value
        return self._navigate()

    @rx.event
    def set_agent_label(self, label: str) -> Any:
        self.agent_filter = next((v for v, name in self.agent_choices if name == label), "")
        return self._navigate()


def thread_table() -> rx.Component:
    def row(thread: ThreadRow) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.link(
                    thread.short_id,
                    href=f"/threads/{thread.id}",
                    class_name="thread-link",
                    size="2",
                    data_thread=thread.id,
                )
            ),
            rx.table.cell(status_badge(thread.status, class_name="thread-status")),
            rx.table.cell(
                rx.cond(
                    thread.agent_id != "",
                    rx.link(thread.agent_name, href=f"/agents/{thread.agent_id}", size="2"),
                    rx.text(thread.agent_name, size="2"),
                ),
                class_name="thread-agent",
            ),
            rx.table.cell(rx.text(thread.runs, size="2", class_name="thread-runs")),
            rx.table.cell(rx.text(thread.last_run, size="1", color_scheme="gray")),
            rx.table.cell(
                rx.text(thread.metadata, size="1", class_name="thread-metadata", trim="both")
            ),
            align="center",
            class_name="thread-row",
        )

    return table(
        ["Thread", "Status", "Agent", "Runs", "Last run (UTC)", "Metadata"],
        rx.table.body(rx.foreach(ThreadsState.threads, row)),
        min_width="760px",
    )


def threads_page() -> rx.Component:
    return shell(
        page_header(
            "Threads",
            "Conversations across runs, newest first. Start one with “Chat” on a version's page.",
        ),
        rx.hstack(
            rx.select(
                ThreadsState.agent_labels,
                value=ThreadsState.agent_label,
                on_change=ThreadsState.set_agent_label,
                id="threads-agent-filter",
            ),
            rx.select(
                ThreadsState.status_choices,
                value=ThreadsState.status_filter,
                on_change=ThreadsState.set_status_filter,
                id="threads-status-filter",
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        error_callout(ThreadsState.error),
        rx.cond(
            ~ThreadsState.loaded,
            loading("Loading threads…"),
            rx.cond(
                ThreadsState.failed,
                rx.fragment(),
                rx.cond(
                    ThreadsState.threads.length() > 0,
                    rx.box(thread_table(), width="100%", id="threads-table"),
                    empty_state(
                        "messages-square",
                        "No threads match",
                        "A thread is a conversation: “Chat” on a version's page starts one.",
                    ),
                ),
            ),
        ),
    )
