"""The runs list's search as its link holds it (`/runs?q=…&from=…&to=…&sort=…`), and as the
API's `GET /v1/runs` parameters ask for it."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

ANY = "any"
# How the list offers each order, and the API's `sort` for it; the first is the default.
SORTS = {
    "newest": "-created_at",
    "oldest": "created_at",
    "slowest": "-duration",
    "costliest": "-cost",
}
DEFAULT_SORT = "newest"
MAX_SEARCH_CHARACTERS = 200  # what the API accepts in `q`


@dataclass(frozen=True)
class RunSearch:
    agent: str = ANY
    status: str = ANY
    text: str = ""
    start: str = ""  # a day, YYYY-MM-DD (UTC), or ""
    end: str = ""
    sort: str = DEFAULT_SORT

    def query(self) -> dict[str, str]:
        """The search as a link's query says it: only what differs from the defaults."""
        pairs = (
            ("agent", self.agent if self.agent != ANY else ""),
            ("status", self.status if self.status != ANY else ""),
            ("q", self.text),
            ("from", self.start),
            ("to", self.end),
            ("sort", self.sort if self.sort != DEFAULT_SORT else ""),
        )
        return {key: value for key, value in pairs if value}

    def link(self) -> str:
        """The runs list's address for this search."""
        query = self.query()
        return f"/runs?{urlencode(query)}" if query else "/runs"

    def api_parameters(self) -> dict[str, Any]:
        """`list_runs_page`'s keywords: the days as a range of instants, `to` inclusive."""
        end = _day(self.end)
        return {
            "agent_id": None if self.agent == ANY else self.agent,
            "status": None if self.status == ANY else self.status,
            "q": self.text or None,
            "created_after": f"{self.start}T00:00:00Z" if self.start else None,
            "created_before": f"{end + timedelta(days=1)}T00:00:00Z" if end else None,
            "sort": SORTS[self.sort],
        }


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def run_search(query: dict[str, str]) -> RunSearch:
    """The search a link asks for; what it cannot mean (a bad day, an unknown order) is left out
    rather than refused, so an edited link still lists runs."""
    start, end = _day(query.get("from", "")), _day(query.get("to", ""))
    sort = query.get("sort", "")
    return RunSearch(
        agent=query.get("agent", "") or ANY,
        status=query.get("status", "") or ANY,
        text=query.get("q", "").strip()[:MAX_SEARCH_CHARACTERS],
        start=start.isoformat() if start else "",
        end=end.isoformat() if end else "",
        sort=sort if sort in SORTS else DEFAULT_SORT,
    )
