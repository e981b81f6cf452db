"""A URL the model chooses is never the run's failure: one that cannot be requested is a tool
error the model reads, whatever part of it is malformed."""

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from core.models.agent_config import BuiltinTool, HttpTool
from tests.helpers import Api, agent_with, run_agent, script, steps_of, wait_for_run
from worker.tools import ToolContext, execute
from worker.types import ToolError

MALFORMED = [
    "http://0177.0.0.1/",  # octal: an IPv4 address httpx refuses
    "http://[::1/",  # an unclosed IPv6 literal
    "http://256.256.256.256/",
    "http://[v1.x]/",
    "http://a\x01b.example.com/",  # a control character in the host
    "http://example.com:abc/",
    "http://example.com:99999999999/",
    "http://xn--ls8h.la/",  # punycode IDNA refuses to decode
    "http://\u2603.net/",  # a name IDNA refuses to encode
    "http:///nothing",  # no host at all
]


def request(url: str) -> Any:
    tool = BuiltinTool(type="builtin", name="http_request", allowed_hosts=["example.com"])
    return asyncio.run(execute(tool, {"url": url}, ToolContext("run_x", 3, tool)))


@pytest.mark.parametrize("url", [*MALFORMED, "http://a\x00b.example.com/", "http://\ud800.com/"])
def test_a_url_that_cannot_be_requested_is_a_tool_error(url: str) -> None:
    with pytest.raises(ToolError, match="not a valid URL"):
        request(url)


@pytest.mark.parametrize("host", ["a" * 300, "a." + "b" * 64 + ".com", "a..b"])
def test_a_name_the_resolver_cannot_encode_is_a_tool_error(host: str) -> None:
    tool = BuiltinTool(type="builtin", name="http_request", allowed_hosts=[host])
    context = ToolContext("run_x", 3, tool)
    with pytest.raises(ToolError, match="failed"):
        asyncio.run(execute(tool, {"url": f"http://{host}/"}, context))


def test_the_allow_list_is_checked_on_the_url_as_requested() -> None:
    # The backslash ends the authority for browsers, not for httpx: the host is what it sends to.
    with pytest.raises(ToolError, match="allow-list"):
        request("http://example.com\\@example.org/")


@pytest.mark.usefixtures("engine_env")
def test_malformed_urls_are_tool_errors_and_the_run_goes_on(tenant_a: Api) -> None:
    calls = [{"name": "http_request", "arguments": {"url": url}} for url in MALFORMED]
    config = script(
        {"tool_calls": calls},
        {"text": "None of those could be fetched."},
        tools=[{"type": "builtin", "name": "http_request", "allowed_hosts": ["example.com"]}],
        limits={"max_steps": 20, "max_tokens": 20000, "timeout_seconds": 120},
    )
    run = wait_for_run(tenant_a, run_agent(tenant_a, agent_with(tenant_a, config))["id"])
    assert (run["status"], run["output"]) == ("succeeded", "None of those could be fetched."), run
    steps = steps_of(tenant_a, run["id"])
    tools = [step for step in steps if step["kind"] == "tool"]
    assert [step["input"]["arguments"]["url"] for step in tools] == MALFORMED
    for step in tools:
        assert step["status"] == "failed"
        assert step["attempt"] == 1
        assert step["error"]["code"] == "tool_error"
        assert "not a valid URL" in step["error"]["message"]
    final = steps[-1]
    # The model's last turn read every tool's answer: the prompt and one message per step.
    assert (final["kind"], final["status"]) == ("model", "succeeded")
    assert final["input"]["messages"] == len(steps)


class RedirectToAnImpossiblePort(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("location", "http://127.0.0.1:70000/elsewhere")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def test_a_redirect_to_a_url_that_cannot_be_requested_is_a_tool_error() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RedirectToAnImpossiblePort)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/orders"
        tool = HttpTool(type="http", name="orders", url=url, method="GET")
        context = ToolContext("run_x", 3, tool, allow_private_networks=True)
        with pytest.raises(ToolError, match="not a TCP port"):
            asyncio.run(execute(tool, {}, context))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
