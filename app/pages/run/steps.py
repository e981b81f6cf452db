"""The run's timeline: one card per step, a model turn (its text as it streams, the tool calls it
asks for) or a tool call (arguments and result), with errors, links to large payloads and the
build of the worker that ran it."""

import reflex as rx

from app.components import by_width, code_text, status_badge
from app.pages.run.state import RunState
from app.view import StepView


def step_item(step: StepView) -> rx.Component:
    is_model = step.kind == "model"
    request_open = RunState.request_seq == step.seq
    text = rx.cond(
        (step.seq == RunState.live_seq) & (step.status == "running"), RunState.live_text, step.text
    )
    return rx.hstack(
        rx.vstack(
            rx.center(
                rx.cond(
                    is_model,
                    rx.icon("sparkles", size=16, color="white"),
                    rx.icon("wrench", size=16, color="white"),
                ),
                width="32px",
                height="32px",
                border_radius="50%",
                background=rx.cond(is_model, rx.color("accent", 9), rx.color("grass", 9)),
                flex_shrink="0",
            ),
            rx.box(width="2px", flex="1", background=rx.color("gray", 5)),
            align="center",
            spacing="1",
            align_self="stretch",
        ),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text("#", step.seq, color_scheme="gray", size="2"),
                    rx.text(step.name, weight="bold"),
                    rx.badge(step.kind, variant="outline"),
                    status_badge(step.status, class_name="step-status"),
                    rx.cond(step.attempt > 1, rx.badge("attempt ", step.attempt)),
                    rx.spacer(),
                    rx.cond(
                        step.worker_build != "",
                        rx.text(
                            rx.icon("cpu", size=12, display="inline", margin_right="3px"),
                            step.worker_build,
                            size="1",
                            color_scheme="gray",
                            title="The build of the worker that ran this step",
                            class_name="step-worker-build",
                        ),
                    ),
                    rx.text(
                        step.duration, size="1", color_scheme="gray", class_name="step-duration"
                    ),
                    rx.cond(
                        is_model & (step.status != "running"),
                        rx.text(
                            step.tokens, " tokens · ", step.cost, size="1", color_scheme="gray"
                        ),
                    ),
                    align="center",
                    width="100%",
                    wrap="wrap",
                ),
                rx.cond(
                    is_model,
                    rx.vstack(
                        rx.cond(
                            text != "",
                            rx.text(
                                text,
                                rx.cond(
                                    step.status == "running",
                                    rx.el.span("▍", class_name="cursor"),
                                ),
                                size="2",
                                white_space="pre-wrap",
                                overflow_wrap="anywhere",
                                class_name="step-text",
                            ),
                            rx.cond(
                                step.tool_calls == "",
                                rx.text(step.summary, size="2", color_scheme="gray"),
                            ),
                        ),
                        rx.cond(
                            step.tool_calls != "",
                            rx.vstack(
                                rx.text(step.summary, size="2", weight="medium"),
                                code_text(step.tool_calls, max_height="200px"),
                                spacing="1",
                                width="100%",
                            ),
                        ),
                        spacing="2",
                        width="100%",
                    ),
                    rx.grid(
                        rx.vstack(
                            rx.text("Arguments", size="1", color_scheme="gray"),
                            code_text(rx.cond(step.arguments != "", step.arguments, "—")),
                            spacing="1",
                            min_width="0",
                        ),
                        rx.vstack(
                            rx.text("Result", size="1", color_scheme="gray"),
                            code_text(
                                rx.cond(
                                    step.result != "",
                                    step.result,
                                    rx.cond(step.status == "running", "running…", "—"),
                                ),
                                class_name="step-result",
                            ),
                            spacing="1",
                            min_width="0",
                        ),
                        columns=by_width("1", "2"),
                        spacing="3",
                        width="100%",
                    ),
                ),
                rx.cond(
                    step.error != "",
                    rx.callout(
                        step.error,
                        color_scheme="red",
                        icon="circle-x",
                        size="1",
                        class_name="step-error",
                    ),
                ),
                rx.cond(
                    is_model & (step.status != "running"),
                    rx.vstack(
                        rx.button(
                            rx.icon("scroll-text", size=14),
                            rx.cond(request_open, "Hide what was sent", "What was sent"),
                            variant="ghost",
                            size="1",
                            on_click=RunState.toggle_request(step.seq),
                            class_name="step-request-toggle",
                        ),
                        rx.cond(
                            request_open,
                            code_text(RunState.request_shown, class_name="step-request"),
                        ),
                        spacing="1",
                        width="100%",
                    ),
                ),
                rx.cond(
                    (step.output_url != "") | (step.input_url != ""),
                    rx.hstack(
                        rx.cond(
                            step.input_url != "",
                            rx.link(
                                rx.icon("download", size=14),
                                "Full input",
                                href=step.input_url,
                                is_external=True,
                                size="2",
                            ),
                        ),
                        rx.cond(
                            step.output_url != "",
                            rx.link(
                                rx.icon("download", size=14),
                                "Full output",
                                href=step.output_url,
                                is_external=True,
                                size="2",
                                class_name="step-output-link",
                            ),
                        ),
                        spacing="4",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            flex="1",
            min_width="0",
            margin_bottom="12px",
        ),
        align="start",
        width="100%",
        spacing="3",
        class_name="step",
        custom_attrs={"data-seq": step.seq, "data-kind": step.kind},
    )
