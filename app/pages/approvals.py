"""The approvals inbox: tool calls waiting for a person, across the tenant's runs."""

from typing import Any

import reflex as rx

from app.components import (
    ApprovalDrafts,
    approval_card,
    by_width,
    decision_toast,
    empty_state,
    error_callout,
    loading,
    page_header,
    shell,
    status_badge,
    submit_decision,
    table,
)
from app.state import Failure, PageState, SessionState
from app.view import WRITER, ApprovalView, approval_view, may, with_conversation
from client import AgentRuntimeClient

SHOWN = ("pending", "approved", "rejected", "expired")


class ApprovalsState(PageState, ApprovalDrafts, SessionState):
    approvals: rx.Field[list[ApprovalView]] = rx.field(default_factory=list)
    show: rx.Field[str] = rx.field("pending")

    @rx.var
    def may_write(self) -> bool:
        """Whether the caller may decide (a viewer reads the inbox only)."""
        return may(self.role, WRITER, self.platform_admin)

    @rx.event
    async def load(self) -> Any:
        self.show = self.router.url.query_parameters.get("status", "pending")
        if self.show not in SHOWN:
            self.show = "pending"
        return ApprovalsState.fetch

    @rx.event
    async def fetch(self) -> Any:
        self._start_loading()
        yield

        show = self.show

        async def read(client: AgentRuntimeClient) -> list[ApprovalView]:
            approvals = await self._api(client.list_approvals, status=show)
            agents = await self._api(client.list_agents)
            await self._refresh_pending(client)
            names = {a["id"]: a["name"] for a in agents}
            views = [approval_view(a, names, self._me()) for a in approvals]
            if show == "pending":  # whoever decides reads what led to each call first
                views = [await self._with_conversation(client, view) for view in views]
            return views

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        self.approvals = found
        self.loaded = True

    async def _with_conversation(
        self, client: AgentRuntimeClient, view: ApprovalView
    ) -> ApprovalView:
        run = await self._api(client.get_run, view.run_id)
        steps = await self._api(client.list_steps, view.run_id)
        return with_conversation(view, run, steps)

    @rx.event
    def set_show(self, value: str | list[str]) -> Any:
        return rx.redirect(f"/approvals?status={value}")

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
            # Four choices fit a phone's width in the small size.
            size=by_width("1", "2"),
            max_width="100%",
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
                                ApprovalsState.approvals,
                                lambda a: approval_card(
                                    a, ApprovalsState, ApprovalsState.may_write
                                ),
                            ),
                            spacing="3",
                            width="100%",
                            id="inbox",
                        ),
                        table(
                            ["Tool", "Decision", "Agent", "Run", "By", "When (UTC)", "Comment"],
                            rx.table.body(rx.foreach(ApprovalsState.approvals, decided_row)),
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
