"""How `agent-runtime run` shows a run: a line per step, streamed text, approvals, the outcome.

Two views share the formatting. `LiveView`, for a terminal, keeps the running steps (a spinner
each, and the text the model is streaming) in a rich Live region that redraws in place, and
prints a permanent line above it as each step ends. `PlainView`, when stdout is a pipe or a
file, prints plain lines and writes streamed text as it arrives: no spinners, no escape codes.
"""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console, Group, RenderableType
from rich.json import JSON
from rich.live import Live
from rich.markdown import Markdown
from rich.padding import Padding
from rich.spinner import Spinner
from rich.text import Text

from cli.formatting import actor, expires_in, span
from client.run_state import STEPS, Approval, Change, Event, RunState, Step

SUMMARY_WIDTH = 80
# The live region shows the tail of a long streamed answer; the whole answer is printed at the end.
LIVE_TEXT_LINES = 12


def step_title(seq: int, kind: str, name: str, attempt: int = 1) -> Text:
    title = Text(f"{seq} {kind} {name}")
    if attempt > 1:
        title.append(f" (attempt {attempt})", style="dim")
    return title


def money(cost_usd: float) -> str:
    if 0 < cost_usd < 0.00005:
        return "<$0.0001"
    return f"${cost_usd:.4f}"


def duration(milliseconds: float) -> str:
    """`812 ms`, `4.2 s`, then as people say it: `3 min 12 s`."""
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    if milliseconds < 60_000:
        return f"{milliseconds / 1000:.1f} s"
    return span(milliseconds / 1000)


def one_line(text: str, width: int = SUMMARY_WIDTH) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def step_line(step: Step) -> Text:
    """`✓ 1 model demo  812 ms  35 tok  $0.0001  calls calculator`; a summary the reader just saw
    streamed is left out."""
    succeeded = step.status == "succeeded"
    line = Text()
    line.append("✓ " if succeeded else "✗ ", style="green" if succeeded else "red")
    line.append(step_title(step.seq, step.kind, step.name, step.attempt))
    line.append(f"  {duration(step.duration_ms or 0)}", style="dim")
    if step.kind == "model":
        tokens = step.input_tokens + step.output_tokens
        line.append(f"  {tokens} tok  {money(step.cost_usd)}", style="dim")
    if not succeeded:
        message = (step.error or {}).get("message") or step.summary or "failed"
        line.append(f"  {one_line(str(message))}", style="red")
    elif step.summary and not step.text:
        line.append(f"  {one_line(step.summary)}")
    return line


def approval_request(approval: Approval) -> RenderableType:
    heading = Text()
    heading.append("? ", style="yellow bold")
    heading.append(f"{approval.seq} tool {approval.tool_name} asks for approval")
    if approval.expires_at:
        heading.append(f"  (expires {expires_in(approval.expires_at)})", style="dim")
    arguments = json.dumps(approval.arguments, ensure_ascii=False)
    if len(arguments) > SUMMARY_WIDTH:
        arguments = json.dumps(approval.arguments, ensure_ascii=False, indent=2)
    return Group(heading, Text("  " + arguments.replace("\n", "\n  ")))


def approval_decision(approval: Approval, decided_by_name: str | None = None) -> Text:
    """`✓ 2 tool call approved by ci-bot: fine`: who decided by name, never by audit subject."""
    approved = approval.status == "approved"
    line = Text()
    line.append("✓ " if approved else "✗ ", style="green" if approved else "red")
    line.append(f"{approval.seq} tool call {approval.status}")
    name = decided_by_name or (approval.record or {}).get("decided_by_name")
    if approval.decided_by or name:
        line.append(f" by {actor(name, approval.decided_by)}", style="dim")
    if approval.comment:
        line.append(f": {approval.comment}")
    if approval.edited_arguments is not None:
        line.append(f"  with arguments {json.dumps(approval.edited_arguments)}", style="dim")
    return line


