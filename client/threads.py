"""The client's thread calls: conversations that continue across runs (mixed into
`AgentRuntimeClient`)."""

import json
from collections.abc import Iterator
from typing import Any, Protocol


class _Calls(Protocol):
    def _call(self, method: str, path: str, **kwargs: Any) -> Any: ...

    def _pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]: ...


class ThreadCalls:
    """`/v1/threads`: create, read, change and delete threads; add runs; read the
    conversation (state) and its runs (history)."""

    def create_thread(
        self: _Calls,
        *,
        thread_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        ttl_seconds: int | None = None,
        if_exists: str = "reject",
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"metadata": metadata or {}, "if_exists": if_exists}
        if thread_id is not None:
            body["thread_id"] = thread_id
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        return dict(self._call("POST", "/v1/threads", json=body))

    def get_thread(self: _Calls, thread_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/threads/{thread_id}"))

    def list_threads(
        self: _Calls,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        found = json.dumps(metadata) if metadata else None
        return list(self._pages("/v1/threads", agent_id=agent_id, status=status, metadata=found))

    def update_thread(self: _Calls, thread_id: str, **changes: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/v1/threads/{thread_id}", json=changes))

    def delete_thread(self: _Calls, thread_id: str) -> None:
        self._call("DELETE", f"/v1/threads/{thread_id}")

    def start_thread_run(
        self: _Calls,
        thread_id: str,
        agent: str,
        input: str | list[dict[str, str]],
        *,
        version: int | str = "latest",
        context: dict[str, Any] | None = None,
        multitask_strategy: str = "reject",
    ) -> dict[str, Any]:
        """A run continuing the thread (`agent` is an id or a name)."""
        body = {
            "agent": agent,
            "input": input,
            "version": version,
            "context": context or {},
            "multitask_strategy": multitask_strategy,
        }
        return dict(self._call("POST", f"/v1/threads/{thread_id}/runs", json=body))

    def list_thread_runs(self: _Calls, thread_id: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/v1/threads/{thread_id}/runs"))

    def thread_state(self: _Calls, thread_id: str) -> dict[str, Any]:
        """The conversation: every message, oldest first, with the run and step it came from."""
        return dict(self._call("GET", f"/v1/threads/{thread_id}/state"))

    def thread_history(self: _Calls, thread_id: str) -> list[dict[str, Any]]:
        """One entry per run: version, status, usage and the messages it added."""
        return list(self._call("GET", f"/v1/threads/{thread_id}/history"))
