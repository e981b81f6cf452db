"""`AgentRunner`: pick an agent and a version, run it, watch it live, decide its approvals.

How updates reach the widgets: a background thread follows the run's events (SSE, through
`AgentRuntimeClient.follow_events`) and folds each into a `RunState` (`client.run_state`). Every
read and write of that state and every widget trait write, from the thread or from a button
handler on the kernel's thread, happens under one lock, so a redraw never sees half an event. The
trait writes become comm messages that ipykernel sends through its IOPub thread, which accepts
them from any thread. The Output widget is filled through its `outputs` trait
(`append_display_data`), never `with out:`, which captures by the kernel's current request and so
only works on the kernel's own thread.
`wait()` and `wait_for_approval()` block on a condition of the same lock until the thread has
seen what they wait for.
"""

import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]
from IPython.display import Markdown

from client.api import AgentRuntimeClient
from client.run_state import (
    APPROVAL,
    EVERYTHING,
    OUTCOME,
    STATUS,
    STEPS,
    TEXT,
    Approval,
    Event,
    RunState,
)
from notebooks.agents import LATEST, resolve_agent
from notebooks.render import (
    approval_html,
    message_html,
    outcome_markdown,
    status_html,
    steps_html,
    text_html,
)

HIDDEN, SHOWN = "none", ""


def approval_request(approval: Approval) -> dict[str, Any]:
    """A pending approval as `approval.requested` tells of it."""
    return {
        "approval_id": approval.id,
        "run_id": approval.run_id,
        "seq": approval.seq,
        "tool_name": approval.tool_name,
        "arguments": dict(approval.arguments),
        "expires_at": approval.expires_at,
    }


