"""The editor of a new version: prefilled from one (or fresh), the API's errors by its fields."""

import copy
import dataclasses
from typing import Any

import reflex as rx

from app import api
from app.components import (
    area_field,
    by_width,
    card,
    crumbs,
    error_callout,
    field_error,
    labelled,
    loading,
    page_header,
    section_title,
    shell,
    text_field,
    tools_card,
)
from app.components.forms import parameter_help_panel
from app.components.widgets import refusable
from app.editor import (
    FORM_FIELDS,
    TOOL_ROW_FIELDS,
    EditorForm,
    ParameterHelp,
    ToolRow,
    draft_body,
    editor_form,
    parameter_errors,
    parameter_help,
    split_tool_errors,
    takes_hosts,
    with_local_errors,
)
from app.mcp_editor import MCP_TIMEOUT_SECONDS, unpinned, with_pinned
from app.state import Failure, PageState, SessionState, path_part
from app.view import WRITER, may, who_may
from client import AgentRuntimeClient, ApiError


class EditorState(PageState, SessionState):
    agent_id: rx.Field[str] = rx.field("")
    agent_name: rx.Field[str] = rx.field("")
    based_on: rx.Field[int] = rx.field(0)
    provider: rx.Field[str] = rx.field("scripted")
    model_name: rx.Field[str] = rx.field("")
    parameters: rx.Field[str] = rx.field("{}")
    system_prompt: rx.Field[str] = rx.field("")
    max_steps: rx.Field[str] = rx.field("")
    max_tokens: rx.Field[str] = rx.field("")
    max_cost_usd: rx.Field[str] = rx.field("")
    timeout_seconds: rx.Field[str] = rx.field("")
    approval_timeout_seconds: rx.Field[str] = rx.field("")
    metadata: rx.Field[str] = rx.field("{}")
    notes: rx.Field[str] = rx.field("")
    tools: rx.Field[list[ToolRow]] = rx.field(default_factory=list)
    errors: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    publishing: rx.Field[bool] = rx.field(False)
    # Each provider's parameters (`GET /v1/meta`'s `provider_parameters`), documented.
    provider_help: rx.Field[dict[str, list[ParameterHelp]]] = rx.field(default_factory=dict)
    # What of the version opened the form has no widget for; published again unchanged.
    _carried: rx.Field[dict[str, Any]] = rx.field(default_factory=dict)

    @rx.var
    def parameter_rows(self) -> list[ParameterHelp]:
        return self.provider_help.get(self.provider, [])

    @rx.var
    def parameter_problems(self) -> list[str]:
        return parameter_errors(self.errors)

    @rx.var
    def may_publish(self) -> bool:
        return may(self.role, WRITER, self.platform_admin)

    def _fill(self, form: EditorForm) -> None:
        for name in FORM_FIELDS:
            setattr(self, name, getattr(form, name))
        self.tools = form.tools
        self._carried = form.carried

    def _form(self) -> EditorForm:
        return EditorForm(
            **{name: getattr(self, name) for name in FORM_FIELDS},
            tools=[dataclasses.replace(row) for row in self.tools],
            carried=copy.deepcopy(self._carried),
        )

    @rx.event
    async def load(self) -> Any:
        self.agent_id = path_part(self.router.url.path, 1)
        self._start_loading()
        self.errors = {}
        yield

        async def read(
            client: AgentRuntimeClient,
        ) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
            words = await self._api(api.meta, await self._session())
            agent = await self._api(client.get_agent, self.agent_id)
            source = self.router.url.query_parameters.get("from") or agent["latest_version"]
            version = (
                await self._api(client.get_version, self.agent_id, int(source)) if source else None
            )
            return agent, version, words

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        agent, version, words = found
        self.provider_help = {
            str(provider): parameter_help(schema)
            for provider, schema in (words.get("provider_parameters") or {}).items()
        }
        self.agent_name = agent["name"]
        self.based_on = int(version["number"]) if version else 0
        self._fill(editor_form(version, self._limit_defaults))
        self.loaded = True

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        if name in FORM_FIELDS:
            setattr(self, name, value)
            self.errors = {k: v for k, v in self.errors.items() if not k.startswith(_key(name))}

    @rx.event
    def add_tool(self, kind: str) -> None:
        if kind == "builtin":
            row = ToolRow(name=self._first_builtin())
        elif kind == "mcp":
            row = ToolRow(type="mcp", url="https://", timeout_seconds=MCP_TIMEOUT_SECONDS)
        else:
            row = ToolRow(type="http", url="https://")
        row.takes_hosts = takes_hosts(row)
        self.tools = [*self.tools, row]

    @rx.event
    def remove_tool(self, index: int) -> None:
        self.tools = [row for i, row in enumerate(self.tools) if i != index]
        self.errors = {}

    @rx.event
    def set_tool(self, index: int, name: str, value: str | bool) -> None:
        rows = [dataclasses.replace(row) for row in self.tools]
        if 0 <= index < len(rows) and name in TOOL_ROW_FIELDS:
            setattr(rows[index], name, value)
            if hasattr(rows[index], f"{name}_error"):
                setattr(rows[index], f"{name}_error", "")
            if name == "type":
                # Another kind of tool: what the row carried belongs to the old one.
                rows[index].name = self._first_builtin() if value == "builtin" else ""
                rows[index].carried = "{}"
            if name in ("type", "name"):
                # Hosts only mean something to a built-in that makes requests.
                rows[index].allowed_hosts = ""
            if name in ("type", "requires_approval"):
                # The switch now says whether calls wait for approval (patterns no longer).
                rows[index].approval_patterns = ""
            rows[index].takes_hosts = takes_hosts(rows[index])
            rows[index] = with_pinned(rows[index])
            self.tools = rows

    @rx.event
    def refresh_tools(self, index: int) -> None:
        """Drop an MCP row's pinned tools: publishing pins what its server lists then."""
        self.tools = [unpinned(row) if i == index else row for i, row in enumerate(self.tools)]

    def _first_builtin(self) -> str:
        return self.builtin_tools[0] if self.builtin_tools else ""

    @rx.event
    async def publish(self) -> Any:
        self.error = ""
        # What the form cannot read is sent as typed, so the API refuses the version and names
        # its other mistakes: every error shows at once, each by its field.
        body, local = draft_body(self._form())
        self._show_errors(local)
        self.publishing = True
        yield
        agent_id = self.agent_id
        version = await self._attempt(
            lambda client: self._api(client.publish_version, agent_id, body)
        )
        self.publishing = False
        if isinstance(version, Failure):
            refused = version.cause
            if isinstance(refused, ApiError) and refused.status == 422:
                self._show_errors(with_local_errors(local, api.field_errors(refused)))
                self.error = "The version was not published: fix the fields marked below."
                return
            self.error = version.message
            yield version.redirect
            return
        yield rx.toast.success(f"Published version {version['number']}.")
        yield rx.redirect(f"/agents/{self.agent_id}/versions/{version['number']}")

    def _show_errors(self, errors: dict[str, str]) -> None:
        general, rows = split_tool_errors(errors, len(self.tools))
        self.errors = general
        updated = []
        for row, found in zip(self.tools, rows, strict=True):
            row = dataclasses.replace(
                row,
                name_error=found.get("name", ""),
                url_error=found.get("url", ""),
                parameters_error=found.get("parameters", ""),
                headers_error=found.get("headers", ""),
                other_error=found.get("other", ""),
            )
            updated.append(row)
        self.tools = updated


