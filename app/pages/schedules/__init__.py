"""The schedules page (`/schedules`): its state, and the page with the list and the form that
creates one."""

from app.pages.schedules.page import schedules_page
from app.pages.schedules.state import SchedulesState

__all__ = ["SchedulesState", "schedules_page"]
