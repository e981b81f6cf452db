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
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.json import JSON
from rich.live import Live
from rich.markdown import Markdown
from rich.padding import Padding
from rich.spinner import Spinner
from rich.text import Text

Event = dict[str, Any]

SUMMARY_WIDTH = 80
# The live region shows the tail of a long streamed answer; the whole answer is printed at the end.
LIVE_TEXT_LINES = 12


@dataclass
class RunningStep:
    seq: int
    kind: str
    name: str
    attempt: int
    text: str = ""  # streamed so far by this attempt
    spinner: Spinner = field(init=False)

    def __post_init__(self) -> None:
        self.spinner = Spinner(
            "dots", text=step_title(self.seq, self.kind, self.name, self.attempt)
        )


class StepTracker:
    """The steps that have started and not ended, with the text each is streaming."""

    def __init__(self) -> None:
        self.running: dict[int, RunningStep] = {}

    def started(self, event: Event) -> RunningStep:
        # A retry's step.started replaces the older attempt, dropping its partial text.
        step = RunningStep(event["seq"], event["kind"], event["name"], event["attempt"])
        self.running[step.seq] = step
        return step

    def delta(self, event: Event) -> RunningStep | None:
        """The step the text belongs to, with the text added; None for an older attempt's text."""
        step = self.running.get(event["seq"])
        if step is None or event["attempt"] > step.attempt:
            step = RunningStep(event["seq"], "model", step.name if step else "", event["attempt"])
            self.running[step.seq] = step
        elif event["attempt"] < step.attempt:
            return None
        step.text += event["text"]
        return step

    def completed(self, event: Event) -> RunningStep | None:
        return self.running.pop(event["seq"], None)


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
    return f"{milliseconds:.0f} ms" if milliseconds < 1000 else f"{milliseconds / 1000:.1f} s"


def one_line(text: str, width: int = SUMMARY_WIDTH) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def step_line(event: Event, streamed: bool = False) -> Text:
    """`✓ 1 model demo  812 ms  35 tok  $0.0001  calls calculator`; a summary the reader just saw
    streamed is left out."""
    succeeded = event["status"] == "succeeded"
    line = Text()
    line.append("✓ " if succeeded else "✗ ", style="green" if succeeded else "red")
    line.append(step_title(event["seq"], event["kind"], event["name"], event["attempt"]))
    line.append(f"  {duration(event.get('duration_ms') or 0)}", style="dim")
    if event["kind"] == "model":
        usage = event.get("usage") or {}
        tokens = usage.get("input_tokens", 0) + usage.get("output_tokens", 0)
        line.append(f"  {tokens} tok  {money(event.get('cost_usd') or 0)}", style="dim")
    if not succeeded:
        error = event.get("error") or {}
        message = error.get("message") or event.get("summary") or "failed"
        line.append(f"  {one_line(str(message))}", style="red")
    elif event.get("summary") and not streamed:
        line.append(f"  {one_line(str(event['summary']))}")
    return line


def approval_request(event: Event) -> RenderableType:
    heading = Text()
    heading.append("? ", style="yellow bold")
    heading.append(f"{event['seq']} tool {event['tool_name']} asks for approval")
    if event.get("expires_at"):
        heading.append(f"  (expires {event['expires_at']})", style="dim")
    arguments = json.dumps(event.get("arguments") or {}, ensure_ascii=False)
    if len(arguments) > SUMMARY_WIDTH:
        arguments = json.dumps(event.get("arguments") or {}, ensure_ascii=False, indent=2)
    return Group(heading, Text("  " + arguments.replace("\n", "\n  ")))


def approval_decision(event: Event) -> Text:
    approved = event["status"] == "approved"
    line = Text()
    line.append("✓ " if approved else "✗ ", style="green" if approved else "red")
    line.append(f"{event['seq']} tool call {event['status']}")
    if event.get("decided_by"):
        line.append(f" by {event['decided_by']}", style="dim")
    if event.get("comment"):
        line.append(f": {event['comment']}")
    if event.get("arguments") is not None:
        line.append(f"  with arguments {json.dumps(event['arguments'])}", style="dim")
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
    """Turns the run's events into output; subclasses decide how running steps look."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.steps = StepTracker()

    def show(self, event: Event) -> None:
        kind = event["type"]
        if kind == "step.started":
            self.step_started(self.steps.started(event))
        elif kind == "model.delta":
            step = self.steps.delta(event)
            if step is not None:
                self.text_arrived(step, event["text"])
        elif kind == "step.completed":
            step = self.steps.completed(event)
            self.print(step_line(event, streamed=bool(step and step.text)))
        elif kind == "approval.requested":
            self.print(approval_request(event))
        elif kind == "approval.decided":
            self.print(approval_decision(event))

    def step_started(self, step: RunningStep) -> None:
        pass

    def text_arrived(self, step: RunningStep, text: str) -> None:
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

    def step_started(self, step: RunningStep) -> None:
        line = Text()
        line.append("· ", style="dim")
        line.append(step_title(step.seq, step.kind, step.name, step.attempt))
        self.print(line)

    def text_arrived(self, step: RunningStep, text: str) -> None:
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
        for step in self.steps.running.values():
            parts.append(step.spinner)
            if step.text:
                tail = "\n".join(step.text.rstrip().splitlines()[-LIVE_TEXT_LINES:])
                parts.append(Padding(Text(tail), (0, 0, 0, 2)))
        return Group(*parts)

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

    def show(self, event: Event) -> None:
        pass


def view_for(console: Console) -> RunView:
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveView(console)
    return PlainView(console)
