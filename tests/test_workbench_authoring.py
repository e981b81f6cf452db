"""The version editor's and the diff's pure parts: what the editor sends and shows for fields it
cannot read, the providers' parameters documented from `GET /v1/meta`, which tool fields apply,
and the word-level diff with its "changes only" view."""

from app.editor import (
    EditorForm,
    ToolRow,
    draft_body,
    parameter_errors,
    parameter_help,
    takes_hosts,
    tool_row,
    version_body,
    with_local_errors,
)
from app.view import agent_row, version_row
from app.view.agents import DiffPart, changes_only, diff_rows, word_diff
from backend.services.meta import meta
from backend.settings import Settings

META = meta(Settings()).model_dump(mode="json")


def test_a_field_the_form_cannot_read_is_sent_as_typed_so_the_api_refuses_it_too() -> None:
    form = EditorForm(parameters="{not json", max_steps="many", metadata="[1]")
    body, errors = draft_body(form)
    assert set(errors) == {"model.parameters", "limits.max_steps", "metadata"}
    assert body["model"]["parameters"] == "{not json"
    assert body["limits"]["max_steps"] == "many"
    assert body["metadata"] == [1]


def test_the_forms_own_errors_win_over_the_apis_for_the_same_field() -> None:
    local = {"model.parameters": "not valid JSON"}
    answered = {"model.parameters": "Input should be an object", "system_prompt": "too long"}
    assert with_local_errors(local, answered) == {
        "system_prompt": "too long",
        "model.parameters": "not valid JSON",
    }


def test_the_scripted_providers_options_are_documented_from_meta() -> None:
    rows = {row.name: row for row in parameter_help(META["provider_parameters"]["scripted"])}
    assert {"script", "script[].text", "script[].delay_seconds", "script[].error"} <= set(rows)
    assert {"script[].chunk_delay_seconds", "script[].error.message"} <= set(rows)
    assert rows["script"].type == "list of object"
    assert rows["script[].delay_seconds"].type == "number"
    assert rows["script[].delay_seconds"].default == "0"
    assert rows["script[].error.message"].default == '"scripted failure"'
    assert rows["script[].text"].description


def test_a_real_providers_options_are_documented_without_their_null() -> None:
    rows = {row.name: row for row in parameter_help(META["provider_parameters"]["openai"])}
    assert rows["temperature"].type == "number"
    assert rows["max_tokens"].type == "integer"
    assert "temperature" in rows["temperature"].description.lower()


def test_errors_inside_the_parameters_are_listed_by_their_key() -> None:
    errors = {
        "model.parameters.bogus": "Extra inputs are not permitted",
        "model.parameters": "ignored here",
        "limits.max_steps": "too big",
    }
    assert parameter_errors(errors) == ["bogus: Extra inputs are not permitted"]


def test_only_a_builtin_that_makes_requests_takes_allowed_hosts() -> None:
    assert not takes_hosts(ToolRow(type="builtin", name="calculator"))
    assert takes_hosts(ToolRow(type="builtin", name="http_request"))
    assert not takes_hosts(ToolRow(type="http", name="lookup", allowed_hosts="a.example"))
    # Hosts a version already gives a tool stay visible, so they are not dropped unseen.
    kept = tool_row({"type": "builtin", "name": "calculator", "allowed_hosts": ["a.example"]})
    assert kept.takes_hosts
    calculator = ToolRow(type="builtin", name="calculator", allowed_hosts="")
    assert "allowed_hosts" not in version_body(EditorForm(tools=[calculator]))["tools"][0]


def test_changed_words_are_marked_within_a_changed_line() -> None:
    left, right = word_diff('  "name": "demo",', '  "name": "gpt-4o",')
    assert [p for p in left if p.changed] == [DiffPart("demo", True)]
    assert [p for p in right if p.changed] == [DiffPart("gpt-4o", True)]
    assert "".join(p.text for p in left) == '  "name": "demo",'
    assert "".join(p.text for p in right) == '  "name": "gpt-4o",'


def test_changes_only_hides_unchanged_lines_and_counts_them() -> None:
    a = {"model": {"provider": "scripted", "name": "demo"}, "system_prompt": "Hi.", "notes": ""}
    b = {**a, "system_prompt": "Hello."}
    rows = diff_rows(a, b)
    changed = [row for row in rows if row.kind == "changed"]
    assert len(changed) == 1
    assert [p.text for p in changed[0].right_parts if p.changed] == ["Hello"]
    shown = changes_only(rows)
    assert [row.kind for row in shown] == ["skipped", "changed", "skipped"]
    assert sum(row.hidden for row in shown) == len(rows) - 1
    assert shown[0].left == f"{shown[0].hidden} unchanged lines hidden"
    one = changes_only(diff_rows({"a": 1}, {"a": 2}))
    assert [row.left for row in one if row.kind == "skipped"] == [
        "1 unchanged line hidden",
        "1 unchanged line hidden",
    ]


def test_authors_are_shown_by_name_and_the_caller_as_you() -> None:
    version = {
        "number": 1,
        "created_by": "key:k_1",
        "created_by_name": "Ada",
        "created_at": "2026-01-01T00:00:00Z",
    }
    assert version_row(version).author == "Ada"
    assert version_row(version, ("key:k_1", "t")).author == "you"
    assert version_row({**version, "created_by_name": None}).author == "k_1"
    agent = {"id": "agt_1", "name": "a", "created_by": "oidc:sam", "created_by_name": "Sam"}
    assert agent_row(agent).created_by == "Sam"
