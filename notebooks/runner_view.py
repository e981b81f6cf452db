"""The runner's widgets, and how a run's state is drawn in them.

`AgentRunner` (notebooks/runner.py) builds on this and calls it holding its lock: drawing here
reads the state and writes traits, nothing else.
"""

import ipywidgets as widgets  # type: ignore[import-untyped]

from client.run_state import APPROVAL, OUTCOME, STATUS, STEPS, TEXT, RunState
from notebooks.render import (
    answer,
    approval_html,
    decisions_html,
    message_html,
    status_html,
    steps_html,
    text_html,
)

HIDDEN, SHOWN = "none", ""


class RunnerWidgets:
    """Connection, agent and version pickers, input, Run and Cancel; the run's status, steps,
    streamed text, pending approval with Approve and Reject, settled approvals, outcome."""

    def __init__(self, base_url: str) -> None:
        wide = widgets.Layout(width="100%")
        self.url_box = widgets.Text(value=base_url, description="API")
        # The token is never put in a widget: widget state is saved into the notebook file.
        self.token_box = widgets.Password(description="Token", placeholder="AGENT_RUNTIME_TOKEN")
        self.connect_button = widgets.Button(description="Connect")
        self.agent_picker = widgets.Dropdown(description="Agent", options=[])
        self.version_picker = widgets.Dropdown(description="Version", options=[])
        self.input_box = widgets.Textarea(placeholder="Input for the agent", layout=wide)
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.cancel_button = widgets.Button(
            description="Cancel", button_style="warning", icon="stop", disabled=True
        )
        self.status_view = widgets.HTML(status_html("", None))
        self.message_view = widgets.HTML()
        self._message_is_error = False
        self.steps_view = widgets.HTML(steps_html([]))
        # The answer as it streams in; hidden once the outcome shows it rendered.
        self.text_view = widgets.HTML(layout=widgets.Layout(display=HIDDEN))
        self.approval_view = widgets.HTML()
        self.comment_box = widgets.Text(
            placeholder="Comment (optional); on Reject, the model reads it as the reason",
            layout=widgets.Layout(flex="1 1 auto", min_width="24em"),
        )
        self.approve_button = widgets.Button(description="Approve", button_style="success")
        self.reject_button = widgets.Button(description="Reject", button_style="danger")
        self.approval_box = widgets.VBox(
            [
                self.approval_view,
                widgets.HBox([self.comment_box, self.approve_button, self.reject_button]),
            ],
            layout=widgets.Layout(display=HIDDEN, border="1px solid #d4a72c", padding="4px"),
        )
        self.decisions_view = widgets.HTML()
        self.output_view = widgets.Output()
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.url_box, self.token_box, self.connect_button]),
                widgets.HBox([self.agent_picker, self.version_picker]),
                self.input_box,
                widgets.HBox([self.run_button, self.cancel_button, self.status_view]),
                self.message_view,
                self.steps_view,
                self.text_view,
                self.approval_box,
                self.decisions_view,
                self.output_view,
            ]
        )

    def _show_message(self, message: str, error: bool = False) -> None:
        self.message_view.value = message_html(message, error) if message else ""
        self._message_is_error = error

    def _draw(
        self, state: RunState, changed: set[str] | frozenset[str], run_id: str | None
    ) -> None:
        """Redraw the parts of the view that `changed` names."""
        if STATUS in changed:
            self.status_view.value = status_html(state.status, run_id)
        if STEPS in changed:
            self.steps_view.value = steps_html(state.step_list())
        if TEXT in changed:
            self.text_view.value = text_html(state.text)
        if APPROVAL in changed:
            pending = state.pending_approval
            self.approval_view.value = approval_html(pending) if pending else ""
            self.approval_box.layout.display = SHOWN if pending else HIDDEN
            self.decisions_view.value = decisions_html(state.approvals.values())
        if OUTCOME in changed:
            self.output_view.outputs = ()
            if state.finished:
                self.output_view.append_display_data(answer(state.outcome()))
                if not self._message_is_error:
                    self._show_message("")  # "cancel requested" and the like: the outcome tells
        if TEXT in changed or OUTCOME in changed:
            # The outcome shows the answer rendered: the same text streamed above it would show
            # it twice. Without an answer (a failure, a cancel), what streamed stays.
            answered = state.finished and state.output is not None
            self.text_view.layout.display = HIDDEN if answered or not state.text else SHOWN

    def _sync_buttons(self, active: bool, status: str) -> None:
        self.run_button.disabled = active
        self.cancel_button.disabled = not active or status == "cancelling"
