"""The schedule page (`/schedules/<id>`): its state, and the page with its fire times, its
runs, and the forms that edit or backfill it."""

from app.pages.schedule.page import schedule_page
from app.pages.schedule.state import ScheduleState

__all__ = ["ScheduleState", "schedule_page"]
