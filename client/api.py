"""`AgentRuntimeClient`: one method per REST operation, plain dicts in and out."""

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Collection, Iterator
from datetime import datetime
from typing import Any, NoReturn, Self

import httpx
import httpx_sse

from client.releases import ReleaseCalls
from client.threads import ThreadCalls

DEFAULT_BASE_URL = "http://127.0.0.1:8002"


def _query_value(value: Any) -> Any:
    """Datetimes as ISO 8601, which the API reads; everything else as it is."""
    return value.isoformat() if isinstance(value, datetime) else value


def _run_filters(
    q: str | None,
    created_after: datetime | str | None,
    created_before: datetime | str | None,
    sort: str | None,
) -> dict[str, Any]:
    """The search, date range and sort of the runs list, only those asked for."""
    query = {"q": q, "created_after": created_after, "created_before": created_before, "sort": sort}
    return {key: _query_value(value) for key, value in query.items() if value is not None}


class ApiError(Exception):
    """An error answer from the API, in its one shape: code, message, details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class AgentRuntimeClient(ThreadCalls, ReleaseCalls):
    """Base URL and token default to AGENT_RUNTIME_URL and AGENT_RUNTIME_TOKEN."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        tenant: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        base_url = base_url or os.environ.get("AGENT_RUNTIME_URL", DEFAULT_BASE_URL)
        token = token or os.environ.get("AGENT_RUNTIME_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if tenant:
            headers["X-Tenant-Id"] = tenant
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)
        self._endings: frozenset[str] | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.is_error:
            self._raise(response)
        return response.json() if response.content else None

    @staticmethod
    def _raise(response: httpx.Response) -> NoReturn:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "http_error", "message": response.text}
        raise ApiError(response.status_code, error["code"], error["message"], error.get("details"))

    def _pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            query = {k: v for k, v in params.items() if v is not None}
            if cursor:
                query["cursor"] = cursor
            page = self._call("GET", path, params=query)
            yield from page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return

    # The caller and the API's vocabulary
    def me(self) -> dict[str, Any]:
        """Who the API takes the caller for: subject, display name, tenant, role, and more."""
        return dict(self._call("GET", "/v1/me"))

    def meta(self) -> dict[str, Any]:
        """The API's vocabulary: statuses, providers, built-in tools, defaults and limits."""
        return dict(self._call("GET", "/v1/meta"))

    def run_endings(self) -> frozenset[str]:
        """The statuses a run ends in, as the API names them (asked once per client)."""
        if self._endings is None:
            self._endings = frozenset(self.meta()["run_statuses"]["terminal"])
        return self._endings

    # Tenants and keys
    def create_tenant(self, name: str) -> dict[str, Any]:
        return dict(self._call("POST", "/v1/tenants", json={"name": name}))

    def list_tenants(self) -> list[dict[str, Any]]:
        return list(self._pages("/v1/tenants"))

    def create_api_key(self, tenant_id: str, name: str, role: str = "developer") -> dict[str, Any]:
        body = {"name": name, "role": role}
        return dict(self._call("POST", f"/v1/tenants/{tenant_id}/api-keys", json=body))

    def list_api_keys(self, tenant_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/v1/tenants/{tenant_id}/api-keys"))

    def revoke_api_key(self, tenant_id: str, key_id: str) -> dict[str, Any]:
        return dict(self._call("DELETE", f"/v1/tenants/{tenant_id}/api-keys/{key_id}"))

    # Agents
    def create_agent(self, name: str, description: str = "") -> dict[str, Any]:
        body = {"name": name, "description": description}
        return dict(self._call("POST", "/v1/agents", json=body))

    def list_agents(
        self, archived: bool = False, search: str | None = None
    ) -> list[dict[str, Any]]:
        return list(self._pages("/v1/agents", archived=archived, q=search))

    def get_agent(self, agent_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/agents/{agent_id}"))

    def update_agent(self, agent_id: str, **changes: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/v1/agents/{agent_id}", json=changes))

    # Versions
    def publish_version(self, agent_id: str, config: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", f"/v1/agents/{agent_id}/versions", json=config))

    def list_versions(self, agent_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/v1/agents/{agent_id}/versions"))

    def get_version(self, agent_id: str, number: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/agents/{agent_id}/versions/{number}"))

    # Runs
    def start_run(
        self,
        agent_id: str,
        input: str,
        *,
        version: int | str = "latest",
        context: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        body = {"input": input, "version": version, "context": context or {}}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return dict(self._call("POST", f"/v1/agents/{agent_id}/runs", json=body, headers=headers))

    def list_runs(
        self,
        agent_id: str | None = None,
        status: str | None = None,
        *,
        q: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        sort: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every run matching: `q` is a substring of the input (any case), `sort` is
        `-created_at` (the default), `created_at`, `duration`, `-duration`, `cost`, `-cost`."""
        filters = _run_filters(q, created_after, created_before, sort)
        return list(self._pages("/v1/runs", agent_id=agent_id, status=status, **filters))

    def get_run(self, run_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/runs/{run_id}"))

    def stats(self, **params: Any) -> dict[str, Any]:
        """Run statistics: `from`, `to` (datetimes or ISO text; `from_` works too), `agent_id`,
        `bucket` (`hour` or `day`). Counts by status, cost, tokens and latency, for the range,
        per UTC bucket and per agent."""
        if "from_" in params:
            params["from"] = params.pop("from_")
        query = {key: _query_value(value) for key, value in params.items() if value is not None}
        return dict(self._call("GET", "/v1/stats", params=query))

    def cancel_run(self, run_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/v1/runs/{run_id}/cancel"))

    def list_steps(self, run_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/v1/runs/{run_id}/steps"))

    def get_step(self, run_id: str, seq: int) -> dict[str, Any]:
        """One step, with large payloads read back in."""
        return dict(self._call("GET", f"/v1/runs/{run_id}/steps/{seq}"))

    def wait_for_run(
        self, run_id: str, until: Collection[str] | None = None, timeout: float = 300.0
    ) -> dict[str, Any]:
        """Poll until the run's status is one of `until` (by default, any ending)."""
        until = self.run_endings() if until is None else until
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if run["status"] in until:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {run['status']} after {timeout} s")
            time.sleep(0.2)

    def follow_events(
        self, run_id: str, after: int = 0, reconnects: int = 5
    ) -> Iterator[dict[str, Any]]:
        """The run's events, replayed after `after` and then live, until `run.completed`.

        A dropped connection is resumed from the last event seen, so nothing is missed or
        seen twice.
        """
        last, failures = after, 0
        while True:
            try:
                headers = {"Last-Event-ID": str(last)} if last else {}
                with httpx_sse.connect_sse(
                    self.http,
                    "GET",
                    f"/v1/runs/{run_id}/events",
                    headers=headers,
                    timeout=httpx.Timeout(self.http.timeout.connect, read=None),
                ) as source:
                    if source.response.is_error:
                        source.response.read()
                        self._raise(source.response)
                    for message in source.iter_sse():
                        if not message.data:
                            continue  # a keep-alive ping (the decoder keeps the last id)
                        event: dict[str, Any] = json.loads(message.data)
                        last, failures = event["id"], 0
                        yield event
                        if event["type"] == "run.completed":
                            return
                return  # the server closed a finished run's stream
            except (httpx.TransportError, httpx_sse.SSEError):
                failures += 1
                if failures > reconnects:
                    raise
                time.sleep(min(0.2 * 2**failures, 5.0))

    # Approvals
    def list_approvals(
        self, run_id: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """A run's approvals, or the tenant's (e.g. `status="pending"`: the inbox)."""
        if run_id:
            return list(self._pages(f"/v1/runs/{run_id}/approvals"))
        return list(self._pages("/v1/approvals", status=status))

    def get_approval(self, approval_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/approvals/{approval_id}"))

    def decide_approval(
        self,
        run_id: str,
        approval_id: str,
        decision: str,
        comment: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`decision` is "approve" or "reject"; `arguments` approves edited arguments."""
        body: dict[str, Any] = {"decision": decision, "comment": comment}
        if arguments is not None:
            body["arguments"] = arguments
        return dict(self._call("POST", f"/v1/runs/{run_id}/approvals/{approval_id}", json=body))

    # Artifacts
    def list_artifacts(self, run_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/v1/runs/{run_id}/artifacts"))

    def download_artifact(self, run_id: str, name: str) -> bytes:
        response = self.http.get(f"/v1/runs/{run_id}/artifacts/{name}")
        if response.is_error:
            self._raise(response)
        return response.content

    # For the workbench: one page at a time, downloads it relays, events on an event loop
    def list_runs_page(
        self,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        *,
        q: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        sort: str | None = None,
    ) -> dict[str, Any]:
        """One page of runs, newest first unless `sort` says otherwise (as `list_runs`):
        `{"items": [...], "next_cursor": ...}`. A cursor pages the sort it came from."""
        query = {"agent_id": agent_id, "status": status, "limit": limit, "cursor": cursor}
        query |= _run_filters(q, created_after, created_before, sort)
        params = {key: value for key, value in query.items() if value is not None}
        return dict(self._call("GET", "/v1/runs", params=params))

    def download(self, path: str) -> tuple[bytes, str]:
        """A download the API links to (`download_url`, `output_url`): content and its type."""
        if not path.startswith("/v1/runs/"):
            raise ValueError(f"not a download link of the API: {path!r}")
        response = self.http.get(path)
        if response.is_error:
            self._raise(response)
        return response.content, response.headers.get("content-type", "application/octet-stream")

    async def follow_events_async(
        self, run_id: str, after: int = 0, reconnects: int = 5
    ) -> AsyncIterator[dict[str, Any]]:
        """`follow_events` for an event loop: cancelling the task that iterates it disconnects."""
        last, failures = after, 0
        async with httpx.AsyncClient(
            base_url=self.http.base_url,
            headers=self.http.headers,
            timeout=httpx.Timeout(self.http.timeout.connect, read=None),
        ) as http:
            while True:
                try:
                    headers = {"Last-Event-ID": str(last)} if last else {}
                    async with httpx_sse.aconnect_sse(
                        http, "GET", f"/v1/runs/{run_id}/events", headers=headers
                    ) as source:
                        if source.response.is_error:
                            await source.response.aread()
                            self._raise(source.response)
                        async for message in source.aiter_sse():
                            if not message.data:
                                continue  # a keep-alive ping
                            event: dict[str, Any] = json.loads(message.data)
                            last, failures = event["id"], 0
                            yield event
                            if event["type"] == "run.completed":
                                return
                    return  # the server closed a finished run's stream
                except (httpx.TransportError, httpx_sse.SSEError):
                    failures += 1
                    if failures > reconnects:
                        raise
                    await asyncio.sleep(min(0.2 * 2**failures, 5.0))
