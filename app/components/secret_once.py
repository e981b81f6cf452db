"""A secret shown once (a webhook's signing secret): the value, a copy button, and the warning
that it will not be shown again."""

from typing import Any

import reflex as rx


def secret_once(title: Any, secret: Any, on_done: Any, **props: Any) -> rx.Component:
    """Shown while `secret` is set; `on_done` forgets it (the page keeps it nowhere else)."""
    return rx.cond(
        secret != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round")),
            rx.vstack(
                rx.text(title, weight="bold"),
                rx.text(
                    "Copy it now: it will not be shown again. Receivers verify each delivery's "
                    "signature with it.",
                    size="2",
                ),
                rx.hstack(
                    rx.code(secret, size="2", class_name="secret-value"),
                    rx.button(
                        rx.icon("copy", size=14),
                        "Copy",
                        size="1",
                        variant="soft",
                        on_click=[rx.set_clipboard(secret), rx.toast.info("Copied.")],
                        class_name="secret-copy",
                    ),
                    rx.button(
                        "Done",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=on_done,
                        class_name="secret-done",
                    ),
                    align="center",
                    wrap="wrap",
                ),
                spacing="2",
                min_width="0",
            ),
            color_scheme="green",
            width="100%",
            **props,
        ),
    )
