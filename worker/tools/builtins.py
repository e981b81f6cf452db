"""The built-in tools: calculator, current_time, http_request, artifact_write."""

import ast
import base64
import binascii
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from core.models.agent_config import BUILTIN_TOOLS, BuiltinTool
from core.netguard import DestinationRefusedError, guarded_client
from worker.tools.context import ToolContext, ToolFunction
from worker.tools.http import parse_url, read_limited
from worker.types import ToolError

# The built-in `http_request`.
HTTP_TIMEOUT_SECONDS = 10.0
HTTP_MAX_RESPONSE_BYTES = 256 * 1024


REGISTRY: dict[str, ToolFunction] = {}


def builtin(name: str) -> Callable[[ToolFunction], ToolFunction]:
    def register(function: ToolFunction) -> ToolFunction:
        assert name in BUILTIN_TOOLS, f"{name} must be declared in BUILTIN_TOOLS"
        REGISTRY[name] = function
        return function

    return register


# Calculator: arithmetic over an AST allow-list; never eval.
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
MAX_EXPONENT = 1000
MAX_MAGNITUDE = 10**100


def _evaluate(node: ast.AST) -> int | float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise ToolError("booleans are not numbers here")
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ToolError("exponent too large")
        result = _BINARY[type(node.op)](left, right)
    elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        result = _UNARY[type(node.op)](_evaluate(node.operand))
    else:
        raise ToolError(f"unsupported expression element: {type(node).__name__}")
    if isinstance(result, complex) or abs(result) > MAX_MAGNITUDE:
        raise ToolError("result out of range")
    return result  # type: ignore[no-any-return]


@builtin("calculator")
async def calculator(arguments: dict[str, Any], _context: ToolContext) -> dict[str, Any]:
    expression = str(arguments["expression"])
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ToolError(f"not an arithmetic expression: {expression!r}") from None
    try:
        value = _evaluate(tree)
    except ZeroDivisionError:
        raise ToolError("division by zero") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return {"expression": expression, "result": value}


@builtin("current_time")
async def current_time(arguments: dict[str, Any], _context: ToolContext) -> dict[str, Any]:
    name = arguments.get("timezone") or "UTC"
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError(f"unknown time zone {name!r}") from None
    now = datetime.now(UTC).astimezone(zone)
    return {"timezone": name, "iso": now.isoformat(), "weekday": now.strftime("%A")}


def _host_allowed(url: httpx.URL, allowed_hosts: list[str]) -> bool:
    # Both spellings of an internationalised name: as configured, either may appear.
    hosts = {url.host.lower(), url.raw_host.decode("ascii").lower()}
    return any(
        host == allowed.lower() or host.endswith("." + allowed.lower())
        for host in hosts
        for allowed in allowed_hosts
    )


@builtin("http_request")
async def http_request(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    url = str(arguments["url"])
    method = str(arguments.get("method", "GET"))
    target = parse_url(url)
    allowed = context.tool.allowed_hosts if isinstance(context.tool, BuiltinTool) else []
    if not _host_allowed(target, allowed):
        raise ToolError(f"the host of {url} is not on this agent's allow-list")
    headers = {"Idempotency-Key": context.idempotency_key}
    body = arguments.get("body")
    try:
        async with (
            guarded_client(
                context.allow_private_networks, HTTP_TIMEOUT_SECONDS, follow_redirects=False
            ) as http,
            http.stream(
                method, target, headers=headers, json=body if method == "POST" else None
            ) as response,
        ):
            text = await read_limited(response, HTTP_MAX_RESPONSE_BYTES)
    except DestinationRefusedError as refused:
        raise ToolError(str(refused)) from None
    except httpx.TimeoutException:
        raise ToolError(f"{url} did not answer within {HTTP_TIMEOUT_SECONDS:.0f} s") from None
    # ValueError: a body httpx cannot encode as JSON (a NaN, say).
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        raise ToolError(f"request to {url} failed: {exc}") from None
    return {
        "status": response.status_code,
        "content_type": response.headers.get("content-type"),
        "body": text,
    }


MAX_ARTIFACT_BYTES = 64 * 1024 * 1024


@builtin("artifact_write")
async def artifact_write(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    if context.artifacts is None:
        raise ToolError("this worker keeps no artifacts")
    content = str(arguments["content"])
    encoding = arguments.get("encoding", "utf-8")
    if encoding == "base64":
        try:
            data = base64.b64decode(content, validate=True)
        except binascii.Error:
            raise ToolError("content is not valid base64") from None
        default_type = "application/octet-stream"
    else:
        data = content.encode()
        default_type = "text/plain; charset=utf-8"
    if len(data) > MAX_ARTIFACT_BYTES:
        raise ToolError(f"an artifact may hold at most {MAX_ARTIFACT_BYTES} bytes")
    content_type = str(arguments.get("content_type") or default_type)
    return await context.artifacts.save(str(arguments["name"]), data, content_type)
