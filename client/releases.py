"""The client's release calls: aliases of an agent's versions, schedules that start runs, and
webhooks that tell a URL of events (mixed into `AgentRuntimeClient`)."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol


class _Calls(Protocol):
    def _call(self, method: str, path: str, **kwargs: Any) -> Any: ...

    def _pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]: ...


def _json_value(value: Any) -> Any:
    """Datetimes as ISO 8601, which the API reads; everything else as it is."""
    return value.isoformat() if isinstance(value, datetime) else value


class ReleaseCalls:
    """`/v1/agents/{id}/aliases`, `/v1/schedules` and `/v1/webhooks`."""

    # Aliases
    def set_alias(
        self: _Calls,
        agent_id: str,
        name: str,
        version: int | None = None,
        versions: list[dict[str, int]] | None = None,
    ) -> dict[str, Any]:
        """Point `name` at one version, or split it: `versions=[{"version": 3, "weight": 90},
        {"version": 4, "weight": 10}]` (each thread keeps the version it drew)."""
        body: dict[str, Any] = {"versions": versions} if versions is not None else {}
        if version is not None or versions is None:
            body["version"] = version
        return dict(self._call("PUT", f"/v1/agents/{agent_id}/aliases/{name}", json=body))

    def list_aliases(self: _Calls, agent_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/v1/agents/{agent_id}/aliases"))

    def get_alias(self: _Calls, agent_id: str, name: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/agents/{agent_id}/aliases/{name}"))

    def delete_alias(self: _Calls, agent_id: str, name: str) -> None:
        self._call("DELETE", f"/v1/agents/{agent_id}/aliases/{name}")

    def alias_history(self: _Calls, agent_id: str, name: str) -> list[dict[str, Any]]:
        """Every move of the alias, newest first: who, when, from which versions, to which."""
        return list(self._pages(f"/v1/agents/{agent_id}/aliases/{name}/history"))

    # Schedules
    def create_schedule(self: _Calls, **fields: Any) -> dict[str, Any]:
        """`agent` (id or name), `input`, and `cron` or `interval_seconds`; optionally
        `version` (a number, `latest` or an alias), `context`, `timezone`, `overlap`,
        `catchup_window_seconds`, `paused`, `start_at`, `end_at`, `note`."""
        body = {key: _json_value(value) for key, value in fields.items()}
        return dict(self._call("POST", "/v1/schedules", json=body))

    def list_schedules(self: _Calls, agent_id: str | None = None) -> list[dict[str, Any]]:
        return list(self._pages("/v1/schedules", agent_id=agent_id))

    def get_schedule(self: _Calls, schedule_id: str) -> dict[str, Any]:
        """The schedule with its next fire times and the runs it started lately."""
        return dict(self._call("GET", f"/v1/schedules/{schedule_id}"))

    def update_schedule(self: _Calls, schedule_id: str, **changes: Any) -> dict[str, Any]:
        body = {key: _json_value(value) for key, value in changes.items()}
        return dict(self._call("PATCH", f"/v1/schedules/{schedule_id}", json=body))

    def delete_schedule(self: _Calls, schedule_id: str) -> None:
        self._call("DELETE", f"/v1/schedules/{schedule_id}")

    def pause_schedule(self: _Calls, schedule_id: str, note: str | None = None) -> dict[str, Any]:
        body = {"note": note} if note is not None else None
        return dict(self._call("POST", f"/v1/schedules/{schedule_id}/pause", json=body))

    def unpause_schedule(self: _Calls, schedule_id: str, note: str | None = None) -> dict[str, Any]:
        body = {"note": note} if note is not None else None
        return dict(self._call("POST", f"/v1/schedules/{schedule_id}/unpause", json=body))

    def trigger_schedule(self: _Calls, schedule_id: str) -> dict[str, Any]:
        """Fire it now, once (its overlap policy still applies)."""
        return dict(self._call("POST", f"/v1/schedules/{schedule_id}/trigger") or {})

    def backfill_schedule(
        self: _Calls, schedule_id: str, start: datetime | str, end: datetime | str
    ) -> dict[str, Any]:
        """The fires it would have had between `start` and `end`, taken now."""
        body = {"start": _json_value(start), "end": _json_value(end)}
        return dict(self._call("POST", f"/v1/schedules/{schedule_id}/backfill", json=body) or {})

    def schedule_runs(self: _Calls, schedule_id: str) -> list[dict[str, Any]]:
        """The runs its fires started, newest first."""
        return list(self._pages(f"/v1/schedules/{schedule_id}/runs"))

    # Webhooks
    def create_webhook(
        self: _Calls,
        url: str,
        events: list[str],
        *,
        agent_id: str | None = None,
        description: str = "",
        enabled: bool = True,
    ) -> dict[str, Any]:
        """The webhook with its signing `secret`: this answer is the only one that holds it."""
        body: dict[str, Any] = {
            "url": url,
            "events": events,
            "description": description,
            "enabled": enabled,
        }
        if agent_id is not None:
            body["agent_id"] = agent_id
        return dict(self._call("POST", "/v1/webhooks", json=body))

    def list_webhooks(self: _Calls) -> list[dict[str, Any]]:
        return list(self._pages("/v1/webhooks"))

    def get_webhook(self: _Calls, webhook_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/webhooks/{webhook_id}"))

    def update_webhook(self: _Calls, webhook_id: str, **changes: Any) -> dict[str, Any]:
        """`url`, `events`, `agent_id`, `description` or `enabled`."""
        return dict(self._call("PATCH", f"/v1/webhooks/{webhook_id}", json=changes))

    def delete_webhook(self: _Calls, webhook_id: str) -> None:
        self._call("DELETE", f"/v1/webhooks/{webhook_id}")

    def rotate_webhook_secret(self: _Calls, webhook_id: str) -> dict[str, Any]:
        """A new signing secret (`{"secret": ...}`); the old one stops signing."""
        return dict(self._call("POST", f"/v1/webhooks/{webhook_id}/rotate-secret"))

    def test_webhook(self: _Calls, webhook_id: str) -> dict[str, Any]:
        """Send a `webhook.test` ping: its delivery, as it was queued."""
        return dict(self._call("POST", f"/v1/webhooks/{webhook_id}/test"))

    def list_deliveries(
        self: _Calls, webhook_id: str, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The webhook's deliveries, newest first (`status`: pending, delivered or failed)."""
        return list(self._pages(f"/v1/webhooks/{webhook_id}/deliveries", status=status))

    def get_delivery(self: _Calls, webhook_id: str, delivery_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/webhooks/{webhook_id}/deliveries/{delivery_id}"))

    def redeliver(self: _Calls, webhook_id: str, delivery_id: str) -> dict[str, Any]:
        """Send the delivery again now (pending again, its attempts go on)."""
        path = f"/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"
        return dict(self._call("POST", path))

    # For the workbench: one page at a time
    def schedule_runs_page(
        self: _Calls, schedule_id: str, limit: int = 20, cursor: str | None = None
    ) -> dict[str, Any]:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return dict(self._call("GET", f"/v1/schedules/{schedule_id}/runs", params=params))

    def deliveries_page(
        self: _Calls,
        webhook_id: str,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        query = {"status": status, "limit": limit, "cursor": cursor}
        params = {key: value for key, value in query.items() if value is not None}
        return dict(self._call("GET", f"/v1/webhooks/{webhook_id}/deliveries", params=params))
