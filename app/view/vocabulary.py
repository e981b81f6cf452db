"""The API's vocabulary (`GET /v1/meta`) in the shapes the pages use."""

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.view.releases import webhook_events


@dataclass
class Vocabulary:
    """What `GET /v1/meta` names, in the shapes the pages use."""

    run_statuses: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    builtin_tools: list[str] = field(default_factory=list)
    http_methods: list[str] = field(default_factory=list)
    limit_defaults: dict[str, Any] = field(default_factory=dict)
    webhook_events: list[str] = field(default_factory=list)


def vocabulary(meta: dict[str, Any]) -> Vocabulary:
    statuses = meta["run_statuses"]
    return Vocabulary(
        run_statuses=[str(status) for status in statuses["all"]],
        active=[str(status) for status in statuses["active"]],
        providers=[str(provider) for provider in meta["model_providers"]],
        builtin_tools=[str(tool["name"]) for tool in meta["builtin_tools"]],
        http_methods=[str(method) for method in meta["http_methods"]],
        limit_defaults=dict(meta["limit_defaults"]),
        webhook_events=webhook_events(meta),
    )


class KnownStatuses(Collection[str]):
    """Run statuses of one kind as the API last named them; empty until a session read them.

    For code outside any state that asks `status in ACTIVE`: every page reads the vocabulary
    (`SessionState._session`) before it looks at a run.
    """

    def __init__(self) -> None:
        self._statuses: tuple[str, ...] = ()

    def replace(self, statuses: Iterable[str]) -> None:
        self._statuses = tuple(statuses)

    def __contains__(self, status: object) -> bool:
        return status in self._statuses

    def __iter__(self) -> Iterator[str]:
        return iter(self._statuses)

    def __len__(self) -> int:
        return len(self._statuses)


ACTIVE = KnownStatuses()


def remember_vocabulary(words: Vocabulary) -> None:
    ACTIVE.replace(words.active)
