"""The approvals inbox: tool calls waiting for a person, across the tenant's runs."""

from typing import Any

import reflex as rx

from app.components import empty_state, error_callout, loading, page_header, shell, status_badge
from app.pages.run import approval_card, decision_toast, submit_decision
from app.state import SessionState
from app.view import ApprovalView, approval_view

SHOWN = ("pending", "approved", "rejected", "expired")


class ApprovalsState(SessionState):
    approvals: rx.Field[list[ApprovalView]] = rx.field(default_factory=list)
    show: rx.Field[str] = rx.field("pending")
    loaded: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    comment_drafts: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    argument_drafts: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    decide_errors: rx.Field[dict[str, str]] = rx.field(default_factory=dict)

    @rx.event
    async def load(self) -> Any:
        self.show = self.router.url.query_parameters.get("status", "pending")
        if self.show not in SHOWN:
            self.show = "pending"
        return ApprovalsState.fetch

    @rx.event
    async def fetch(self) -> Any:
        self.loaded, self.error = False, ""
        self.failed = False
        yield
        try:
            client = await self._client()
            approvals = await self._api(client.list_approvals, status=self.show)
            agents = await self._api(client.list_agents)
            await self._refresh_pending(client)
        except Exception as exc:
            self.failed = True
            self.error, redirect = self._trouble(exc)
            self.loaded = True
            if redirect is not None:
                yield redirect
            return
        names = {a["id"]: a["name"] for a in agents}
        self.approvals = [approval_view(a, names, self._me()) for a in approvals]
        self.loaded = True

    @rx.event
    def set_show(self, value: str | list[str]) -> Any:
        return rx.redirect(f"/approvals?status={value}")

    @rx.event
    def set_comment(self, approval_id: str, value: str) -> None:
        self.comment_drafts = {**self.comment_drafts, approval_id: value}

    @rx.event
    def set_arguments(self, approval_id: str, value: str) -> None:
        self.argument_drafts = {**self.argument_drafts, approval_id: value}

    @rx.event
    async def decide(self, approval_id: str, decision: str) -> Any:
        decided, redirect = await submit_decision(self, approval_id, decision)
        if decided is None:
            return redirect
        return [decision_toast(decided, decision), ApprovalsState.fetch]


def decided_row(approval: ApprovalView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(approval.tool_name)),
        rx.table.cell(status_badge(approval.status)),
        rx.table.cell(rx.link(approval.agent_name, href=f"/agents/{approval.agent_id}")),
        rx.table.cell(rx.link(approval.run_short, href=f"/runs/{approval.run_id}")),
        rx.table.cell(rx.text(approval.decided_by, size="1")),
        rx.table.cell(rx.text(approval.decided, size="1", color_scheme="gray")),
        rx.table.cell(rx.text(approval.comment, size="2")),
        align="center",
    )


def approvals_page() -> rx.Component:
    return shell(
        page_header(
            "Approvals",
            "Tool calls that wait for a person before they run.",
        ),
        rx.segmented_control.root(
            *[rx.segmented_control.item(label.capitalize(), value=label) for label in SHOWN],
            value=ApprovalsState.show,
            on_change=ApprovalsState.set_show,
            id="approvals-filter",
        ),
        error_callout(ApprovalsState.error),
        rx.cond(
            ~ApprovalsState.loaded,
            loading("Loading approvals…"),
            rx.cond(
                ApprovalsState.failed,
                rx.fragment(),
                rx.cond(
                    ApprovalsState.approvals.length() > 0,
                    rx.cond(
                        ApprovalsState.show == "pending",
                        rx.vstack(
                            rx.foreach(
                                ApprovalsState.approvals, lambda a: approval_card(a, ApprovalsState)
                            ),
                            spacing="3",
                            width="100%",
                            id="inbox",
                        ),
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    *[
                                        rx.table.column_header_cell(h)
                                        for h in (
                                            "Tool",
                                            "Decision",
                                            "Agent",
                                            "Run",
                                            "By",
                                            "When (UTC)",
                                            "Comment",
                                        )
                                    ]
                                )
                            ),
                            rx.table.body(rx.foreach(ApprovalsState.approvals, decided_row)),
                            variant="surface",
                            width="100%",
                        ),
                    ),
                    rx.cond(
                        ApprovalsState.show == "pending",
                        empty_state(
                            "inbox",
                            "Inbox zero",
                            "No tool call is waiting for approval. Tools marked “needs approval” "
                            "pause their run here.",
                            id="inbox-empty",
                        ),
                        empty_state("list", "Nothing here", "No approvals with this status."),
                    ),
                ),
            ),
        ),
    )
