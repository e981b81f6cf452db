"""The run page (`/runs/<id>`): its state (the run, followed live), the step timeline, the
waterfall of where the time went, and the page that holds them."""

from app.pages.run.page import run_page
from app.pages.run.state import RunState

__all__ = ["RunState", "run_page"]
