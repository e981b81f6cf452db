"""What every widget here shares: it displays as its `widget` box, and its buttons show a
failure in the widget (raised in a button handler, nobody would see it)."""

from collections.abc import Callable
from typing import Any


class ShownWidget:
    widget: Any

    def _say(self, message: str, error: bool = False) -> None:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _report(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as exc:
            self._say(f"{type(exc).__name__}: {exc}", error=True)
