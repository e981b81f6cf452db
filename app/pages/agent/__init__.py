"""The agent page (`/agents/<id>`): its state, and the page with its run, versions and charts
tabs."""

from app.pages.agent.page import agent_page
from app.pages.agent.state import AgentState

__all__ = ["AgentState", "agent_page"]
