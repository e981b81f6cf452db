"""Releases in a browser: promote a version to prod on the agent page, see the alias and its
history, roll back, promote to another alias, split prod 90/10 with a candidate; create a
schedule (its field errors first), see its next fires, pause it, trigger it now and follow its
run; edit a schedule's interval; backfill a past range and see its fires' runs; create a
webhook, see its secret once, hear a test ping, see a failed delivery's status code and next
retry, redeliver it; the new pages on a phone; and what those pages compute from the API's
answers (no browser).

The stack here allows private networks (the webhook receiver listens on loopback) and retries a
failed delivery only after ten minutes, so what a failure looks like stays on the page.
"""

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from app.view.releases import (
    CRON,
    FALLBACK_WEBHOOK_EVENTS,
    INTERVAL,
    aliases_by_version,
    backfill_done,
    candidate_weight,
    delivery_row,
    fire_time,
    input_time,
    interval_parts,
    interval_seconds,
    interval_text,
    release_choice,
    release_choices,
    release_wanted,
    rollback_targets,
    schedule_row,
    set_alias_body,
    split_targets,
    targets_text,
    timing_body,
    utc_input,
    webhook_events,
)
from client import AgentRuntimeClient
from e2e.conftest import ARTIFACTS, running_stack
from e2e.test_workbench import RUN_TIMEOUT, scripted, unique
from tests.stack import DevStack
from tests.webhook_receiver import WebhookReceiver, running_receiver

PHONE_WIDTH = 390


@pytest.fixture(scope="module")
def releases_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    base = tmp_path_factory.mktemp("e2e-releases")
    env = {"TOOL_ALLOW_PRIVATE_NETWORKS": "true", "WEBHOOK_RETRY_SCHEDULE": "600,600"}
    with running_stack(base, **env) as stack:
        yield stack


@pytest.fixture(scope="module")
def browser_context_args(releases_stack: DevStack) -> dict[str, Any]:
    """This module's pages are its own stack's (the session's stack is not started for it)."""
    return {"viewport": {"width": 1440, "height": 900}, "base_url": releases_stack.ui_url}


@pytest.fixture
def screen(page: Page, request: pytest.FixtureRequest, releases_stack: DevStack) -> Iterator[Page]:
    """The browser page; a failing test leaves a screenshot, the console and the stack's log."""
    console: list[str] = []

    def record(message: ConsoleMessage) -> None:
        console.append(f"[{message.type}] {message.text}")

    page.on("console", record)
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "screenshot.png"), full_page=True)
        (folder / "console.log").write_text("\n".join(console) + "\n")
        shutil.copy(releases_stack.output, folder / "dev.log")


@pytest.fixture
def api(releases_stack: DevStack) -> Iterator[AgentRuntimeClient]:
    with releases_stack.client() as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as running:
        yield running


def agent_with_versions(api: AgentRuntimeClient, count: int) -> str:
    agent = api.create_agent(unique("releases"))
    for number in range(1, count + 1):
        api.publish_version(agent["id"], scripted({"text": f"v{number} answers."}))
    return str(agent["id"])


def choose(screen: Page, select: str, option: str) -> None:
    screen.locator(select).click()
    screen.get_by_role("option", name=option, exact=True).click()
    expect(screen.locator(select)).to_have_text(option)


def fits_the_phone(screen: Page) -> None:
    width = screen.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{screen.url}: the page is {width} px wide"


def version_row(screen: Page, number: int) -> Locator:
    return screen.locator(f'.version-row[data-version="{number}"]')


def alias_row(screen: Page, name: str) -> Locator:
    return screen.locator(f'.alias-row[data-alias="{name}"]')


