"""Form pieces: a labelled control, a field's error, text fields that show theirs, a form's
Cancel and submit buttons, the rename-an-agent dialog, a provider's parameters documented, and
the first-visit guide."""

from typing import Any

import reflex as rx

from app import api
from app.components.widgets import card, error_callout, refusable, section_title
from app.editor import ParameterHelp
from app.state import Failure


def field_error(message: Any, **props: Any) -> rx.Component:
    return rx.cond(
        message != "",
        rx.text(
            rx.icon("circle-alert", size=12, display="inline", margin_right="4px"),
            message,
            color_scheme="red",
            size="1",
            **props,
        ),
    )


def with_error(control: rx.Component, error: Any, **error_props: Any) -> rx.Component:
    """`control` with its field's error (`field_error`) below it."""
    return rx.vstack(control, field_error(error, **error_props), spacing="1", width="100%")


def form_actions(on_cancel: Any, submit: rx.Component) -> rx.Component:
    """A form's last line: "Cancel" (`on_cancel`), then `submit`, at the right."""
    return rx.hstack(
        rx.button("Cancel", variant="soft", color_scheme="gray", on_click=on_cancel),
        submit,
        justify="end",
        width="100%",
    )


def new_form(state: Any, thing: str, icon: str, *fields: rx.Component) -> rx.Component:
    """A list page's "New `thing`" form in a card (`#<thing>-form`): its `fields`, the error the
    API gave (`state.new_error`, `#new-<thing>-error`), Cancel (closes it) and "Create `thing`"
    (`#create-<thing>`, `state.create`)."""
    return card(
        rx.vstack(
            section_title(f"New {thing}"),
            *fields,
            error_callout(state.new_error, id=f"new-{thing}-error"),
            form_actions(
                state.set_form_open(False),
                rx.button(
                    rx.icon(icon, size=14),
                    f"Create {thing}",
                    on_click=state.create,
                    loading=state.creating,
                    id=f"create-{thing}",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        id=f"{thing}-form",
    )


def open_form_button(state: Any, label: str, reason: str, **props: Any) -> rx.Component:
    """The header's "New …" button: it opens `state`'s form (`form_open`, `set_form_open`), for
    whom `state.may_write` allows (`reason` says who may)."""
    return refusable(
        state.may_write,
        reason,
        lambda refused: rx.button(
            rx.icon("plus", size=16),
            label,
            on_click=state.set_form_open(True),
            disabled=True if refused else state.form_open,
            **props,
        ),
    )


def labelled(label: str, control: rx.Component, hint: str = "", **props: Any) -> rx.Component:
    props.setdefault("width", "100%")
    return rx.vstack(
        rx.text(label, size="2", weight="medium") if label else rx.fragment(),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        spacing="1",
        **props,
    )


def text_field(
    label: str,
    value: Any,
    on_change: Any,
    error: Any,
    *,
    control_id: str,
    error_id: str,
    hint: str = "",
    **props: Any,
) -> rx.Component:
    """A one-line input, red with its error below it while it has one."""
    return labelled(
        label,
        with_error(
            rx.input(
                value=value,
                on_change=on_change,
                width="100%",
                color_scheme=rx.cond(error != "", "red", "gray"),
                id=control_id,
                **props,
            ),
            error,
            id=error_id,
        ),
        hint,
    )


def area_field(
    label: str,
    value: Any,
    on_change: Any,
    error: Any,
    *,
    control_id: str,
    error_id: str,
    rows: str = "6",
    code: bool = True,
) -> rx.Component:
    """A text area (in the code font for JSON), with its error below it."""
    return labelled(
        label,
        with_error(
            rx.text_area(
                value=value,
                on_change=on_change,
                rows=rows,
                width="100%",
                font_family="var(--code-font-family)" if code else None,
                font_size="13px",
                id=control_id,
            ),
            error,
            id=error_id,
        ),
    )


class AgentRenameDrafts(rx.State, mixin=True):
    """The rename dialog's drafts, mixed into the state of each page that shows it."""

    edit_open: rx.Field[bool] = rx.field(False)
    edit_id: rx.Field[str] = rx.field("")
    edit_name: rx.Field[str] = rx.field("")
    edit_description: rx.Field[str] = rx.field("")
    edit_error: rx.Field[str] = rx.field("")

    @rx.event
    def set_edit_open(self, value: bool) -> None:
        self.edit_open = value

    @rx.event
    def set_edit_name(self, value: str) -> None:
        self.edit_name = value

    @rx.event
    def set_edit_description(self, value: str) -> None:
        self.edit_description = value


async def save_rename(state: Any) -> Any:
    """Send the dialog's name and description for agent `state.edit_id`: the saved agent (the
    dialog closes), or a Failure (its message shown in the dialog)."""
    agent_id, name, description = (
        state.edit_id,
        state.edit_name.strip(),
        state.edit_description.strip(),
    )
    saved = await state._attempt(
        lambda client: state._api(client.update_agent, agent_id, name=name, description=description)
    )
    if isinstance(saved, Failure):
        state.edit_error = saved.message
    else:
        state.edit_open = False
    return saved


def rename_agent_dialog(state: Any) -> rx.Component:
    """Rename an agent or change its description; `state` holds the `edit_*` fields."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename agent"),
            rx.vstack(
                labelled(
                    "Name",
                    rx.input(
                        value=state.edit_name,
                        on_change=state.set_edit_name,
                        width="100%",
                        id="rename-agent-name",
                    ),
                ),
                labelled(
                    "Description",
                    rx.text_area(
                        value=state.edit_description,
                        on_change=state.set_edit_description,
                        width="100%",
                    ),
                ),
                field_error(state.edit_error),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save", on_click=state.save_edit, id="rename-agent-submit"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="12px",
            ),
            max_width="480px",
        ),
        open=state.edit_open,
        on_open_change=state.set_edit_open,
    )


# Where the browser remembers that the getting-started guide was dismissed (`rx.LocalStorage`).
GUIDE_STORAGE_KEY = "ar_guide_dismissed"


class FirstVisitGuide(rx.State, mixin=True):
    """Whether the first-visit guide shows: until dismissed in this browser, while the tenant
    has no runs (the page's load sets `tenant_has_runs`)."""

    guide_dismissed: str = rx.LocalStorage("", name=GUIDE_STORAGE_KEY, sync=True)
    tenant_has_runs: rx.Field[bool] = rx.field(True)

    @rx.var
    def docs_url(self) -> str:
        return f"{api.api_url()}/docs"

    @rx.var
    def show_guide(self) -> bool:
        return not self.guide_dismissed and not self.tenant_has_runs

    @rx.event
    def dismiss_guide(self) -> None:
        self.guide_dismissed = "1"


def getting_started(on_dismiss: Any, docs_url: Any, demo_href: Any, **props: Any) -> rx.Component:
    """A short guide for someone new: what agents and versions are, and a run to try first
    (`demo_href`: the demo agent's page; empty where the tenant has no demo agent)."""
    return rx.callout.root(
        rx.flex(
            rx.vstack(
                rx.text("Getting started", weight="bold"),
                rx.text(
                    "An agent is a named assistant. A version pins what it runs: the model, "
                    "the system prompt, its tools and limits. Versions never change; publish a "
                    "new one to change the agent, and start runs of any version.",
                    size="2",
                ),
                rx.cond(
                    demo_href != "",
                    rx.text(
                        "Try it: the demo-calculator agent needs no API key. "
                        "Open it and press Start run.",
                        size="2",
                    ),
                    rx.text(
                        "Try it without an API key: publish a version whose model provider is "
                        "`scripted` (its parameters say what it answers), then start a run.",
                        size="2",
                    ),
                ),
                rx.hstack(
                    rx.cond(
                        demo_href != "",
                        rx.link(
                            "Open demo-calculator", href=demo_href, size="2", id="guide-demo-link"
                        ),
                    ),
                    rx.link(
                        "The API reference (/docs)",
                        href=docs_url,
                        is_external=True,
                        size="2",
                        id="guide-docs-link",
                    ),
                    spacing="4",
                    wrap="wrap",
                ),
                spacing="2",
                flex="1",
                min_width="0",
            ),
            rx.icon_button(
                rx.icon("x", size=14),
                variant="ghost",
                color_scheme="gray",
                on_click=on_dismiss,
                title="Dismiss",
                aria_label="Dismiss the guide",
                id="dismiss-guide",
            ),
            spacing="3",
            width="100%",
            align="start",
        ),
        color_scheme="blue",
        width="100%",
        id="getting-started",
        **props,
    )


def parameter_help_panel(provider: Any, rows: Any) -> rx.Component:
    """What `provider`'s `model.parameters` may hold: `rows`, from the API's schema of them."""

    def option(row: ParameterHelp) -> rx.Component:
        return rx.box(
            rx.hstack(
                rx.code(row.name, size="1", weight="bold"),
                rx.text(row.type, size="1", color_scheme="gray"),
                rx.cond(
                    row.default != "",
                    rx.text("default ", rx.code(row.default, size="1"), size="1"),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.text(row.description, size="1", color_scheme="gray"),
            class_name="parameter-help-row",
            width="100%",
        )

    return rx.vstack(
        rx.text("Parameters of ", rx.code(provider), size="2", weight="medium"),
        rx.cond(
            rows.length() > 0,
            rx.vstack(
                rx.foreach(rows, option),
                spacing="2",
                width="100%",
                max_height="260px",
                overflow_y="auto",
            ),
            rx.text("This provider takes no parameters.", size="1", color_scheme="gray"),
        ),
        spacing="2",
        width="100%",
        min_width="0",
        id="parameter-help",
    )
