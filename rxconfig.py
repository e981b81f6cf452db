"""Reflex configuration of the workbench (`app/`); read by `agent-runtime ui` and `reflex`."""

import reflex as rx
from reflex_base.constants import StateManagerMode

config = rx.Config(
    app_name="app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # One process holds every session's state in memory: nothing about a signed-in person
    # (their session, drafts, the runs they follow) is written to disk.
    state_manager_mode=StateManagerMode.MEMORY,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                appearance="light", accent_color="indigo", gray_color="slate", radius="medium"
            )
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