class AgentRunner:
    """A widget that runs an agent (an id or a name; the first agent if None) and shows it live.

    The client defaults to AGENT_RUNTIME_URL and AGENT_RUNTIME_TOKEN. Display it as the last
    expression of a cell; drive it with the buttons or with `run`, `approve`, `reject`, `cancel`
    and `wait`.
    """

    def __init__(
        self,
        agent: str | None = None,
        *,
        base_url: str | None = None,
        token: str | None = None,
        client: AgentRuntimeClient | None = None,
    ) -> None:
        self._client = client or AgentRuntimeClient(base_url, token)
        self._owns_client = client is None
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._state = RunState()
        self._run_id: str | None = None
        self._failure: Exception | None = None
        self._build_widgets()
        self.refresh_agents(select=agent)

    # Widgets
    def _build_widgets(self) -> None:
        wide = widgets.Layout(width="100%")
        self.url_box = widgets.Text(value=str(self._client.http.base_url), description="API")
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
        self.steps_view = widgets.HTML(steps_html([]))
        self.text_view = widgets.HTML()
        self.approval_view = widgets.HTML()
        self.comment_box = widgets.Text(placeholder="Comment (a rejection's reaches the model)")
        self.approve_button = widgets.Button(description="Approve", button_style="success")
        self.reject_button = widgets.Button(description="Reject", button_style="danger")
        self.approval_box = widgets.VBox(
            [
                self.approval_view,
                widgets.HBox([self.comment_box, self.approve_button, self.reject_button]),
            ],
            layout=widgets.Layout(display=HIDDEN, border="1px solid #d4a72c", padding="4px"),
        )
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
                self.output_view,
            ]
        )
        self.agent_picker.observe(lambda _change: self._report(self.refresh_versions), "value")
        self.connect_button.on_click(lambda _b: self._report(self.connect))
        self.run_button.on_click(lambda _b: self._report(lambda: self.run(self.input_box.value)))
        self.cancel_button.on_click(lambda _b: self._report(self.cancel))
        self.approve_button.on_click(
            lambda _b: self._report(lambda: self.approve(self.comment_box.value or None))
        )
        self.reject_button.on_click(
            lambda _b: self._report(lambda: self.reject(self.comment_box.value))
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _report(self, action: Callable[[], object]) -> None:
        """Button handlers show a failure in the widget: nobody would see it raised."""
        try:
            action()
        except Exception as exc:
            self._say(f"{type(exc).__name__}: {exc}", error=True)

    def _say(self, message: str, error: bool = False) -> None:
        with self._lock:
            self.message_view.value = message_html(message, error)

    # Connection, agents and versions
    def connect(self, base_url: str | None = None, token: str | None = None) -> None:
        """Use another API (the URL and token boxes by default) and reload its agents."""
        if self._active():
            raise RuntimeError("a run is in progress: cancel() or wait() first")
        if self._owns_client:
            self._client.close()
        token = token or self.token_box.value or None
        self.token_box.value = ""  # widget state is saved into the notebook: no token there
        self._client = AgentRuntimeClient(base_url or self.url_box.value, token)
        self._owns_client = True
        self.url_box.value = str(self._client.http.base_url)
        self.refresh_agents()
        self._say(f"connected to {self._client.http.base_url}")

    def refresh_agents(self, select: str | None = None) -> None:
        agents = self._client.list_agents()
        options = [(agent["name"], agent["id"]) for agent in agents]
        chosen = resolve_agent(self._client, select) if select else None
        if chosen is not None and chosen["id"] not in {value for _, value in options}:
            options.append((chosen["name"], chosen["id"]))
        self.agent_picker.options = options
        self.agent_picker.value = chosen["id"] if chosen else (options[0][1] if options else None)
        self.refresh_versions()

    def refresh_versions(self) -> None:
        """The picked agent's versions, newest first, after "latest" (the default)."""
        agent_id = self.agent_picker.value
        numbers = [v["number"] for v in self._client.list_versions(agent_id)] if agent_id else []
        options: list[tuple[str, int | str]] = []
        if numbers:
            options = [(f"latest (v{max(numbers)})", LATEST)]
            options += [(f"v{number}", number) for number in sorted(numbers, reverse=True)]
        self.version_picker.options = options
        self.version_picker.value = LATEST if numbers else None

    # Running
    def run(self, input: str, version: int | str | None = None, wait: bool = False) -> Any:
        """Start a run of the picked agent (the picked version unless given) and follow it.

        Returns the new run, or with `wait=True` its outcome (see `wait`).
        """
        agent_id = self.agent_picker.value
        if agent_id is None:
            raise RuntimeError("no agent picked")
        if self._active():
            raise RuntimeError(f"run {self._run_id} is in progress: cancel() or wait() first")
        chosen = version if version is not None else (self.version_picker.value or LATEST)
        run = self._client.start_run(agent_id, input, version=chosen)
        with self._lock:
            self.input_box.value = input
            self._state = RunState(keep_events=True)
            self._state.seed(run=run)
            self._run_id = run["id"]
            self._failure = None
            self._say("")
            self._render(self._state, EVERYTHING)
            threading.Thread(
                target=self._follow, args=(run["id"], self._state), name="agent-runner", daemon=True
            ).start()
        return self.wait() if wait else run

    def _follow(self, run_id: str, state: RunState) -> None:
        try:
            for event in self._client.follow_events(run_id):
                self._apply(state, event)
            if not state.finished:
                self._seed(state, self._ended_run(run_id))
        except Exception as exc:  # kept for `wait()` to raise: a thread's exception would vanish
            with self._lock:
                if state is self._state:
                    self._failure = exc
                    self.message_view.value = message_html(f"lost the run's events: {exc}", True)
                    self._sync_buttons()
                self._changed.notify_all()

    def _ended_run(self, run_id: str) -> dict[str, Any]:
        """The run itself, for a stream that closed before sending `run.completed`."""
        run = self._client.get_run(run_id)
        if run["status"] not in self._client.run_endings():
            raise RuntimeError(f"the event stream closed while the run is {run['status']}")
        return run

    def _apply(self, state: RunState, event: Event) -> None:
        with self._lock:
            changed = state.apply(event).parts
            if state is self._state:  # a newer run's widgets are not this stream's to draw
                self._render(state, changed)
            self._changed.notify_all()

    def _seed(self, state: RunState, run: dict[str, Any]) -> None:
        with self._lock:
            state.seed(run=run)
            if state is self._state:
                self._render(state, EVERYTHING)
            self._changed.notify_all()

    def _render(self, state: RunState, changed: set[str] | frozenset[str]) -> None:
        if STATUS in changed:
            self.status_view.value = status_html(state.status, self._run_id)
        if STEPS in changed:
            self.steps_view.value = steps_html(state.step_list())
        if TEXT in changed:
            self.text_view.value = text_html(state.text)
        if APPROVAL in changed:
            pending = state.pending_approval
            self.approval_view.value = approval_html(pending) if pending else ""
            self.approval_box.layout.display = SHOWN if pending else HIDDEN
        if OUTCOME in changed:
            self.output_view.outputs = ()
            if state.finished:
                answer = Markdown(outcome_markdown(state.outcome()))  # type: ignore[no-untyped-call]
                self.output_view.append_display_data(answer)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        active = self._active()
        self.run_button.disabled = active
        self.cancel_button.disabled = not active

    def _active(self) -> bool:
        with self._lock:
            return self._run_id is not None and not self._state.finished and not self._failure

    def wait(self, timeout: float = 300.0) -> dict[str, Any]:
        """Block until the run has ended; its id, status, output, error, usage and cost."""
        with self._changed:
            if self._run_id is None:
                raise RuntimeError("no run yet")
            ended = self._changed.wait_for(
                lambda: self._state.finished or self._failure is not None, timeout
            )
            if self._failure is not None:
                raise self._failure
            if not ended or not self._state.finished:
                raise TimeoutError(f"run {self._run_id} is still {self._state.status}")
            return {**self._state.outcome(), "run_id": self._run_id}

    def wait_for_approval(self, timeout: float = 60.0) -> Event:
        """Block until the run asks for an approval; that request."""
        with self._changed:
            self._changed.wait_for(
                lambda: (
                    self._state.pending_approval is not None
                    or self._state.finished
                    or self._failure is not None
                ),
                timeout,
            )
            pending = self._state.pending_approval
            if pending is not None:
                return approval_request(pending)
            if self._failure is not None:
                raise self._failure
            raise TimeoutError(f"run {self._run_id} is {self._state.status}, with no approval")

    # Deciding and cancelling
    def approve(
        self, comment: str | None = None, arguments: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Approve the pending tool call (with edited `arguments` if given)."""
        return self._decide("approve", comment, arguments)

    def reject(self, comment: str) -> dict[str, Any]:
        """Reject the pending tool call; the model reads `comment` as the tool's result."""
        return self._decide("reject", comment, None)

    def _decide(
        self, decision: str, comment: str | None, arguments: dict[str, Any] | None
    ) -> dict[str, Any]:
        with self._lock:
            pending, run_id, state = self._state.pending_approval, self._run_id, self._state
        if pending is None or run_id is None:
            raise RuntimeError("no approval is pending")
        decided = self._client.decide_approval(run_id, pending.id, decision, comment, arguments)
        with self._lock:
            # Hide the buttons now rather than when approval.decided arrives: no second click.
            state.seed(approvals=[decided])
            if state is self._state:
                self._render(state, {APPROVAL})
                self.comment_box.value = ""
        self._say(f"{decided['status']}: {pending.tool_name}")
        return decided

    def cancel(self) -> dict[str, Any]:
        """Ask the run to stop; it ends `cancelled` once the running step notices."""
        if self._run_id is None:
            raise RuntimeError("no run yet")
        run = self._client.cancel_run(self._run_id)
        self._say(f"cancel requested ({run['status']})")
        return run

    def close(self) -> None:
        """Close the widget, and the client if the runner made it."""
        self.widget.close()
        if self._owns_client:
            self._client.close()

    # For programs and tests
    @property
    def client(self) -> AgentRuntimeClient:
        return self._client

    @property
    def run_id(self) -> str | None:
        return self._run_id

    @property
    def status(self) -> str | None:
        with self._lock:
            return self._state.status if self._run_id else None

    @property
    def steps(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(step) for step in self._state.step_list()]

    @property
    def text(self) -> str:
        with self._lock:
            return self._state.text

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._state.events)

    @property
    def pending_approval(self) -> Event | None:
        with self._lock:
            pending = self._state.pending_approval
            return approval_request(pending) if pending else None

    @property
    def output(self) -> Any:
        """The run's output once it has ended, else None."""
        with self._lock:
            return self._state.output if self._state.finished else None