def test_promote_to_prod_see_its_history_and_roll_back(
    screen: Page, api: AgentRuntimeClient
) -> None:
    agent_id = agent_with_versions(api, 3)
    screen.goto(f"/agents/{agent_id}?tab=versions")
    expect(screen.locator("#no-aliases")).to_be_visible()

    version_row(screen, 2).locator(".promote-prod").click()
    prod = alias_row(screen, "prod")
    expect(prod.locator(".alias-targets")).to_have_text("v2")
    expect(version_row(screen, 2).locator(".version-aliases")).to_have_text("prod")
    expect(version_row(screen, 2).locator(".promote-prod")).to_be_disabled()
    expect(prod.locator(".alias-rollback")).to_be_disabled()  # nowhere to go back to yet

    version_row(screen, 3).locator(".promote-prod").click()
    expect(prod.locator(".alias-targets")).to_have_text("v3")
    expect(version_row(screen, 2).locator(".version-aliases")).to_have_text("")
    expect(prod.locator(".alias-rollback")).to_have_text("Roll back to v2")

    prod.locator(".alias-history-toggle").click()
    moves = screen.locator("#alias-history .alias-move")
    expect(moves.locator(".move-after")).to_have_text(["v3", "v2"])  # newest first
    expect(moves.locator(".move-before")).to_have_text(["v2", "—"])

    prod.locator(".alias-rollback").click()
    expect(prod.locator(".alias-targets")).to_have_text("v2")
    expect(moves.locator(".move-after")).to_have_text(["v2", "v3", "v2"])
    expect(prod.locator(".alias-rollback")).to_have_text("Roll back to v3")
    assert api.get_alias(agent_id, "prod")["version"] == 2

    # Another alias, from a version's menu; then that menu offers it by name.
    version_row(screen, 1).locator(".promote-menu").click()
    screen.locator(".promote-other").click()
    screen.locator("#promote-alias-name").fill("Canary Build")
    screen.locator("#promote-alias-submit").click()
    expect(screen.locator("#promote-alias-error")).to_contain_text("lowercase")
    screen.locator("#promote-alias-name").fill("staging")
    screen.locator("#promote-alias-submit").click()
    expect(alias_row(screen, "staging").locator(".alias-targets")).to_have_text("v1")
    version_row(screen, 3).locator(".promote-menu").click()
    screen.locator(".promote-to", has_text="staging").click()
    expect(alias_row(screen, "staging").locator(".alias-targets")).to_have_text("v3")
    expect(version_row(screen, 3).locator(".version-aliases")).to_have_text("staging")

    # A version's page names the aliases that point at it.
    screen.goto(f"/agents/{agent_id}/versions/2")
    expect(screen.locator("#version-aliases")).to_have_text("prod")
    screen.goto(f"/agents/{agent_id}/versions/1")
    expect(screen.locator("#version-model")).to_be_visible()
    expect(screen.locator("#version-aliases")).to_have_text("")

    # The launcher offers the aliases; a run through one shows it, and its steps' worker build.
    screen.goto(f"/agents/{agent_id}?tab=run")
    choose(screen, "#launch-version", "prod (alias)")
    screen.locator("#launch-input").fill("Which version?")
    screen.locator("#start-run").click()
    screen.wait_for_url(re.compile(r"/runs/run_\w+$"))
    expect(screen.locator("#run-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT)
    expect(screen.locator("#run-alias")).to_have_text("via prod")
    run = api.get_run(screen.url.rsplit("/", 1)[1])
    assert (run["alias"], run["version"]) == ("prod", 2)
    (step,) = api.list_steps(run["id"])
    expect(screen.locator(".step-worker-build")).to_have_text(step["worker_build"])


def test_create_pause_and_trigger_a_schedule(screen: Page, api: AgentRuntimeClient) -> None:
    agent = api.create_agent(unique("scheduled"))
    api.publish_version(agent["id"], scripted({"text": "Tick."}))
    screen.goto("/schedules")
    screen.locator("#new-schedule").click()
    choose(screen, "#new-schedule-agent", agent["name"])
    choose(screen, "#new-schedule-version", "v1")
    screen.locator("#new-schedule-input").fill("Tick once.")
    screen.get_by_role("radio", name="Every…").click()
    screen.locator("#new-schedule-every").fill("2")
    choose(screen, "#new-schedule-unit", "hours")
    screen.locator("#new-schedule-timezone").fill("Mars/Olympus")
    screen.locator("#create-schedule").click()
    expect(screen.locator("#new-schedule-timezone-error")).to_contain_text("time zone")

    screen.locator("#new-schedule-timezone").fill("Europe/Paris")
    screen.locator("#create-schedule").click()
    expect(screen.locator("#schedule-form")).to_have_count(0)
    row = screen.locator(".schedule-row")
    expect(row).to_have_count(1)
    expect(row.locator(".schedule-spec")).to_have_text("every 2 h")
    expect(row.locator(".schedule-next")).to_contain_text("Europe/Paris")
    expect(row.locator(".schedule-state")).to_have_text("active")
    (schedule,) = api.list_schedules(agent_id=agent["id"])
    assert (schedule["version"], schedule["interval_seconds"]) == (1, 7200)

    row.locator(".schedule-pause").click()
    expect(row.locator(".schedule-state")).to_have_text("paused")
    expect(row.locator(".schedule-next")).to_have_text("—")
    row.locator(".schedule-unpause").click()
    expect(row.locator(".schedule-state")).to_have_text("active")

    row.locator(".schedule-link").click()
    screen.wait_for_url(re.compile(rf"/schedules/{schedule['id']}$"))
    expect(screen.locator("#schedule-spec")).to_have_text("every 2 h")
    fires = screen.locator(".fire-time")
    expect(fires.first).to_contain_text("Europe/Paris")
    assert 1 <= fires.count() <= 5
    expect(screen.get_by_text("No runs yet")).to_be_visible()

    screen.locator("#schedule-trigger").click()
    runs = screen.locator("#schedule-runs .run-link")
    expect(runs).to_have_count(1, timeout=RUN_TIMEOUT)
    expect(screen.locator("#schedule-runs .run-status")).to_have_text(
        "succeeded", timeout=RUN_TIMEOUT
    )
    expect(screen.locator("#schedule-fires")).to_have_text("1")
    runs.click()
    screen.wait_for_url(re.compile(r"/runs/run_\w+$"))
    expect(screen.locator("#run-schedule")).to_be_visible()
    screen.locator("#run-schedule").click()
    screen.wait_for_url(re.compile(rf"/schedules/{schedule['id']}$"))

    screen.locator("#schedule-delete").click()
    screen.locator("#schedule-delete-confirm").click()
    screen.wait_for_url(re.compile(r"/schedules$"))
    expect(screen.locator(f'[data-schedule="{schedule["id"]}"]')).to_have_count(0)
    assert api.list_schedules(agent_id=agent["id"]) == []


def test_split_prod_ninety_ten_with_a_candidate(screen: Page, api: AgentRuntimeClient) -> None:
    agent_id = agent_with_versions(api, 3)
    screen.goto(f"/agents/{agent_id}?tab=versions")
    version_row(screen, 2).locator(".promote-menu").click()
    screen.locator(".promote-split").click()
    expect(screen.locator("#promote-alias-name")).to_have_value("prod")
    choose(screen, "#promote-split-candidate", "v3")
    screen.locator("#promote-split-weight").fill("100")
    screen.locator("#promote-alias-submit").click()
    expect(screen.locator("#promote-split-error")).to_contain_text("1 to 99")

    screen.locator("#promote-split-weight").fill("10")
    screen.locator("#promote-alias-submit").click()
    prod = alias_row(screen, "prod")
    expect(prod.locator(".alias-targets")).to_have_text("v2 90% · v3 10%")
    for number in (2, 3):
        expect(version_row(screen, number).locator(".version-aliases")).to_have_text("prod")
    alias = api.get_alias(agent_id, "prod")
    assert alias["version"] is None
    assert sorted((t["version"], t["weight"]) for t in alias["versions"]) == [(2, 90), (3, 10)]
    prod.locator(".alias-history-toggle").click()
    expect(screen.locator("#alias-history .move-after")).to_have_text(["v2 90% · v3 10%"])

    # Switched off, the dialog points the alias at its version alone again.
    version_row(screen, 2).locator(".promote-menu").click()
    screen.locator(".promote-split").click()
    screen.locator("#promote-split").click()
    expect(screen.locator("#promote-split-candidate")).to_have_count(0)
    screen.locator("#promote-alias-submit").click()
    expect(prod.locator(".alias-targets")).to_have_text("v2")
    assert api.get_alias(agent_id, "prod")["version"] == 2


def test_edit_a_schedules_interval(screen: Page, api: AgentRuntimeClient) -> None:
    agent = api.create_agent(unique("edited"))
    api.publish_version(agent["id"], scripted({"text": "Tick."}))
    schedule = api.create_schedule(
        agent=agent["id"], input="Tick.", interval_seconds=7200, paused=True
    )
    screen.goto(f"/schedules/{schedule['id']}")
    expect(screen.locator("#schedule-spec")).to_have_text("every 2 h")
    screen.locator("#schedule-edit").click()
    form = screen.locator("#schedule-edit-form")
    expect(form.locator("#edit-schedule-every")).to_have_value("2")
    expect(form.locator("#edit-schedule-unit")).to_have_text("hours")
    expect(form.locator("#edit-schedule-input")).to_have_value("Tick.")

    form.locator("#edit-schedule-every").fill("0")
    form.locator("#save-schedule").click()
    expect(form.locator("#edit-schedule-interval-error")).to_contain_text("1 or more")
    form.locator("#edit-schedule-every").fill("30")
    choose(screen, "#edit-schedule-unit", "minutes")
    choose(screen, "#edit-schedule-version", "v1")
    form.locator("#edit-schedule-input").fill("Tock.")
    form.locator("#edit-schedule-timezone").fill("Mars/Olympus")
    form.locator("#save-schedule").click()
    expect(form.locator("#edit-schedule-timezone-error")).to_contain_text("time zone")
    assert api.get_schedule(schedule["id"])["interval_seconds"] == 7200  # nothing saved

    form.locator("#edit-schedule-timezone").fill("Europe/Paris")
    form.locator("#save-schedule").click()
    expect(form).to_have_count(0)
    expect(screen.locator("#schedule-spec")).to_have_text("every 30 min")
    expect(screen.locator("#schedule-state")).to_have_text("paused")  # not the form's to change
    saved = api.get_schedule(schedule["id"])
    assert (saved["interval_seconds"], saved["cron"], saved["timezone"]) == (
        1800,
        None,
        "Europe/Paris",
    )
    assert (saved["version"], saved["input"], saved["paused"]) == (1, "Tock.", True)

    # To a cron: the interval goes.
    screen.locator("#schedule-edit").click()
    screen.get_by_role("radio", name="Cron").click()
    form.locator("#edit-schedule-cron").fill("0 9 * * 1-5")
    form.locator("#save-schedule").click()
    expect(screen.locator("#schedule-spec")).to_have_text("cron 0 9 * * 1-5")
    saved = api.get_schedule(schedule["id"])
    assert (saved["cron"], saved["interval_seconds"]) == ("0 9 * * 1-5", None)


def test_backfill_a_past_range_and_see_its_runs(screen: Page, api: AgentRuntimeClient) -> None:
    agent = api.create_agent(unique("backfilled"))
    api.publish_version(agent["id"], scripted({"text": "Caught up."}))
    every = timedelta(hours=6)
    schedule = api.create_schedule(
        agent=agent["id"], input="Catch up.", interval_seconds=int(every.total_seconds())
    )
    # An interval's fires fall on its multiples since the epoch: the range holds the three
    # before the last one due, and starts between two fires.
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    last = epoch + (datetime.now(UTC) - epoch) // every * every
    due = [last - 3 * every, last - 2 * every, last - every]
    screen.goto(f"/schedules/{schedule['id']}")
    expect(screen.get_by_text("No runs yet")).to_be_visible()
    screen.locator("#schedule-backfill").click()
    form = screen.locator("#schedule-backfill-form")
    future = datetime.now(UTC) + timedelta(days=1)
    form.locator("#backfill-start").fill(input_time(due[0] - timedelta(minutes=30)))
    form.locator("#backfill-end").fill(input_time(future))
    form.locator("#backfill-submit").click()
    expect(form.locator("#backfill-end-error")).to_contain_text("past")

    form.locator("#backfill-end").fill(input_time(last - timedelta(minutes=1)))
    form.locator("#backfill-submit").click()
    expect(form).to_have_count(0)
    expect(screen.get_by_text("Backfill requested")).to_be_visible()
    runs = screen.locator("#schedule-runs .run-link")
    expect(runs).to_have_count(3, timeout=RUN_TIMEOUT)
    expect(screen.locator("#schedule-runs .run-status")).to_have_text(
        ["succeeded"] * 3, timeout=RUN_TIMEOUT
    )
    made = api.schedule_runs(schedule["id"])
    scheduled = sorted(datetime.fromisoformat(run["metadata"]["scheduled_at"]) for run in made)
    assert scheduled == due


def test_a_webhook_shows_its_secret_once_and_its_deliveries(
    screen: Page, api: AgentRuntimeClient, receiver: WebhookReceiver
) -> None:
    screen.goto("/webhooks")
    screen.locator("#new-webhook").click()
    screen.locator("#new-webhook-url").fill(receiver.url("/ui"))
    screen.locator("#new-webhook-all").click()  # off: choose events one by one
    screen.locator("#create-webhook").click()
    expect(screen.locator("#new-webhook-events-error")).to_be_visible()
    for event in ("run.completed", "run.failed"):
        screen.get_by_role("checkbox", name=event, exact=True).click()
    screen.locator("#create-webhook").click()

    shown = screen.locator("#webhook-secret")
    expect(shown).to_contain_text("will not be shown again")
    secret = shown.locator(".secret-value").inner_text()
    assert secret.startswith("whsec_")
    (webhook,) = [w for w in api.list_webhooks() if w["url"] == receiver.url("/ui")]
    assert webhook["events"] == ["run.completed", "run.failed"]
    row = screen.locator(f'.webhook-row[data-webhook="{webhook["id"]}"]')
    expect(row.locator(".webhook-events")).to_have_text("run.completed, run.failed")
    shown.locator(".secret-done").click()
    expect(shown).to_have_count(0)
    screen.reload()
    expect(row).to_be_visible()
    expect(screen.locator(".secret-value")).to_have_count(0)  # never again
    assert secret not in screen.content()

    row.locator(".webhook-enabled").click()
    expect(row.locator(".webhook-enabled")).to_have_attribute("data-state", "unchecked")
    assert api.get_webhook(webhook["id"])["enabled"] is False
    row.locator(".webhook-enabled").click()
    expect(row.locator(".webhook-enabled")).to_have_attribute("data-state", "checked")

    # A test ping, delivered; then one the endpoint refuses, waiting for its retry.
    row.locator(".webhook-deliveries").click()
    screen.wait_for_url(re.compile(rf"/webhooks/{webhook['id']}$"))
    expect(screen.get_by_text("No deliveries")).to_be_visible()
    screen.locator("#webhook-test").click()
    ping = screen.locator(".delivery-row").first
    expect(ping.locator(".delivery-event")).to_have_text("webhook.test")
    expect(ping.locator(".delivery-status")).to_have_text("delivered", timeout=RUN_TIMEOUT)
    expect(ping.locator(".delivery-code")).to_have_text("200")
    receiver.wait_for(1, "/ui")

    receiver.fail_next(1, status=503)
    screen.locator("#webhook-test").click()
    expect(screen.locator(".delivery-row")).to_have_count(2)
    refused = screen.locator(".delivery-row").first
    expect(refused.locator(".delivery-code")).to_have_text("503", timeout=RUN_TIMEOUT)
    expect(refused.locator(".delivery-status")).to_have_text("pending")
    expect(refused.locator(".delivery-attempts")).to_have_text("1")
    expect(refused.locator("td").nth(4)).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d "))

    refused.locator(".delivery-redeliver").click()
    expect(refused.locator(".delivery-status")).to_have_text("delivered", timeout=RUN_TIMEOUT)
    expect(refused.locator(".delivery-attempts")).to_have_text("2")
    expect(refused.locator(".delivery-code")).to_have_text("200")
    refused.locator(".delivery-body").click()
    expect(screen.locator("#delivery-payload")).to_contain_text("webhook.test")

    # A run's ending is delivered too; a new secret is shown once.
    agent = api.create_agent(unique("heard"))
    api.publish_version(agent["id"], scripted({"text": "Done."}))
    api.wait_for_run(api.start_run(agent["id"], "Tell them.")["id"], timeout=60)
    receiver.wait_for(4, "/ui")
    screen.reload()
    expect(screen.locator(".delivery-row").first.locator(".delivery-event")).to_have_text(
        "run.completed"
    )
    screen.locator("#webhook-rotate").click()
    rotated = screen.locator("#webhook-secret .secret-value")
    expect(rotated).to_have_text(re.compile(r"^whsec_"))
    assert rotated.inner_text() != secret


def test_the_release_pages_fit_a_phone(screen: Page, api: AgentRuntimeClient) -> None:
    agent_id = agent_with_versions(api, 2)
    api.set_alias(agent_id, "prod", 1)
    api.set_alias(agent_id, "prod", 2)
    schedule = api.create_schedule(
        agent=agent_id, input="x" * 200, cron="30 7 * * mon-fri", timezone="America/New_York"
    )
    webhook = api.create_webhook("https://hooks.example.com/" + "y" * 120, ["*"])
    api.test_webhook(webhook["id"])

    screen.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    for path, shown in (
        (f"/agents/{agent_id}?tab=versions", "#aliases-table"),
        ("/schedules", "#schedules-table"),
        (f"/schedules/{schedule['id']}", "#fire-times"),
        ("/webhooks", "#webhooks-table"),
        (f"/webhooks/{webhook['id']}", "#deliveries-table"),
    ):
        screen.goto(path)
        expect(screen.locator(shown)).to_be_visible()
        fits_the_phone(screen)
    screen.goto("/schedules")
    screen.locator("#new-schedule").click()
    expect(screen.locator("#schedule-form")).to_be_visible()
    fits_the_phone(screen)
    screen.goto("/webhooks")
    screen.locator("#new-webhook").click()
    expect(screen.locator("#webhook-form")).to_be_visible()
    fits_the_phone(screen)


# What the pages compute from the API's answers (no browser) ----------------------------------


def test_aliases_read_as_versions_and_roll_back_to_their_last_origin() -> None:
    split = [{"version": 3, "weight": 90}, {"version": 4, "weight": 10}]
    assert (targets_text([{"version": 3, "weight": 100}]), targets_text(split)) == (
        "v3",
        "v3 90% · v4 10%",
    )
    assert targets_text([]) == "—"
    alone = [{"version": 3, "weight": 100}]
    alias: dict[str, Any] = {"name": "prod", "versions": alone}
    moves: list[dict[str, Any]] = [
        {"from_versions": split, "to_versions": alone},
        {"from_versions": [], "to_versions": split},
    ]
    assert rollback_targets(alias, moves) == split
    assert set_alias_body(split) == {"versions": split}
    assert split_targets(3, 4, 10) == split
    assert [candidate_weight(text) for text in ("10", " 99 ", "0", "100", "ten", "")] == [
        *(10, 99, None, None, None, None),
    ]
    assert set_alias_body(alone) == {"version": 3}
    # Moved since (the newest move did not bring it here), or never moved: nothing to go to.
    assert rollback_targets({**alias, "versions": split}, moves) == []
    assert rollback_targets(alias, moves[1:]) == []
    assert aliases_by_version([alias, {"name": "canary", "versions": split}]) == {
        3: ["canary", "prod"],
        4: ["canary"],
    }


def test_version_choices_round_trip() -> None:
    choices = release_choices(["prod", "canary"], [1, 3, 2])
    assert choices == ["latest", "canary (alias)", "prod (alias)", "v3", "v2", "v1"]
    assert [release_wanted(choice) for choice in choices] == [
        *("latest", "canary", "prod"),
        *(3, 2, 1),
    ]
    assert [release_choice(v) for v in (None, "latest", 3, "3", "prod")] == [
        *("latest", "latest", "v3", "v3", "prod (alias)"),
    ]


def test_schedules_read_in_their_time_zone() -> None:
    assert [interval_text(s) for s in (30, 90, 300, 7200, 86400)] == [
        *("every 30 s", "every 90 s", "every 5 min", "every 2 h", "every 1 d"),
    ]
    at = "2026-12-07T08:00:00Z"
    assert fire_time(at, "Europe/Paris") == "Mon 2026-12-07 09:00 Europe/Paris (08:00 UTC)"
    assert fire_time(at, "UTC") == "Mon 2026-12-07 08:00 UTC"
    assert fire_time(at, "Nowhere/Atlantis") == "Mon 2026-12-07 08:00 UTC"
    schedule = {
        "id": "sch_1",
        "agent_id": "agt_1",
        "version": "3",
        "cron": "0 9 * * mon-fri",
        "timezone": "Europe/Paris",
        "next_fire_times": [at],
        "paused": False,
    }
    row = schedule_row(schedule, {"agt_1": "digest"})
    assert (row.agent_name, row.version, row.spec) == ("digest", "v3", "cron 0 9 * * mon-fri")
    assert row.next_fire == "Mon 2026-12-07 09:00 Europe/Paris"
    assert schedule_row({**schedule, "paused": True}).next_fire == "—"
    assert interval_seconds("5", "minutes") == 300
    assert interval_seconds("five", "minutes") is None


def test_a_schedules_form_reads_its_timing_and_a_backfills_range() -> None:
    assert [interval_parts(s) for s in (1800, 7200, 172800, 90, None)] == [
        *(("30", "minutes"), ("2", "hours"), ("2", "days"), ("90", "seconds"), ("0", "seconds")),
    ]
    assert timing_body(CRON, " 0 9 * * 1-5 ", "", "minutes") == ({"cron": "0 9 * * 1-5"}, "")
    assert timing_body(INTERVAL, "", "30", "minutes") == ({"interval_seconds": 1800}, "")
    assert timing_body(INTERVAL, "", "0", "minutes")[1] == "A whole number, 1 or more."
    at = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    assert utc_input("2026-12-04T09:30") == at
    assert utc_input(input_time(at)) == at
    assert utc_input("2026-12-04T10:30+01:00") == at
    assert utc_input("") is None
    assert utc_input("yesterday") is None
    assert backfill_done({"action": "backfill"}) == "Backfill requested."
    assert backfill_done({"fires": 3}) == "Backfill requested: 3 fires."
    assert backfill_done({"fires": 1}) == "Backfill requested: 1 fire."


def test_webhook_events_are_the_apis_with_the_contracts_as_fallback() -> None:
    served = {"webhook_events": ["run.completed", "approval.requested", "*"]}
    assert webhook_events(served) == ["run.completed", "approval.requested"]
    assert webhook_events({}) == list(FALLBACK_WEBHOOK_EVENTS)
    delivery = delivery_row(
        {
            "id": "msg_1",
            "event_type": "run.failed",
            "status": "pending",
            "attempts": 2,
            "last_status_code": 503,
            "next_attempt_at": "2026-12-07T08:00:00Z",
            "created_at": "2026-12-07T07:00:00Z",
        }
    )
    assert (delivery.status_code, delivery.next_retry) == ("503", "2026-12-07 08:00:00")
    assert delivery_row({"id": "msg_2", "status": "delivered"}).next_retry == "—"