def print_outcome(console: Console, outcome: Event, run_id: str, seconds: float) -> None:
    """The answer (Markdown when it is text), the error if any, then status, tokens and cost."""
    output = outcome.get("output")
    console.print()
    if isinstance(output, str) and output.strip():
        console.print(Markdown(output))
    elif output is not None and output != "":
        console.print(JSON(json.dumps(output, indent=2, default=str)))
    error = outcome.get("error")
    if error:
        message = Text()
        message.append("error: ", style="red bold")
        message.append(str(error.get("message", error)), style="red")
        if error.get("code"):
            message.append(f" ({error['code']})", style="dim")
        console.print(message, soft_wrap=True)
    usage = outcome.get("usage") or {}
    tokens_in, tokens_out = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
    succeeded = outcome["status"] == "succeeded"
    summary = Text()
    summary.append(outcome["status"], style="green bold" if succeeded else "red bold")
    summary.append(
        f" in {seconds:.1f} s  ·  {tokens_in + tokens_out} tokens ({tokens_in} in, "
        f"{tokens_out} out)  ·  {money(outcome.get('cost_usd') or 0)}  ·  {run_id}"
    )
    console.print(summary, soft_wrap=True)


class RunView:
    """Folds the run's events (`client.run_state`) and shows what each changed; subclasses decide
    how running steps look."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.run = RunState()
        self.event: Event = {}  # the event being shown, for what the fold keeps no record of

    def show(self, event: Event) -> Change:
        self.event = event
        change = self.run.apply(event)
        self.draw(change)
        return change

    def draw(self, change: Change) -> None:
        step, approval = change.step, change.approval
        if step is not None and STEPS in change.parts:
            if step.status == "running":
                self.step_started(step)
            else:
                self.print(step_line(step))
        if step is not None and change.text:
            self.text_arrived(step, change.text)
        if approval is not None:
            pending = approval.status == "pending"
            if pending:
                self.print(approval_request(approval))
            else:
                self.print(approval_decision(approval, self.event.get("decided_by_name")))

    def step_started(self, step: Step) -> None:
        pass

    def text_arrived(self, step: Step, text: str) -> None:
        pass

    def print(self, renderable: RenderableType) -> None:
        self.console.print(renderable, soft_wrap=True)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """While a prompt waits for an answer, nothing redraws."""
        yield

    def close(self) -> None:
        pass


class PlainView(RunView):
    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self.open_stream: int | None = None  # the seq whose streamed text ends the last line

    def step_started(self, step: Step) -> None:
        line = Text()
        line.append("· ", style="dim")
        line.append(step_title(step.seq, step.kind, step.name, step.attempt))
        self.print(line)

    def text_arrived(self, step: Step, text: str) -> None:
        if self.open_stream != step.seq:
            self._end_stream()
            self.console.print("  ", end="")
            self.open_stream = step.seq
        self.console.print(Text(text.replace("\n", "\n  ")), end="", soft_wrap=True)
        self.console.file.flush()

    def print(self, renderable: RenderableType) -> None:
        self._end_stream()
        super().print(renderable)

    def _end_stream(self) -> None:
        if self.open_stream is not None:
            self.console.print()
            self.open_stream = None

    def close(self) -> None:
        self._end_stream()


class LiveView(RunView):
    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self.spinners: dict[tuple[int, int], Spinner] = {}  # by step seq and attempt
        self.live = self._new_live()
        self.live.start()

    def _new_live(self) -> Live:
        # Transient: the region disappears when stopped, leaving only the permanent lines.
        return Live(
            console=self.console,
            get_renderable=self._running,
            refresh_per_second=12,
            transient=True,
        )

    def _running(self) -> RenderableType:
        parts: list[RenderableType] = []
        running = [step for step in self.run.step_list() if step.status == "running"]
        self.spinners = {(step.seq, step.attempt): self._spinner(step) for step in running}
        for step in running:
            parts.append(self.spinners[step.seq, step.attempt])
            if step.text:
                tail = "\n".join(step.text.rstrip().splitlines()[-LIVE_TEXT_LINES:])
                parts.append(Padding(Text(tail), (0, 0, 0, 2)))
        return Group(*parts)

    def _spinner(self, step: Step) -> Spinner:
        # The same spinner from one redraw to the next, so it turns rather than restarts.
        spinner = self.spinners.get((step.seq, step.attempt))
        title = step_title(step.seq, step.kind, step.name, step.attempt)
        return spinner or Spinner("dots", text=title)

    def print(self, renderable: RenderableType) -> None:
        # Redraw first: rich prints the line above the region as it last rendered it.
        self.live.refresh()
        super().print(renderable)

    @contextmanager
    def paused(self) -> Iterator[None]:
        self.live.stop()
        try:
            yield
        finally:
            self.live = self._new_live()
            self.live.start()

    def close(self) -> None:
        self.live.stop()


class SilentView(RunView):
    """For `--json`: the run is followed, nothing is shown."""

    def draw(self, change: Change) -> None:
        pass


def view_for(console: Console) -> RunView:
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveView(console)
    return PlainView(console)
