"""Reflex configuration of the workbench (`app/`); read by the `reflex` command only."""

import reflex as rx

config = rx.Config(app_name="app", telemetry_enabled=False)
