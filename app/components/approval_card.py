"""A tool call waiting for a person: the card to approve or reject it (with a comment, or
edited arguments), and the decision it sends. The run page and the approvals inbox both show it.
"""

import json
from typing import Any

import reflex as rx

from app.components.forms import field_error
from app.components.widgets import by_width, refusable
from app.state import Failure
from app.view import WRITER, ApprovalView, who_may


def decision_arguments(original: str, draft: str | None) -> dict[str, Any] | None:
    """Edited arguments to approve with, or None when they are unchanged. Raises ValueError."""
    if draft is None or not draft.strip():
        return None
    edited = json.loads(draft)
    if not isinstance(edited, dict):
        raise ValueError("the arguments must be a JSON object")
    return None if edited == json.loads(original or "{}") else edited


class ApprovalDrafts(rx.State, mixin=True):
    """What a person types into approval cards, by approval id, and what the API said back.
    Mixed into the state of each page that shows approval cards (with its `approvals`)."""

    comment_drafts: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    argument_drafts: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    decide_errors: rx.Field[dict[str, str]] = rx.field(default_factory=dict)

    @rx.event
    def set_comment(self, approval_id: str, value: str) -> None:
        self.comment_drafts = {**self.comment_drafts, approval_id: value}

    @rx.event
    def set_arguments(self, approval_id: str, value: str) -> None:
        self.argument_drafts = {**self.argument_drafts, approval_id: value}


async def submit_decision(
    state: Any, approval_id: str, decision: str
) -> tuple[dict[str, Any] | None, Any]:
    """Send a decision on one of `state.approvals` with its drafted comment and arguments.
    Returns the decided approval, or None and what to return (a redirect to sign in, if any)
    after recording the problem in `state.decide_errors`."""
    approval = next((a for a in state.approvals if a.id == approval_id), None)
    if approval is None:
        return None, None
    errors = {k: v for k, v in state.decide_errors.items() if k != approval_id}
    try:
        arguments = (
            decision_arguments(approval.arguments, state.argument_drafts.get(approval_id))
            if decision == "approve"
            else None
        )
    except ValueError as exc:
        state.decide_errors = {**errors, approval_id: f"Arguments: {exc}"}
        return None, None
    comment = state.comment_drafts.get(approval_id, "").strip() or None
    decided = await state._attempt(
        lambda client: state._api(
            client.decide_approval, approval.run_id, approval_id, decision, comment, arguments
        )
    )
    if isinstance(decided, Failure):
        state.decide_errors = {**errors, approval_id: decided.message}
        return None, decided.redirect
    state.decide_errors = errors
    return decided, None


def decision_toast(decided: dict[str, Any], decision: str) -> Any:
    verb = "Approved" if decision == "approve" else "Rejected"
    return rx.toast.success(f"{verb} {decided['tool_name']}.")


def _conversation(approval: ApprovalView) -> rx.Component:
    """What led to the call: the user's message, the steps before it, the model's last words."""
    return rx.cond(
        approval.run_input != "",
        rx.vstack(
            rx.text("The user asked", size="1", color_scheme="gray"),
            rx.text(
                approval.run_input,
                size="2",
                white_space="pre-wrap",
                overflow_wrap="anywhere",
                class_name="approval-input",
            ),
            rx.cond(
                approval.model_text != "",
                rx.vstack(
                    rx.text("The agent said", size="1", color_scheme="gray"),
                    rx.text(
                        approval.model_text,
                        size="2",
                        white_space="pre-wrap",
                        overflow_wrap="anywhere",
                        class_name="approval-model-text",
                    ),
                    spacing="1",
                    width="100%",
                ),
            ),
            rx.cond(
                approval.steps_before,  # none before a first-step call
                rx.vstack(
                    rx.text("Steps so far", size="1", color_scheme="gray"),
                    rx.foreach(
                        approval.steps_before,
                        lambda line: rx.text(line, size="1", class_name="approval-step"),
                    ),
                    spacing="1",
                    width="100%",
                ),
            ),
            spacing="2",
            width="100%",
            padding="8px",
            border_radius="6px",
            background=rx.color("gray", 2),
            class_name="approval-conversation",
        ),
    )


def approval_card(approval: ApprovalView, state: type[Any], may_decide: Any = True) -> rx.Component:
    """A pending approval with approve/reject, a comment and editable arguments; only whoever
    `may_decide` (a var: the caller's role) can press approve or reject."""
    refused = who_may(WRITER, "approve or reject a tool call")
    arguments = rx.cond(
        state.argument_drafts.contains(approval.id),
        state.argument_drafts[approval.id],
        approval.arguments,
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("shield-alert", size=18, color=rx.color("amber", 10)),
                rx.text("Approval needed: ", rx.code(approval.tool_name), weight="bold"),
                rx.spacer(),
                rx.cond(
                    approval.agent_name != "",
                    rx.link(approval.agent_name, href=f"/agents/{approval.agent_id}", size="2"),
                ),
                rx.link(
                    approval.run_short,
                    href=f"/runs/{approval.run_id}",
                    size="2",
                    class_name="approval-run-link",
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.text(
                "Requested ",
                approval.requested,
                " UTC · expires ",
                approval.expires,
                " UTC · step #",
                approval.step_seq,
                size="1",
                color_scheme="gray",
            ),
            _conversation(approval),
            rx.grid(
                rx.vstack(
                    rx.text("Arguments (edit to approve with other values)", size="1"),
                    rx.text_area(
                        value=arguments,
                        on_change=lambda v: state.set_arguments(approval.id, v),
                        rows="5",
                        width="100%",
                        font_family="var(--code-font-family)",
                        font_size="12px",
                        class_name="approval-arguments",
                    ),
                    spacing="1",
                ),
                rx.vstack(
                    rx.text("Comment (a rejection tells the model why)", size="1"),
                    rx.text_area(
                        value=state.comment_drafts.get(approval.id, ""),
                        on_change=lambda v: state.set_comment(approval.id, v),
                        rows="5",
                        width="100%",
                        class_name="approval-comment",
                    ),
                    spacing="1",
                ),
                columns=by_width("1", "2"),
                spacing="3",
                width="100%",
            ),
            field_error(state.decide_errors.get(approval.id, ""), class_name="approval-error"),
            rx.hstack(
                refusable(
                    may_decide,
                    refused,
                    lambda disabled: rx.button(
                        rx.icon("x", size=14),
                        "Reject",
                        color_scheme="red",
                        variant="soft",
                        on_click=state.decide(approval.id, "reject"),
                        disabled=disabled,
                        class_name="approval-reject",
                    ),
                ),
                refusable(
                    may_decide,
                    refused,
                    lambda disabled: rx.button(
                        rx.icon("check", size=14),
                        "Approve",
                        color_scheme="green",
                        on_click=state.decide(approval.id, "approve"),
                        disabled=disabled,
                        class_name="approval-approve",
                    ),
                ),
                justify="end",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="approval-card",
        style={"border_left": f"4px solid {rx.color('amber', 9)}"},
    )
