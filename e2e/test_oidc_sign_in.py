"""Sign-in through an identity provider (OIDC_ISSUER): authorization code with PKCE, then the
API accepts the provider's access token. The provider is nanoidp, a real local OIDC server."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import running_stack
from tests.oidc_provider import AUDIENCE, CLIENT_ID, CLIENT_SECRET, PASSWORD, running_oidc_provider
from tests.stack import DevStack


@pytest.fixture(scope="module")
def oidc_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    base = tmp_path_factory.mktemp("e2e-oidc")
    (base / "idp").mkdir()
    with (
        running_oidc_provider(base / "idp") as provider,
        running_stack(
            base,
            OIDC_ISSUER=provider.issuer,
            OIDC_AUDIENCE=AUDIENCE,
            WORKBENCH_OIDC_CLIENT_ID=CLIENT_ID,
            WORKBENCH_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        ) as stack,
    ):
        with stack.client() as admin:
            acme = admin.create_tenant("acme")
            with stack.client() as client:
                client.http.headers["X-Tenant-Id"] = acme["id"]
                client.create_agent("acme-helper", "Visible to acme only.")
        yield stack


def test_sign_in_with_the_identity_provider(page: Page, oidc_stack: DevStack) -> None:
    page.set_default_timeout(15_000)
    page.goto(f"{oidc_stack.ui_url}/runs")
    page.wait_for_url(re.compile(r"/sign-in\?next=/runs/?$"))
    expect(page.locator("#sign-in-local")).to_have_count(0)  # no local admin with an issuer

    page.locator("#sign-in-oidc").click()
    page.locator("input[name=username]").fill("alice")
    if page.locator("input[name=password]").count() == 0:
        page.locator("button[type=submit]").first.click()
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")

    page.wait_for_url(re.compile(re.escape(oidc_stack.ui_url) + r"/runs/?$"))
    expect(page.locator("#identity-tenant")).to_have_text("acme")
    expect(page.locator("#identity-user")).to_contain_text("alice")
    page.goto(f"{oidc_stack.ui_url}/agents")
    expect(page.get_by_text("acme-helper")).to_be_visible()
    expect(page.get_by_text("demo-calculator")).to_have_count(0)  # the default tenant's

    page.locator("#sign-out").click()
    page.wait_for_url(re.compile(r"/sign-in"))
    expect(page.locator("#sign-in-oidc")).to_be_visible()