def _key(name: str) -> str:
    """The API's name of an editor field (`max_steps` -> `limits.max_steps`)."""
    return ".".join(FORM_FIELDS.get(name, (name,)))


def _error_of(name: str) -> Any:
    key = _key(name)
    return EditorState.errors.get(key, "")  # type: ignore[attr-defined]


def _text(name: str, label: str, hint: str = "") -> rx.Component:
    return text_field(
        label,
        getattr(EditorState, name),
        lambda value: EditorState.set_field(name, value),
        _error_of(name),
        control_id=f"field-{name}",
        error_id=f"error-{_key(name)}".replace(".", "-"),
        hint=hint,
    )


def _area(name: str, label: str, rows: str = "6", code: bool = True) -> rx.Component:
    return area_field(
        label,
        getattr(EditorState, name),
        lambda value: EditorState.set_field(name, value),
        _error_of(name),
        control_id=f"field-{name}",
        error_id=f"error-{_key(name)}".replace(".", "-"),
        rows=rows,
        code=code,
    )


def publish_button(control_id: str, **props: Any) -> rx.Component:
    return refusable(
        EditorState.may_publish,
        who_may(WRITER, "publish a version"),
        lambda refused: rx.button(
            rx.icon("upload", size=14),
            "Publish version",
            on_click=EditorState.publish,
            loading=EditorState.publishing,
            disabled=refused,
            id=control_id,
            **props,
        ),
    )


