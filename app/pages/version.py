"""A version: its model, system prompt, tools (an MCP server's with the tools it pinned),
limits, notes and metadata, and the aliases that name it."""

from typing import Any

import reflex as rx

from app.components import (
    by_width,
    card,
    code_text,
    crumbs,
    error_callout,
    loading,
    page_header,
    pinned_tool_list,
    section_title,
    shell,
)
from app.components.widgets import refusable
from app.state import Failure, PageState, SessionState, path_part
from app.view import (
    WRITER,
    ToolView,
    aliases_by_version,
    may,
    person,
    pretty,
    tool_view,
    when,
    who_may,
)
from client import AgentRuntimeClient


class VersionState(PageState, SessionState):
    agent_id: rx.Field[str] = rx.field("")
    agent_name: rx.Field[str] = rx.field("")
    number: rx.Field[int] = rx.field(0)
    latest: rx.Field[int] = rx.field(0)
    config_hash: rx.Field[str] = rx.field("")
    created: rx.Field[str] = rx.field("")
    author: rx.Field[str] = rx.field("")
    notes: rx.Field[str] = rx.field("")
    provider: rx.Field[str] = rx.field("")
    model_name: rx.Field[str] = rx.field("")
    parameters: rx.Field[str] = rx.field("")
    system_prompt: rx.Field[str] = rx.field("")
    tools: rx.Field[list[ToolView]] = rx.field(default_factory=list)
    limits: rx.Field[list[tuple[str, str]]] = rx.field(default_factory=list)
    metadata: rx.Field[str] = rx.field("")
    starting_chat: rx.Field[bool] = rx.field(False)
    # The agent's aliases that name this version (`prod`), by name.
    aliases: rx.Field[list[str]] = rx.field(default_factory=list)

    @rx.var
    def may_write(self) -> bool:
        return may(self.role, WRITER, self.platform_admin)

    @rx.event
    async def load(self) -> Any:
        path = self.router.url.path
        self.agent_id = path_part(path, 1)
        self._start_loading()
        yield

        async def read(
            client: AgentRuntimeClient,
        ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
            self.number = int(path_part(path, 3))
            agent = await self._api(client.get_agent, self.agent_id)
            version = await self._api(client.get_version, self.agent_id, self.number)
            aliases = await self._api(client.list_aliases, self.agent_id)
            return agent, version, aliases

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        agent, version, aliases = found
        self.aliases = aliases_by_version(aliases).get(self.number, [])
        model = version.get("model") or {}
        self.agent_name, self.latest = agent["name"], int(agent["latest_version"] or 0)
        self.config_hash = str(version["config_hash"])
        self.created = when(version["created_at"], seconds=True)
        self.author = person(version["created_by"], self._me(), version.get("created_by_name"))
        self.notes = str(version.get("notes") or "")
        self.provider, self.model_name = str(model.get("provider")), str(model.get("name") or "")
        self.parameters = pretty(model.get("parameters") or {})
        self.system_prompt = str(version.get("system_prompt") or "")
        self.tools = [tool_view(tool) for tool in version.get("tools") or []]
        limits = version.get("limits") or {}
        self.limits = [
            (name.replace("_", " "), "—" if value is None else str(value))
            for name, value in limits.items()
        ]
        self.metadata = pretty(version.get("metadata") or {})
        self.loaded = True

    @rx.event
    async def start_chat(self) -> Any:
        """A new thread for trying this version, opened in the chat view with it chosen."""
        if not self.may_write:
            return
        self.starting_chat = True
        yield
        labels = {"agent": self.agent_name}
        thread = await self._attempt(
            lambda client: self._api(client.create_thread, metadata=labels)
        )
        self.starting_chat = False
        if isinstance(thread, Failure):
            self.error = thread.message
            yield thread.redirect
            return
        yield rx.redirect(f"/threads/{thread['id']}?version={self.number}")


def _action(refused: bool, button: rx.Component, href: str) -> rx.Component:
    """A button that goes to `href`, or only the (disabled) button for whoever may not."""
    return button if refused else rx.link(button, href=href)


def version_page() -> rx.Component:
    base = f"/agents/{VersionState.agent_id}"
    return shell(
        page_header(
            f"Version {VersionState.number}",
            rx.text(
                "Published ",
                VersionState.created,
                " UTC by ",
                rx.text.span(VersionState.author, id="version-author"),
                " · hash ",
                rx.code(VersionState.config_hash[:16], size="1"),
            ),
            rx.link(
                rx.button(rx.icon("git-compare", size=14), "Compare", variant="soft"),
                href=f"{base}/diff?right={VersionState.number}",
            ),
            refusable(
                VersionState.may_write,
                who_may(WRITER, "publish a version"),
                lambda refused: _action(
                    refused,
                    rx.button(
                        rx.icon("copy-plus", size=14),
                        "New version from this",
                        variant="soft",
                        disabled=refused,
                        id="new-version-from",
                    ),
                    f"{base}/new-version?from={VersionState.number}",
                ),
            ),
            refusable(
                VersionState.may_write,
                who_may(WRITER, "start a run"),
                lambda refused: _action(
                    refused,
                    rx.button(rx.icon("play", size=14), "Run it", disabled=refused, id="run-it"),
                    # The launcher preselects this version (it reads `version`).
                    f"{base}?tab=run&version={VersionState.number}",
                ),
            ),
            refusable(
                VersionState.may_write,
                who_may(WRITER, "start a chat"),
                lambda refused: rx.button(
                    rx.icon("messages-square", size=14),
                    "Chat",
                    variant="soft",
                    title="Try this version in a new conversation",
                    on_click=VersionState.start_chat,
                    loading=VersionState.starting_chat,
                    disabled=refused,
                    id="chat-with-version",
                ),
            ),
            breadcrumbs=crumbs(
                ("Agents", "/agents"),
                (VersionState.agent_name, base),
                ("Versions", f"{base}?tab=versions"),
                (f"v{VersionState.number}", None),
            ),
            badge=rx.hstack(
                rx.cond(
                    VersionState.number == VersionState.latest,
                    rx.badge("latest", color_scheme="green"),
                ),
                rx.foreach(
                    VersionState.aliases,
                    lambda name: rx.badge(
                        name, color_scheme="violet", title="An alias naming this version"
                    ),
                ),
                spacing="1",
                id="version-aliases",
            ),
        ),
        error_callout(VersionState.error),
        rx.cond(
            ~VersionState.loaded,
            loading(),
            rx.cond(
                VersionState.failed,
                rx.fragment(),
                rx.grid(
                    rx.vstack(
                        card(
                            section_title("Model"),
                            rx.hstack(
                                rx.badge(VersionState.provider, size="2"),
                                rx.text(VersionState.model_name, weight="bold", id="version-model"),
                                align="center",
                                margin_y="8px",
                            ),
                            rx.text("Parameters", size="1", color_scheme="gray"),
                            code_text(VersionState.parameters),
                        ),
                        card(
                            section_title("System prompt"),
                            code_text(
                                rx.cond(
                                    VersionState.system_prompt != "",
                                    VersionState.system_prompt,
                                    "(none)",
                                ),
                                margin_top="8px",
                            ),
                        ),
                        card(
                            section_title("Tools"),
                            rx.cond(
                                VersionState.tools.length() > 0,
                                rx.vstack(
                                    rx.foreach(
                                        VersionState.tools,
                                        lambda tool: rx.box(
                                            rx.hstack(
                                                rx.icon("wrench", size=14),
                                                rx.text(tool.name, weight="bold"),
                                                rx.badge(tool.type, variant="outline"),
                                                rx.cond(
                                                    tool.requires_approval,
                                                    rx.badge(
                                                        "needs approval", color_scheme="amber"
                                                    ),
                                                ),
                                                rx.text(
                                                    tool.detail,
                                                    size="1",
                                                    color_scheme="gray",
                                                    overflow_wrap="anywhere",
                                                ),
                                                align="center",
                                                wrap="wrap",
                                            ),
                                            rx.cond(
                                                tool.type == "mcp",
                                                rx.vstack(
                                                    rx.text(
                                                        "Pinned tools, as the model sees them",
                                                        size="1",
                                                        color_scheme="gray",
                                                    ),
                                                    pinned_tool_list(tool.pinned),
                                                    spacing="1",
                                                    margin_top="6px",
                                                    width="100%",
                                                    class_name="version-mcp-tools",
                                                ),
                                            ),
                                            rx.accordion.root(
                                                rx.accordion.item(
                                                    header=rx.text("Configuration", size="1"),
                                                    content=code_text(tool.config),
                                                    value="config",
                                                ),
                                                collapsible=True,
                                                type="single",
                                                variant="ghost",
                                            ),
                                            width="100%",
                                        ),
                                    ),
                                    spacing="2",
                                    margin_top="8px",
                                    width="100%",
                                ),
                                rx.text("No tools.", color_scheme="gray", size="2"),
                            ),
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    rx.vstack(
                        card(
                            section_title("Limits"),
                            rx.data_list.root(
                                rx.foreach(
                                    VersionState.limits,
                                    lambda item: rx.data_list.item(
                                        rx.data_list.label(item[0]),
                                        rx.data_list.value(item[1]),
                                    ),
                                ),
                                margin_top="8px",
                            ),
                        ),
                        card(
                            section_title("Notes"),
                            rx.text(
                                rx.cond(VersionState.notes != "", VersionState.notes, "No notes."),
                                size="2",
                                margin_top="8px",
                            ),
                        ),
                        card(section_title("Metadata"), code_text(VersionState.metadata)),
                        spacing="4",
                        width="100%",
                    ),
                    columns=by_width("1", "2fr 1fr"),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )
