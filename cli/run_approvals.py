"""Who answers a run's approval requests while `agent-runtime run` (or `runs follow`) follows it."""

import sys
from typing import Protocol

from rich.console import Console
from rich.text import Text

from cli.run_view import RunView
from client import AgentRuntimeClient, ApiError
from client.run_state import Approval

YES = frozenset({"y", "yes"})
NO = frozenset({"n", "no"})


class Approver(Protocol):
    def __call__(self, client: AgentRuntimeClient, view: RunView, approval: Approval) -> None: ...


def _still_pending(client: AgentRuntimeClient, approval: Approval) -> bool:
    # A followed run replays its events from the start (e.g. an idempotent rerun): an old
    # request may be decided already.
    return bool(client.get_approval(approval.id)["status"] == "pending")


def _decide(
    client: AgentRuntimeClient,
    view: RunView,
    approval: Approval,
    decision: str,
    comment: str | None,
) -> None:
    try:
        client.decide_approval(approval.run_id, approval.id, decision, comment)
    except ApiError as exc:
        if exc.status != 409:
            raise
        # Decided elsewhere first, or expired while we asked: the run goes on either way.
        view.print(Text(f"! {exc.message}", style="yellow"))


class ApproveAll:
    """`--approve-all`: every gated call runs, as asked."""

    def __call__(self, client: AgentRuntimeClient, view: RunView, approval: Approval) -> None:
        if _still_pending(client, approval):
            _decide(client, view, approval, "approve", "approved with agent-runtime --approve-all")


class LeaveToOthers:
    """`--no-input` and `--json`: never ask; the run waits for a decision made elsewhere."""

    def __init__(self, notes: Console) -> None:
        self.notes = notes

    def __call__(self, client: AgentRuntimeClient, view: RunView, approval: Approval) -> None:
        base = str(client.http.base_url).rstrip("/")
        self.notes.print(
            f"waiting for a decision on {approval.id} (workbench, or POST "
            f"{base}/v1/runs/{approval.run_id}/approvals/{approval.id})",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )


class AskOnStdin:
    """Asks "Approve? [y/n]" and, on no, for a comment. Reads stdin even when it is a pipe."""

    def __init__(self) -> None:
        self.stdin_closed = False

    def __call__(self, client: AgentRuntimeClient, view: RunView, approval: Approval) -> None:
        if self.stdin_closed or not _still_pending(client, approval):
            return
        with view.paused():
            try:
                approved = self._yes_or_no(view.console)
                comment = None if approved else self._ask(view.console, "Comment (optional): ")
            except EOFError:
                self.stdin_closed = True
                view.print(
                    Text(
                        "! stdin is closed: the approval stays pending until it is decided "
                        "elsewhere (or expires)",
                        style="yellow",
                    )
                )
                return
        _decide(client, view, approval, "approve" if approved else "reject", comment or None)

    def _yes_or_no(self, console: Console) -> bool:
        while True:
            answer = self._ask(console, "Approve? [y/n]: ").strip().lower()
            if answer in YES | NO:
                return answer in YES
            console.print("Please answer y or n.")

    @staticmethod
    def _ask(console: Console, question: str) -> str:
        answer = console.input(question, markup=False)
        if not sys.stdin.isatty():
            console.print(answer, markup=False, highlight=False)  # piped answers are not echoed
        return answer