def editor_page() -> rx.Component:
    base = f"/agents/{EditorState.agent_id}"
    return shell(
        page_header(
            "New version",
            rx.cond(
                EditorState.based_on > 0,
                rx.text(f"Prefilled from version {EditorState.based_on}. Versions are immutable."),
                rx.text("The first version of this agent."),
            ),
            rx.link(rx.button("Cancel", variant="soft", color_scheme="gray"), href=base),
            publish_button("publish-version"),
            breadcrumbs=crumbs(
                ("Agents", "/agents"), (EditorState.agent_name, base), ("New version", None)
            ),
        ),
        error_callout(EditorState.error, id="editor-error"),
        rx.cond(
            ~EditorState.loaded,
            loading(),
            rx.cond(
                EditorState.failed,
                rx.fragment(),
                rx.vstack(
                    card(
                        section_title("Model"),
                        rx.grid(
                            labelled(
                                "Provider",
                                rx.vstack(
                                    rx.select(
                                        EditorState.model_providers,
                                        value=EditorState.provider,
                                        on_change=lambda v: EditorState.set_field("provider", v),
                                        width="100%",
                                        id="field-provider",
                                    ),
                                    field_error(_error_of("provider")),
                                    width="100%",
                                ),
                            ),
                            _text(
                                "model_name", "Model name", "e.g. gpt-4o-mini; demo for scripted"
                            ),
                            columns=by_width("1", "2"),
                            spacing="4",
                            width="100%",
                            margin_top="8px",
                        ),
                        rx.grid(
                            rx.vstack(
                                _area("parameters", "Parameters (JSON)", "8"),
                                rx.foreach(
                                    EditorState.parameter_problems,
                                    lambda problem: field_error(
                                        problem, class_name="parameter-error"
                                    ),
                                ),
                                spacing="1",
                                width="100%",
                            ),
                            parameter_help_panel(EditorState.provider, EditorState.parameter_rows),
                            columns=by_width("1", "2"),
                            spacing="4",
                            width="100%",
                            margin_top="12px",
                        ),
                    ),
                    card(
                        section_title("System prompt"),
                        rx.box(_area("system_prompt", "", "5", code=False), margin_top="8px"),
                    ),
                    tools_card(EditorState),
                    card(
                        section_title("Limits"),
                        rx.grid(
                            _text("max_steps", "Max steps"),
                            _text("max_tokens", "Max tokens"),
                            _text("max_cost_usd", "Max cost (USD)", "empty: no cost limit"),
                            _text("timeout_seconds", "Timeout (s)", "waiting for people excluded"),
                            _text("approval_timeout_seconds", "Approval timeout (s)"),
                            columns=by_width("2", "5"),
                            spacing="3",
                            width="100%",
                            margin_top="8px",
                        ),
                    ),
                    card(
                        section_title("Notes and metadata"),
                        rx.grid(
                            _area("notes", "Notes (not part of the hash)", "4", code=False),
                            _area("metadata", "Metadata (JSON)", "4"),
                            columns=by_width("1", "2"),
                            spacing="4",
                            width="100%",
                            margin_top="8px",
                        ),
                    ),
                    rx.cond(
                        EditorState.errors.length() > 0,
                        rx.callout(
                            rx.vstack(
                                rx.text("Fix these fields:", weight="bold"),
                                rx.foreach(
                                    EditorState.errors,
                                    lambda item: rx.text(rx.code(item[0]), " ", item[1], size="2"),
                                ),
                                spacing="1",
                            ),
                            color_scheme="red",
                            icon="triangle-alert",
                            width="100%",
                        ),
                    ),
                    rx.hstack(
                        rx.spacer(),
                        publish_button("publish-version-bottom", size="3"),
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )
