"""What the workbench computes from the API's answers, without a browser: the editor's body and
errors, the diff, the waterfall, approval edits and the PKCE challenge."""

import json
from datetime import UTC, datetime

import pytest

from app.components import decision_arguments
from app.editor import EditorForm, FormError, ToolRow, editor_form, split_tool_errors, version_body
from app.oidc import challenge_of
from app.view import (
    ACTIVE,
    STATUS_COLORS,
    ApprovalView,
    StepView,
    diff_rows,
    remember_vocabulary,
    status_counts,
    vocabulary,
    waterfall,
    waterfall_span,
)
from backend.services.meta import meta
from backend.settings import Settings
from core.models.agent_config import BUILTIN_TOOLS

API_META = meta(Settings()).model_dump(mode="json")


def test_the_editor_round_trips_a_version() -> None:
    version = {
        "model": {"provider": "scripted", "name": "demo", "parameters": {"script": []}},
        "system_prompt": "Be brief.",
        "tools": [
            {"type": "builtin", "name": "calculator", "requires_approval": True},
            {
                "type": "http",
                "name": "lookup",
                "url": "https://example.com/{id}",
                "method": "GET",
                "parameters": {"type": "object"},
                "headers": {"Authorization": {"secret": "TOKEN"}},
                "timeout_seconds": 5,
            },
        ],
        "limits": {"max_steps": 3, "max_tokens": 100, "max_cost_usd": None},
        "metadata": {"team": "support"},
    }
    body = version_body(editor_form(version))
    assert body["model"] == version["model"]
    assert body["tools"][0] == {"type": "builtin", "name": "calculator", "requires_approval": True}
    assert body["tools"][1]["headers"] == {"Authorization": {"secret": "TOKEN"}}
    assert body["tools"][1]["timeout_seconds"] == 5
    assert body["limits"] == {"max_steps": 3, "max_tokens": 100}
    assert body["metadata"] == {"team": "support"}


def test_the_vocabulary_is_the_apis(monkeypatch: pytest.MonkeyPatch) -> None:
    words = vocabulary(API_META)
    assert words.builtin_tools == list(BUILTIN_TOOLS)
    assert words.run_statuses == API_META["run_statuses"]["all"]
    monkeypatch.setattr(ACTIVE, "_statuses", ())
    remember_vocabulary(words)
    assert "awaiting_approval" in ACTIVE
    assert "succeeded" not in ACTIVE
    runs = [{"status": "failed"}, {"status": "queued"}, {"status": "failed"}]
    counts = status_counts(runs, words.run_statuses)
    assert [(count.status, count.runs) for count in counts] == [("queued", 1), ("failed", 2)]


def test_every_status_the_api_names_has_a_colour() -> None:
    named = {*API_META["run_statuses"]["all"], *API_META["approval_statuses"]}
    assert named <= set(STATUS_COLORS)


def test_malformed_fields_are_named_before_asking_the_api() -> None:
    form = EditorForm(
        parameters="{not json",
        max_steps="many",
        tools=[ToolRow(type="http", name="x", url="https://a", parameters="[1]")],
    )
    with pytest.raises(FormError) as failed:
        version_body(form)
    assert set(failed.value.errors) == {
        "model.parameters",
        "limits.max_steps",
        "tools.0.parameters",
    }


def test_api_errors_land_on_their_tool_rows() -> None:
    general, rows = split_tool_errors(
        {
            "limits.max_steps": "too small",
            "tools.1.parameters": "not a schema",
            "tools.1.timeout_seconds": "too long",
            "tools.0": "unknown tool",
        },
        2,
    )
    assert general == {"limits.max_steps": "too small"}
    assert rows[0] == {"other": "tool: unknown tool"}
    assert rows[1] == {"parameters": "not a schema", "other": "timeout_seconds: too long"}


def test_the_diff_aligns_changed_lines() -> None:
    left = {"number": 1, "system_prompt": "a", "notes": "same"}
    right = {"number": 2, "system_prompt": "b", "notes": "same", "metadata": {}}
    rows = diff_rows(left, right)
    kinds = {row.kind for row in rows}
    assert "changed" in kinds or {"added", "removed"} <= kinds
    changed = [row for row in rows if row.kind != "equal"]
    assert any('"a"' in row.left and '"b"' in row.right for row in changed)
    assert all("number" not in row.left + row.right for row in rows)


def test_the_waterfall_shows_steps_and_waits_from_the_run_start() -> None:
    run = {"started_at": "2026-01-01T00:00:00Z"}
    steps = [
        StepView(
            seq=1,
            kind="model",
            name="m",
            started_at="2026-01-01T00:00:01Z",
            ended_at="2026-01-01T00:00:02Z",
        ),
        StepView(seq=2, kind="tool", name="t", started_at="2026-01-01T00:00:10Z", ended_at=""),
    ]
    approvals = [
        ApprovalView(
            step_seq=2, requested_at="2026-01-01T00:00:02Z", decided_at="2026-01-01T00:00:10Z"
        ),
    ]
    now = datetime(2026, 1, 1, 0, 0, 12, tzinfo=UTC)
    bars = waterfall(run, steps, approvals, now)
    assert [(b.label, b.offset, b.model, b.tool, b.approval) for b in bars] == [
        ("#1 m", 1.0, 1.0, None, None),
        ("#2 approval", 2.0, None, None, 8.0),
        ("#2 t", 10.0, None, 2.0, None),  # still running: up to now
    ]
    # On the page's track, in percent of the 12 s from the run's start to the last bar's end.
    assert [(b.kind, b.left, b.width) for b in bars] == [
        ("model", "8.333%", "8.333%"),
        ("approval", "16.667%", "66.667%"),
        ("tool", "83.333%", "16.667%"),
    ]
    assert bars[1].title == "#2 approval: waiting for approval 8.0 s, from 2.0 s"
    assert waterfall_span(bars) == 12.0


def test_approving_sends_arguments_only_when_edited() -> None:
    original = '{\n  "expression": "6*7"\n}'
    assert decision_arguments(original, None) is None
    assert decision_arguments(original, '{"expression": "6*7"}') is None
    assert decision_arguments(original, '{"expression": "6*8"}') == {"expression": "6*8"}
    with pytest.raises(ValueError, match="JSON object"):
        decision_arguments(original, "[1]")
    with pytest.raises(json.JSONDecodeError):
        decision_arguments(original, "{oops")


def test_the_pkce_challenge_is_rfc_7636s() -> None:
    # RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert challenge_of(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
