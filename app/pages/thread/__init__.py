"""The chat view of a thread (`/threads/<id>`): its state (the conversation, the run under way,
followed live) and the page that holds them."""

from app.pages.thread.page import thread_page
from app.pages.thread.state import ThreadState

__all__ = ["ThreadState", "thread_page"]
