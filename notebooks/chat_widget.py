"""`ChatWidget`: a conversation with an agent, kept as a thread; each message sent is a run.

The run is followed as `AgentRunner` follows one (notebooks/runner.py): a background thread folds
its events into a `RunState` (`client.run_state`), and every read and write of that state and
every widget trait write happens under one lock. The answer streams in as `model.delta` events
arrive; once the run has ended, the thread's state is read again and the recorded conversation
replaces what was streamed.
"""

import threading
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from client.api import AgentRuntimeClient
from client.run_state import APPROVAL, EVERYTHING, Event, RunState
from notebooks.agents import LATEST, resolve_agent
from notebooks.chat_render import conversation_html, live_turn_html, thread_html
from notebooks.render import approval_html, decisions_html, message_html
from notebooks.runner import EXPIRY_REDRAW_SECONDS, approval_request
from notebooks.shown_widget import ShownWidget

HIDDEN, SHOWN = "none", ""


def _version(version: int | str) -> int | str:
    """The API takes a number or "latest"; "3" typed as text means version 3."""
    return int(version) if isinstance(version, str) and version.isdigit() else version


class ChatWidget(ShownWidget):
    """A chat with `agent` (an id or a name) on a thread: `thread_id` continues one; without it a
    thread is created with the first message (metadata `{"agent": <name>}`).

    The client defaults to AGENT_RUNTIME_URL and AGENT_RUNTIME_TOKEN. Display it as the last
    expression of a cell; drive it with the buttons, or with `send`, `approve`, `reject`,
    `cancel`, `wait` and `new_thread`.
    """

    def __init__(
        self,
        agent: str,
        version: int | str = LATEST,
        thread_id: str | None = None,
        client: AgentRuntimeClient | None = None,
    ) -> None:
        self._client = client or AgentRuntimeClient()
        self._owns_client = client is None
        self._agent = resolve_agent(self._client, agent)
        self.version = _version(version)
        self.thread_id = self._client.get_thread(thread_id)["id"] if thread_id else None
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._state: RunState | None = None  # the latest turn's run
        self._sent = ""  # what that turn said
        self._turn_over = True  # its run ended and the conversation was read again
        self._failure: Exception | None = None
        self._finished_run: dict[str, Any] | None = None
        self._recorded: list[dict[str, Any]] = []
        self._closed = threading.Event()
        self._build()
        self._wire()
        self._refresh_conversation()

    def _build(self) -> None:
        wide = widgets.Layout(width="100%")
        self.thread_view = widgets.HTML()
        self.new_thread_button = widgets.Button(description="New thread", icon="plus")
        self.conversation_view = widgets.HTML(layout=wide)
        # The turn under way: replaced by the recorded conversation once its run has ended.
        self.live_view = widgets.HTML(layout=widgets.Layout(display=HIDDEN, width="100%"))
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
        self.message_view = widgets.HTML()
        self.input_box = widgets.Textarea(placeholder="Your message", layout=wide, rows=2)
        self.send_button = widgets.Button(description="Send", button_style="primary", icon="send")
        self.cancel_button = widgets.Button(
            description="Cancel", button_style="warning", icon="stop", disabled=True
        )
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.thread_view, self.new_thread_button]),
                self.conversation_view,
                self.live_view,
                self.approval_box,
                self.decisions_view,
                self.message_view,
                self.input_box,
                widgets.HBox([self.send_button, self.cancel_button]),
            ]
        )

    def _wire(self) -> None:
        self.send_button.on_click(lambda _b: self._report(self._send_typed))
        self.cancel_button.on_click(lambda _b: self._report(self.cancel))
        self.new_thread_button.on_click(lambda _b: self._report(self.new_thread))
        self.approve_button.on_click(
            lambda _b: self._report(lambda: self.approve(self.comment_box.value or None))
        )
        self.reject_button.on_click(
            lambda _b: self._report(lambda: self.reject(self.comment_box.value or None))
        )

    def _say(self, message: str, error: bool = False) -> None:
        with self._lock:
            self.message_view.value = message_html(message, error) if message else ""

    def _send_typed(self) -> None:
        # A button handler runs on the kernel's thread: waiting there would freeze the widget.
        if self.input_box.value.strip():
            self.send(self.input_box.value, wait=False)

    # Sending
    def send(self, text: str, wait: bool = True) -> dict[str, Any]:
        """Say `text` on the thread: a run of the agent, followed live.

        Returns the finished run, or with `wait=False` the run as started. A gated tool call
        waits for a decision: send with `wait=False`, then `wait_for_approval()` and `approve()`.
        """
        text = text.strip()
        if not text:
            raise ValueError("nothing to send")
        if self._active():
            raise RuntimeError("a run is in progress: cancel() or wait() first")
        if self.thread_id is None:
            metadata = {"agent": self._agent["name"]}
            self.thread_id = str(self._client.create_thread(metadata=metadata)["id"])
            self.thread_view.value = thread_html(self.thread_id, self._agent["name"], self.version)
        thread_id = self.thread_id
        run = self._client.start_thread_run(
            thread_id, self._agent["id"], text, version=self.version
        )
        with self._lock:
            state = RunState(keep_events=True)
            state.seed(run=run)
            self._state, self._sent, self._turn_over = state, text, False
            self._failure, self._finished_run = None, None
            self.input_box.value = ""
            self._say("")
            self._render(state, EVERYTHING)
            threading.Thread(
                target=self._follow, args=(state, thread_id), name="chat-turn", daemon=True
            ).start()
        return self.wait() if wait else run

    def _follow(self, state: RunState, thread_id: str) -> None:
        try:
            for event in self._client.follow_events(state.run_id):
                with self._lock:
                    change = state.apply(event)
                    self._render(state, change.parts)
                    self._changed.notify_all()
                if change.approval is not None and change.approval.status == "pending":
                    self._keep_expiry_current(state)
            run = self._client.get_run(state.run_id)
            if run["status"] not in self._client.run_endings():
                raise RuntimeError(f"the event stream closed while the run is {run['status']}")
            messages = self._client.thread_state(thread_id)["messages"]
            with self._lock:
                state.seed(run=run)
                self._finished_run, self._recorded = run, messages
                self.conversation_view.value = conversation_html(messages)
                self.live_view.layout.display = HIDDEN
                self._end_turn(state)
        except Exception as exc:  # kept for `wait()` to raise: a thread's exception would vanish
            with self._lock:
                self._failure = exc
                self._say(f"lost the run's events: {exc}", error=True)
                self._end_turn(state)  # what streamed stays in view

    def _end_turn(self, state: RunState) -> None:
        """The turn is over: Send again, no Cancel, its outcome said when not a success (the
        lock held)."""
        self._turn_over = True
        self._render(state, {APPROVAL})
        if state.finished and state.status != "succeeded" and self._failure is None:
            error = (state.error or {}).get("message", "")
            ended = f"run {state.run_id} {state.status}: {error}".rstrip(": ")
            self._say(ended, error=state.status != "cancelled")
        self._changed.notify_all()

    def _keep_expiry_current(self, state: RunState) -> None:
        """Redraw the pending approval now and then, so its "expires in 4 min" counts down."""

        def redraw() -> None:
            while not self._closed.wait(EXPIRY_REDRAW_SECONDS):
                with self._lock:
                    if state is not self._state or state.pending_approval is None:
                        return
                    self._render(state, {APPROVAL})

        threading.Thread(target=redraw, name="chat-expiry", daemon=True).start()

    def _render(self, state: RunState, changed: set[str] | frozenset[str]) -> None:
        """Redraw the turn under way (the lock held)."""
        if not changed:
            return
        if not self._turn_over:
            self.live_view.value = live_turn_html(self._sent, state)
            self.live_view.layout.display = SHOWN
        if APPROVAL in changed:
            pending = state.pending_approval
            self.approval_view.value = approval_html(pending) if pending else ""
            self.approval_box.layout.display = SHOWN if pending else HIDDEN
            self.decisions_view.value = (
                "" if self._turn_over else decisions_html(state.approvals.values())
            )
        active = not self._turn_over
        self.send_button.disabled = active
        self.new_thread_button.disabled = active
        self.cancel_button.disabled = not active or state.status == "cancelling"

    def _refresh_conversation(self) -> None:
        messages = self._client.thread_state(self.thread_id)["messages"] if self.thread_id else []
        with self._lock:
            self._recorded = messages
            self.conversation_view.value = conversation_html(messages)
            self.thread_view.value = thread_html(self.thread_id, self._agent["name"], self.version)

    def _active(self) -> bool:
        with self._lock:
            return not self._turn_over

    def wait(self, timeout: float = 300.0) -> dict[str, Any]:
        """Block until the latest turn's run has ended and the conversation was read again; the
        finished run."""
        with self._changed:
            if self._state is None:
                raise RuntimeError("nothing sent yet")
            self._changed.wait_for(lambda: self._turn_over, timeout)
            if self._failure is not None:
                raise self._failure
            if self._finished_run is None:
                raise TimeoutError(f"run {self._state.run_id} is still {self._state.status}")
            return dict(self._finished_run)

    def wait_for_approval(self, timeout: float = 60.0) -> Event:
        """Block until the turn's run asks for an approval; that request."""
        with self._changed:
            state = self._state
            if state is None:
                raise RuntimeError("nothing sent yet")
            self._changed.wait_for(
                lambda: state.pending_approval is not None or self._turn_over, timeout
            )
            if state.pending_approval is not None:
                return approval_request(state.pending_approval)
            if self._failure is not None:
                raise self._failure
            raise TimeoutError(f"run {state.run_id} is {state.status}, with no approval")

    # Deciding, cancelling, starting over
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
            state = self._state
            pending = state.pending_approval if state else None
        if state is None or pending is None:
            raise RuntimeError("no approval is pending")
        decided = self._client.decide_approval(
            state.run_id, pending.id, decision, comment, arguments
        )
        with self._lock:
            # Hide the buttons now rather than when approval.decided arrives: no second click.
            state.seed(approvals=[decided])
            self._render(state, {APPROVAL})
            self.comment_box.value = ""
        self._say("")
        return decided

    def cancel(self) -> dict[str, Any]:
        """Ask the turn's run to stop; it ends `cancelled` once the running step notices."""
        with self._lock:
            state = self._state
        if state is None or not self._active():
            raise RuntimeError("no run is in progress")
        run = self._client.cancel_run(state.run_id)
        with self._lock:
            state.seed(run=run)
            self._render(state, EVERYTHING)  # `cancelling` at once: no second click on Cancel
        return run

    def new_thread(self) -> None:
        """Start over: the next message creates a new thread (the old one stays on the server)."""
        if self._active():
            raise RuntimeError("a run is in progress: cancel() or wait() first")
        with self._lock:
            self.thread_id, self._state = None, None
            self.decisions_view.value = ""
            self._say("")
        self._refresh_conversation()

    def messages(self) -> list[dict[str, Any]]:
        """The thread's conversation as recorded: its state's messages (none before a thread)."""
        if self.thread_id is None:
            return []
        return list(self._client.thread_state(self.thread_id)["messages"])

    def close(self) -> None:
        """Close the widget, and the client if the widget made it."""
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
        with self._lock:
            return self._state.run_id if self._state else None

    @property
    def text(self) -> str:
        """What the latest turn's model streamed."""
        with self._lock:
            return self._state.text if self._state else ""

    @property
    def pending_approval(self) -> Event | None:
        with self._lock:
            pending = self._state.pending_approval if self._state else None
            return approval_request(pending) if pending else None
