"""A version (model, prompt, tools, limits), the editor of a new one, and a diff of two."""

import copy
import dataclasses
from typing import Any

import reflex as rx

from app import api
from app.components import (
    card,
    code_text,
    crumbs,
    empty_state,
    error_callout,
    field_error,
    labelled,
    loading,
    page_header,
    section_title,
    shell,
)
from app.editor import (
    FORM_FIELDS,
    TOOL_ROW_FIELDS,
    EditorForm,
    FormError,
    ToolRow,
    editor_form,
    split_tool_errors,
    version_body,
)
from app.pages.agent import path_part
from app.state import SessionState
from app.view import DiffRow, diff_rows, person, pretty, when
from client import ApiError


@dataclasses.dataclass
class ToolView:
    name: str = ""
    type: str = ""
    requires_approval: bool = False
    detail: str = ""
    config: str = ""


class VersionState(SessionState):
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
    loaded: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")

    @rx.event
    async def load(self) -> Any:
        path = self.router.url.path
        self.agent_id = path_part(path, 1)
        self.loaded, self.error = False, ""
        self.failed = False
        yield
        try:
            self.number = int(path_part(path, 3))
            client = await self._client()
            agent = await self._api(client.get_agent, self.agent_id)
            version = await self._api(client.get_version, self.agent_id, self.number)
        except Exception as exc:
            self.failed = True
            self.error, redirect = self._trouble(exc)
            self.loaded = True
            if redirect is not None:
                yield redirect
            return
        model = version.get("model") or {}
        self.agent_name, self.latest = agent["name"], int(agent["latest_version"] or 0)
        self.config_hash = str(version["config_hash"])
        self.created = when(version["created_at"], seconds=True)
        self.author = person(version["created_by"], self._me())
        self.notes = str(version.get("notes") or "")
        self.provider, self.model_name = str(model.get("provider")), str(model.get("name") or "")
        self.parameters = pretty(model.get("parameters") or {})
        self.system_prompt = str(version.get("system_prompt") or "")
        self.tools = [
            ToolView(
                name=str(tool["name"]),
                type=str(tool["type"]),
                requires_approval=bool(tool.get("requires_approval")),
                detail=(
                    f"{tool.get('method', 'POST')} {tool.get('url')}"
                    if tool["type"] == "http"
                    else "built-in tool"
                ),
                config=pretty(tool),
            )
            for tool in version.get("tools") or []
        ]
        limits = version.get("limits") or {}
        self.limits = [
            (name.replace("_", " "), "—" if value is None else str(value))
            for name, value in limits.items()
        ]
        self.metadata = pretty(version.get("metadata") or {})
        self.loaded = True


