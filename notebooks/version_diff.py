"""`VersionDiff`: two versions of an agent side by side, as a widget."""

import difflib
import json
from contextlib import nullcontext
from enum import Enum
from html import escape
from typing import Any, Final, Literal

import ipywidgets as widgets  # type: ignore[import-untyped]

from client import AgentRuntimeClient
from notebooks.agents import resolve_agent, resolve_version
from notebooks.formatting import NOTHING, when, who

# What the API adds to a version; the rest is the configuration it pins.
VERSION_RECORD_FIELDS = frozenset(
    {"id", "agent_id", "number", "config_hash", "created_by", "created_by_name", "created_at"}
)


class Absent(Enum):
    """A field one version does not have, as `changed_fields` reports it: not `None`, which is a
    field set to null. Compare with `is ABSENT` (it is falsy); only the display shows a dash."""

    ABSENT = "absent"

    def __repr__(self) -> str:
        return "<absent>"

    def __bool__(self) -> Literal[False]:
        return False


ABSENT: Final = Absent.ABSENT
DIFF_STYLE = """<style>
.ar-diff table.diff {font-family: monospace; border-collapse: collapse; font-size: 12px}
.ar-diff .diff_header {background: #f6f8fa; color: #57606a; padding: 0 4px}
.ar-diff td {vertical-align: top; white-space: pre-wrap; padding: 0 4px}
.ar-diff .diff_add {background: #dafbe1} .ar-diff .diff_chg {background: #fff8c5}
.ar-diff .diff_sub {background: #ffebe9} .ar-diff .ar-plus {color: #1a7f37}
.ar-diff .ar-minus {color: #cf222e} .ar-diff .ar-at {color: #8250df}
.ar-diff .diff_next {display: none}
.ar-fields td, .ar-fields th {text-align: left; vertical-align: top; padding: 2px 8px}
</style>"""


def version_config(version: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in version.items() if key not in VERSION_RECORD_FIELDS}


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaves by path, e.g. `model.parameters.script[0].text`, `tools[calculator].type`.

    Named list items (tools) are keyed by name, so a reordering is no change; empty containers
    have no leaves, so `[]` and a missing list read the same.
    """
    if isinstance(value, dict):
        items = [(f"{path}.{key}" if path else str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{_list_key(item, index)}]", item) for index, item in enumerate(value)]
    else:
        return {path: value}
    leaves: dict[str, Any] = {}
    for child_path, child in items:
        leaves.update(flatten(child, child_path))
    return leaves


def _list_key(item: Any, index: int) -> str:
    return (
        str(item["name"])
        if isinstance(item, dict) and isinstance(item.get("name"), str)
        else str(index)
    )


def changed_fields(a: dict[str, Any], b: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Path -> (value in a, value in b) for every leaf that differs; `ABSENT` where one version
    has no such field (a field set to null is `None`)."""
    left, right = flatten(a), flatten(b)
    paths = sorted(set(left) | set(right))
    return {
        path: (left.get(path, ABSENT), right.get(path, ABSENT))
        for path in paths
        if left.get(path, ABSENT) != right.get(path, ABSENT)
    }


def unified_diff(a: str, b: str, name_a: str, name_b: str) -> str:
    lines = difflib.unified_diff(
        a.splitlines(), b.splitlines(), fromfile=name_a, tofile=name_b, lineterm=""
    )
    return "\n".join(lines)


def shown(value: Any) -> str:
    """A field's value as the table shows it: a dash for a field the version does not have."""
    if value is ABSENT:
        return NOTHING
    return value if isinstance(value, str) else json.dumps(value)


def _cell(value: Any) -> str:
    if value is ABSENT:
        return f'<td title="not in this version" style="color:#6e7781">{NOTHING}</td>'
    return f'<td style="white-space:pre-wrap">{escape(shown(value))}</td>'


