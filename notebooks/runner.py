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
seen what they wait for. While an approval is pending, another thread redraws it now and then,
so its "expires in 4 min" counts down.
"""

import threading
from dataclasses import asdict
from typing import Any

import httpx

from client.api import AgentRuntimeClient, ApiError
from client.run_state import APPROVAL, EVERYTHING, Approval, Change, Event, RunState
from notebooks.agents import LATEST, resolve_agent
from notebooks.runner_view import RunnerWidgets
from notebooks.shown_widget import ShownWidget

EXPIRY_REDRAW_SECONDS = 20.0  # how often a pending approval's "expires in 4 min" is redrawn


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


class AgentRunner(RunnerWidgets, ShownWidget):
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
        self._closed = threading.Event()
        self._expiry_clock: threading.Thread | None = None
        super().__init__(str(self._client.http.base_url))
        self._wire()
        self.refresh_agents(select=agent)

    def _wire(self) -> None:
        self.agent_picker.observe(lambda _change: self._report(self.refresh_versions), "value")
        self.connect_button.on_click(lambda _b: self._report(self.connect))
        self.run_button.on_click(lambda _b: self._report(lambda: self.run(self.input_box.value)))
        self.cancel_button.on_click(lambda _b: self._report(self.cancel))
        self.approve_button.on_click(
            lambda _b: self._report(lambda: self.approve(self.comment_box.value or None))
        )
        self.reject_button.on_click(
            lambda _b: self._report(lambda: self.reject(self.comment_box.value or None))
        )

    def _say(self, message: str, error: bool = False) -> None:
        with self._lock:
            self._show_message(message, error)

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
                change = self._apply(state, event)
                if change.approval is not None and change.approval.status == "pending":
                    self._keep_expiry_current(state)
                elif change.approval is not None:
                    self._read_decision(state, change.approval)
            if not state.finished:
                self._seed(state, self._ended_run(run_id))
        except Exception as exc:  # kept for `wait()` to raise: a thread's exception would vanish
            with self._lock:
                if state is self._state:
                    self._failure = exc
                    self._say(f"lost the run's events: {exc}", error=True)
                    self._sync_buttons(self._active(), state.status)
                self._changed.notify_all()

    def _ended_run(self, run_id: str) -> dict[str, Any]:
        """The run itself, for a stream that closed before sending `run.completed`."""
        run = self._client.get_run(run_id)
        if run["status"] not in self._client.run_endings():
            raise RuntimeError(f"the event stream closed while the run is {run['status']}")
        return run

    def _apply(self, state: RunState, event: Event) -> Change:
        with self._lock:
            change = state.apply(event)
            if state is self._state:  # a newer run's widgets are not this stream's to draw
                self._render(state, change.parts)
            self._changed.notify_all()
            return change

    def _read_decision(self, state: RunState, approval: Approval) -> None:
        """The settled approval's REST record, for what its event lacks: the decider's name."""
        if approval.record_is_current:
            return  # decided here: the answer to the decision is the record
        try:
            records = self._client.list_approvals(run_id=state.run_id)
        except (ApiError, httpx.HTTPError):
            return  # the event's subject is shown instead: no reason to stop following
        with self._lock:
            state.seed(approvals=[r for r in records if r["id"] == approval.id])
            if state is self._state:
                self._render(state, {APPROVAL})

    def _keep_expiry_current(self, state: RunState) -> None:
        """Redraw the pending approval now and then, so its "expires in 4 min" counts down."""

        def redraw() -> None:
            while not self._closed.wait(EXPIRY_REDRAW_SECONDS):
                with self._lock:
                    if state is not self._state or state.pending_approval is None:
                        return
                    self._render(state, {APPROVAL})

        with self._lock:
            if self._expiry_clock is None or not self._expiry_clock.is_alive():
                self._expiry_clock = threading.Thread(target=redraw, name="expiry", daemon=True)
                self._expiry_clock.start()

    def _seed(self, state: RunState, run: dict[str, Any]) -> None:
        with self._lock:
            state.seed(run=run)
            if state is self._state:
                self._render(state, EVERYTHING)
            self._changed.notify_all()

    def _render(self, state: RunState, changed: set[str] | frozenset[str]) -> None:
        self._draw(state, changed, self._run_id)
        self._sync_buttons(self._active(), state.status)

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

    def reject(self, comment: str | None = None) -> dict[str, Any]:
        """Reject the pending tool call; the model reads `comment` as the reason."""
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
        self._say("")  # the settled approvals show the decision; an earlier error is over
        return decided

    def cancel(self) -> dict[str, Any]:
        """Ask the run to stop; it ends `cancelled` once the running step notices."""
        with self._lock:
            run_id, state = self._run_id, self._state
        if run_id is None:
            raise RuntimeError("no run yet")
        run = self._client.cancel_run(run_id)
        with self._lock:
            # The run may have ended meanwhile: then its outcome says so.
            if state is self._state and self._active():
                self._say("cancel requested: the run stops once its running step notices")
        self._seed(state, run)  # `cancelling` at once: no second click on Cancel
        return run

    def close(self) -> None:
        """Close the widget, and the client if the runner made it."""
        self._closed.set()
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