def version_page() -> rx.Component:
    base = f"/agents/{VersionState.agent_id}"
    return shell(
        page_header(
            f"Version {VersionState.number}",
            rx.text(
                "Published ",
                VersionState.created,
                " UTC by ",
                VersionState.author,
                " · hash ",
                rx.code(VersionState.config_hash[:16], size="1"),
            ),
            rx.link(
                rx.button(rx.icon("git-compare", size=14), "Compare", variant="soft"),
                href=f"{base}/diff?right={VersionState.number}",
            ),
            rx.link(
                rx.button(rx.icon("copy-plus", size=14), "New version from this", variant="soft"),
                href=f"{base}/new-version?from={VersionState.number}",
            ),
            rx.link(
                rx.button(rx.icon("play", size=14), "Run it"),
                href=f"{base}?tab=run",
            ),
            breadcrumbs=crumbs(
                ("Agents", "/agents"),
                (VersionState.agent_name, base),
                ("Versions", f"{base}?tab=versions"),
                (f"v{VersionState.number}", None),
            ),
            badge=rx.cond(
                VersionState.number == VersionState.latest,
                rx.badge("latest", color_scheme="green"),
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
                                                rx.text(tool.detail, size="1", color_scheme="gray"),
                                                align="center",
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
                    columns="2fr 1fr",
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )


# The editor ------------------------------------------------------------------------------------
class EditorState(SessionState):
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
    error: rx.Field[str] = rx.field("")
    loaded: rx.Field[bool] = rx.field(False)
    publishing: rx.Field[bool] = rx.field(False)
    # What of the version opened the form has no widget for; published again unchanged.
    _carried: rx.Field[dict[str, Any]] = rx.field(default_factory=dict)

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
        self.loaded, self.error, self.errors = False, "", {}
        self.failed = False
        yield
        try:
            client = await self._client()
            agent = await self._api(client.get_agent, self.agent_id)
            source = self.router.url.query_parameters.get("from") or agent["latest_version"]
            version = (
                await self._api(client.get_version, self.agent_id, int(source)) if source else None
            )
        except Exception as exc:
            self.failed = True
            self.error, redirect = self._trouble(exc)
            self.loaded = True
            if redirect is not None:
                yield redirect
            return
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
        else:
            row = ToolRow(type="http", url="https://")
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
            self.tools = rows

    def _first_builtin(self) -> str:
        return self.builtin_tools[0] if self.builtin_tools else ""

    @rx.event
    async def publish(self) -> Any:
        self.error = ""
        form = self._form()
        try:
            body = version_body(form)
        except FormError as exc:
            self._show_errors(exc.errors)
            self.error = "Some fields are not well-formed; see below."
            return
        self.publishing = True
        yield
        try:
            client = await self._client()
            version = await self._api(client.publish_version, self.agent_id, body)
        except ApiError as exc:
            self.publishing = False
            if exc.status == 422:
                self._show_errors(api.field_errors(exc))
                self.error = "The API did not accept this version: " + exc.message
                return
            self.error, redirect = self._trouble(exc)
            if redirect is not None:
                yield redirect
            return
        except Exception as exc:
            self.publishing = False
            self.error, redirect = self._trouble(exc)
            if redirect is not None:
                yield redirect
            return
        self.publishing = False
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


def text_field(name: str, label: str, hint: str = "", **props: Any) -> rx.Component:
    return labelled(
        label,
        rx.vstack(
            rx.input(
                value=getattr(EditorState, name),
                on_change=lambda value: EditorState.set_field(name, value),
                width="100%",
                color_scheme=rx.cond(_error_of(name) != "", "red", "gray"),
                id=f"field-{name}",
                **props,
            ),
            field_error(_error_of(name), id=f"error-{_key(name)}".replace(".", "-")),
            spacing="1",
            width="100%",
        ),
        hint,
    )


def area_field(name: str, label: str, rows: str = "6", code: bool = True) -> rx.Component:
    return labelled(
        label,
        rx.vstack(
            rx.text_area(
                value=getattr(EditorState, name),
                on_change=lambda value: EditorState.set_field(name, value),
                rows=rows,
                width="100%",
                font_family="var(--code-font-family)" if code else None,
                font_size="13px",
                id=f"field-{name}",
            ),
            field_error(_error_of(name), id=f"error-{_key(name)}".replace(".", "-")),
            spacing="1",
            width="100%",
        ),
    )


def tool_editor(row: ToolRow, index: rx.Var[int]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                # The kinds of tool this editor has widgets for (meta's `tool_types` may add more).
                rx.select(
                    ["builtin", "http"],
                    value=row.type,
                    on_change=lambda v: EditorState.set_tool(index, "type", v),
                    size="2",
                ),
                rx.cond(
                    row.type == "builtin",
                    rx.select(
                        EditorState.builtin_tools,
                        value=row.name,
                        on_change=lambda v: EditorState.set_tool(index, "name", v),
                        size="2",
                    ),
                    rx.input(
                        value=row.name,
                        placeholder="tool_name",
                        on_change=lambda v: EditorState.set_tool(index, "name", v),
                        size="2",
                    ),
                ),
                rx.hstack(
                    rx.switch(
                        checked=row.requires_approval,
                        on_change=lambda v: EditorState.set_tool(index, "requires_approval", v),
                    ),
                    rx.text("Needs approval", size="2"),
                    align="center",
                ),
                rx.spacer(),
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    variant="ghost",
                    color_scheme="red",
                    on_click=EditorState.remove_tool(index),
                    title="Remove this tool",
                ),
                align="center",
                width="100%",
            ),
            field_error(row.name_error),
            rx.cond(
                row.type == "builtin",
                rx.hstack(
                    labelled(
                        "Allowed hosts (http_request; comma-separated)",
                        rx.input(
                            value=row.allowed_hosts,
                            placeholder="api.example.com",
                            on_change=lambda v: EditorState.set_tool(index, "allowed_hosts", v),
                            width="100%",
                        ),
                    ),
                    labelled(
                        "Approval timeout (s)",
                        rx.input(
                            value=row.approval_timeout_seconds,
                            on_change=lambda v: EditorState.set_tool(
                                index, "approval_timeout_seconds", v
                            ),
                            width="100%",
                        ),
                        width="200px",
                    ),
                    width="100%",
                ),
                rx.vstack(
                    rx.hstack(
                        rx.select(
                            EditorState.http_methods,
                            value=row.method,
                            on_change=lambda v: EditorState.set_tool(index, "method", v),
                        ),
                        rx.input(
                            value=row.url,
                            placeholder="https://api.example.com/things/{id}",
                            on_change=lambda v: EditorState.set_tool(index, "url", v),
                            flex="1",
                        ),
                        rx.input(
                            value=row.timeout_seconds,
                            on_change=lambda v: EditorState.set_tool(index, "timeout_seconds", v),
                            width="90px",
                            title="Timeout (seconds)",
                        ),
                        width="100%",
                    ),
                    field_error(row.url_error),
                    rx.input(
                        value=row.description,
                        placeholder="What the tool does (the model reads this)",
                        on_change=lambda v: EditorState.set_tool(index, "description", v),
                        width="100%",
                    ),
                    rx.grid(
                        labelled(
                            "Parameters (JSON schema)",
                            rx.vstack(
                                rx.text_area(
                                    value=row.parameters,
                                    on_change=lambda v: EditorState.set_tool(
                                        index, "parameters", v
                                    ),
                                    rows="7",
                                    width="100%",
                                    font_family="var(--code-font-family)",
                                    font_size="12px",
                                    class_name="tool-parameters",
                                ),
                                field_error(
                                    row.parameters_error, class_name="tool-parameters-error"
                                ),
                                width="100%",
                                spacing="1",
                            ),
                        ),
                        labelled(
                            'Headers (JSON; secrets as {"secret": "ENV_NAME"})',
                            rx.vstack(
                                rx.text_area(
                                    value=row.headers,
                                    on_change=lambda v: EditorState.set_tool(index, "headers", v),
                                    rows="7",
                                    width="100%",
                                    font_family="var(--code-font-family)",
                                    font_size="12px",
                                ),
                                field_error(row.headers_error),
                                width="100%",
                                spacing="1",
                            ),
                        ),
                        columns="2",
                        spacing="3",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.checkbox(
                            "Accepts an Idempotency-Key (safe to retry)",
                            checked=row.accepts_idempotency_key,
                            on_change=lambda v: EditorState.set_tool(
                                index, "accepts_idempotency_key", v
                            ),
                        ),
                        rx.spacer(),
                        rx.text("Approval timeout (s)", size="2"),
                        rx.input(
                            value=row.approval_timeout_seconds,
                            on_change=lambda v: EditorState.set_tool(
                                index, "approval_timeout_seconds", v
                            ),
                            width="110px",
                        ),
                        align="center",
                        width="100%",
                    ),
                    spacing="2",
                    width="100%",
                ),
            ),
            field_error(row.other_error),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="tool-row",
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
            rx.button(
                rx.icon("upload", size=14),
                "Publish version",
                on_click=EditorState.publish,
                loading=EditorState.publishing,
                id="publish-version",
            ),
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
                            text_field(
                                "model_name", "Model name", "e.g. gpt-4o-mini; demo for scripted"
                            ),
                            columns="2",
                            spacing="4",
                            width="100%",
                            margin_top="8px",
                        ),
                        rx.box(
                            area_field(
                                "parameters", "Parameters (JSON: temperature, script, …)", "8"
                            ),
                            margin_top="12px",
                        ),
                    ),
                    card(
                        section_title("System prompt"),
                        rx.box(area_field("system_prompt", "", "5", code=False), margin_top="8px"),
                    ),
                    card(
                        section_title(
                            "Tools",
                            rx.button(
                                rx.icon("plus", size=14),
                                "Built-in tool",
                                variant="soft",
                                size="1",
                                on_click=EditorState.add_tool("builtin"),
                                id="add-builtin-tool",
                            ),
                            rx.button(
                                rx.icon("plus", size=14),
                                "HTTP tool",
                                variant="soft",
                                size="1",
                                on_click=EditorState.add_tool("http"),
                                id="add-http-tool",
                            ),
                        ),
                        field_error(EditorState.errors.get("tools", "")),  # type: ignore[attr-defined]
                        rx.cond(
                            EditorState.tools.length() > 0,
                            rx.vstack(
                                rx.foreach(EditorState.tools, tool_editor),
                                spacing="3",
                                width="100%",
                                margin_top="8px",
                            ),
                            rx.text(
                                "No tools: the model can only answer.",
                                size="2",
                                color_scheme="gray",
                            ),
                        ),
                    ),
                    card(
                        section_title("Limits"),
                        rx.grid(
                            text_field("max_steps", "Max steps"),
                            text_field("max_tokens", "Max tokens"),
                            text_field("max_cost_usd", "Max cost (USD)", "empty: no cost limit"),
                            text_field(
                                "timeout_seconds", "Timeout (s)", "waiting for people excluded"
                            ),
                            text_field("approval_timeout_seconds", "Approval timeout (s)"),
                            columns="5",
                            spacing="3",
                            width="100%",
                            margin_top="8px",
                        ),
                    ),
                    card(
                        section_title("Notes and metadata"),
                        rx.grid(
                            area_field("notes", "Notes (not part of the hash)", "4", code=False),
                            area_field("metadata", "Metadata (JSON)", "4"),
                            columns="2",
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
                        rx.button(
                            rx.icon("upload", size=14),
                            "Publish version",
                            on_click=EditorState.publish,
                            loading=EditorState.publishing,
                            size="3",
                            id="publish-version-bottom",
                        ),
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )


# The diff ----------------------------------------------------------------------------------------
class DiffState(SessionState):
    agent_id: rx.Field[str] = rx.field("")
    agent_name: rx.Field[str] = rx.field("")
    numbers: rx.Field[list[str]] = rx.field(default_factory=list)
    left: rx.Field[str] = rx.field("")
    right: rx.Field[str] = rx.field("")
    rows: rx.Field[list[DiffRow]] = rx.field(default_factory=list)
    changes: rx.Field[int] = rx.field(0)
    loaded: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    _versions: rx.Field[dict[str, dict[str, Any]]] = rx.field(default_factory=dict)

    @rx.event
    async def load(self) -> Any:
        self.agent_id = path_part(self.router.url.path, 1)
        self.loaded, self.error = False, ""
        self.failed = False
        yield
        try:
            client = await self._client()
            agent = await self._api(client.get_agent, self.agent_id)
            versions = await self._api(client.list_versions, self.agent_id)
        except Exception as exc:
            self.failed = True
            self.error, redirect = self._trouble(exc)
            self.loaded = True
            if redirect is not None:
                yield redirect
            return
        self.agent_name = agent["name"]
        self._versions = {str(v["number"]): v for v in versions}
        self.numbers = sorted(self._versions, key=int)
        query = self.router.url.query_parameters
        right = query.get("right") or (self.numbers[-1] if self.numbers else "")
        default_left = str(int(right) - 1) if right.isdigit() and int(right) > 1 else ""
        left = query.get("left") or default_left or (self.numbers[0] if self.numbers else "")
        self.left, self.right = left, right
        self._compare()
        self.loaded = True

    def _compare(self) -> None:
        a, b = self._versions.get(self.left), self._versions.get(self.right)
        self.rows = diff_rows(a, b) if a and b else []
        self.changes = sum(1 for row in self.rows if row.kind != "equal")

    @rx.event
    def set_left(self, value: str) -> None:
        self.left = value
        self._compare()

    @rx.event
    def set_right(self, value: str) -> None:
        self.right = value
        self._compare()


def diff_line(row: DiffRow) -> rx.Component:
    left_bg = rx.match(
        row.kind, ("removed", rx.color("red", 3)), ("changed", rx.color("amber", 3)), "transparent"
    )
    right_bg = rx.match(
        row.kind, ("added", rx.color("green", 3)), ("changed", rx.color("amber", 3)), "transparent"
    )
    number = {
        "color": rx.color("gray", 9),
        "width": "36px",
        "text_align": "right",
        "padding": "0 8px",
    }
    text = {"white_space": "pre-wrap", "word_break": "break-word", "padding": "0 8px"}
    return rx.el.tr(
        rx.el.td(row.left_number, style=number),
        rx.el.td(row.left, style={**text, "background": left_bg}),
        rx.el.td(
            row.right_number, style={**number, "border_left": f"1px solid {rx.color('gray', 5)}"}
        ),
        rx.el.td(row.right, style={**text, "background": right_bg}),
        class_name=f"diff-{row.kind}",
    )


def diff_page() -> rx.Component:
    base = f"/agents/{DiffState.agent_id}"
    return shell(
        page_header(
            "Compare versions",
            rx.text(DiffState.changes, " changed lines"),
            breadcrumbs=crumbs(
                ("Agents", "/agents"),
                (DiffState.agent_name, base),
                ("Compare", None),
            ),
        ),
        error_callout(DiffState.error),
        rx.cond(
            ~DiffState.loaded,
            loading(),
            rx.cond(
                DiffState.failed,
                rx.fragment(),
                rx.cond(
                    DiffState.numbers.length() > 0,
                    rx.vstack(
                        rx.hstack(
                            rx.hstack(
                                rx.text("Left", weight="medium", size="2"),
                                rx.select(
                                    DiffState.numbers,
                                    value=DiffState.left,
                                    on_change=DiffState.set_left,
                                    id="diff-left",
                                ),
                                align="center",
                            ),
                            rx.icon("arrow-right", size=16),
                            rx.hstack(
                                rx.text("Right", weight="medium", size="2"),
                                rx.select(
                                    DiffState.numbers,
                                    value=DiffState.right,
                                    on_change=DiffState.set_right,
                                    id="diff-right",
                                ),
                                align="center",
                            ),
                            align="center",
                            spacing="4",
                        ),
                        rx.box(
                            rx.el.table(
                                rx.el.colgroup(
                                    rx.el.col(style={"width": "44px"}),
                                    rx.el.col(),
                                    rx.el.col(style={"width": "44px"}),
                                    rx.el.col(),
                                ),
                                rx.el.tbody(rx.foreach(DiffState.rows, diff_line)),
                                style={
                                    "width": "100%",
                                    "border_collapse": "collapse",
                                    "font_family": "var(--code-font-family)",
                                    "font_size": "12px",
                                    "line_height": "1.6",
                                    "table_layout": "fixed",
                                },
                            ),
                            width="100%",
                            border=f"1px solid {rx.color('gray', 5)}",
                            border_radius="8px",
                            overflow="hidden",
                            background=rx.color("gray", 1),
                            id="diff-table",
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    empty_state("git-compare", "No versions to compare", "Publish two versions."),
                ),
            ),
        ),
    )