def fields_html(changes: dict[str, tuple[Any, Any]], name_a: str, name_b: str) -> str:
    if not changes:
        return "<p><i>The two versions pin the same configuration.</i></p>"
    rows = "".join(
        f"<tr><td><code>{escape(path)}</code></td>{_cell(old)}{_cell(new)}</tr>"
        for path, (old, new) in changes.items()
    )
    head = f"<tr><th>field</th><th>{escape(name_a)}</th><th>{escape(name_b)}</th></tr>"
    return f'<div class="ar-fields">{DIFF_STYLE}<table>{head}{rows}</table></div>'


def provenance_html(version: dict[str, Any]) -> str:
    """Who published a version, and when."""
    return (
        f"<b>v{version['number']}</b> by {escape(who(version, 'created_by'))}, "
        f"{escape(when(version.get('created_at')))}"
    )


def differ_count(count: int) -> str:
    return "1 field differs" if count == 1 else f"{count} fields differ"


def side_by_side_html(a: str, b: str, name_a: str, name_b: str) -> str:
    if a == b:
        return "<p><i>The system prompts are the same.</i></p>"
    table = difflib.HtmlDiff(wrapcolumn=70).make_table(
        a.splitlines(), b.splitlines(), name_a, name_b
    )
    return f'<div class="ar-diff">{DIFF_STYLE}{table}</div>'


def unified_html(diff: str) -> str:
    if not diff:
        return "<p><i>No difference.</i></p>"
    styles = {"+": "ar-plus", "-": "ar-minus", "@": "ar-at"}
    lines = (
        f'<span class="{styles.get(line[:1], "")}">{escape(line)}</span>'
        for line in diff.splitlines()
    )
    return f'<div class="ar-diff">{DIFF_STYLE}<pre>{"<br>".join(lines)}</pre></div>'


class VersionDiff:
    """Versions `a` and `b` (numbers, or "latest") of an agent (an id or a name): the fields
    that differ, then the system prompts side by side and the configurations as a unified diff.
    """

    def __init__(
        self,
        agent: str,
        a: int | str,
        b: int | str,
        client: AgentRuntimeClient | None = None,
    ) -> None:
        with nullcontext(client) if client else AgentRuntimeClient() as api:
            self.agent = resolve_agent(api, agent)
            self.a = api.get_version(self.agent["id"], resolve_version(self.agent, a))
            self.b = api.get_version(self.agent["id"], resolve_version(self.agent, b))
        name_a, name_b = f"v{self.a['number']}", f"v{self.b['number']}"
        config_a, config_b = version_config(self.a), version_config(self.b)
        self.changed_fields = changed_fields(config_a, config_b)
        prompt_a, prompt_b = config_a.get("system_prompt", ""), config_b.get("system_prompt", "")
        self.prompt_diff = unified_diff(prompt_a, prompt_b, name_a, name_b)
        self.config_diff = unified_diff(
            json.dumps(config_a, indent=2, sort_keys=True),
            json.dumps(config_b, indent=2, sort_keys=True),
            f"{name_a}.json",
            f"{name_b}.json",
        )
        heading = (
            f"<h4>{escape(self.agent['name'])}: {name_a} → {name_b} "
            f"({differ_count(len(self.changed_fields))})</h4>"
            f"<p>{provenance_html(self.a)} · {provenance_html(self.b)}</p>"
        )
        self.fields_view = widgets.HTML(heading + fields_html(self.changed_fields, name_a, name_b))
        self.prompt_view = widgets.HTML(side_by_side_html(prompt_a, prompt_b, name_a, name_b))
        self.config_view = widgets.HTML(unified_html(self.config_diff))
        tabs = widgets.Tab(
            children=[self.prompt_view, self.config_view],
            titles=("System prompt", "Configuration"),
        )
        self.widget = widgets.VBox([self.fields_view, tabs])

    @property
    def html(self) -> str:
        """Everything the widget shows, as one HTML string."""
        return str(self.fields_view.value + self.prompt_view.value + self.config_view.value)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
