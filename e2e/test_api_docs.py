"""The API's interactive docs render in Chromium with every request off this machine refused."""

from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, expect

from tests.stack import DevStack


def _offline(page: Page) -> list[str]:
    """Refuse every request that leaves loopback, as an air-gapped install would; the refused
    URLs, for the assertion."""
    refused: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    return refused


def test_swagger_ui_renders_offline(page: Page, stack: DevStack) -> None:
    refused = _offline(page)
    page.goto(f"{stack.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Agent Runtime")
    expect(page.locator(".opblock-tag", has_text="runs").first).to_be_visible()
    assert refused == []


def test_redoc_renders_offline(page: Page, stack: DevStack) -> None:
    refused = _offline(page)
    page.goto(f"{stack.url}/redoc")
    expect(page.locator("h1", has_text="Agent Runtime")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("/v1/meta", exact=True).first).to_be_attached()
    assert refused == []
