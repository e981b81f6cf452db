"""Tools an agent may call: a registry of built-ins, each validated against its JSON schema."""

import ast
import operator
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from jsonschema import Draft202012Validator

from backend.models.agent_config import BUILTIN_TOOLS, BuiltinTool, HttpTool
from worker.types import ToolError, ToolSpec

HTTP_TIMEOUT_SECONDS = 10.0
HTTP_MAX_RESPONSE_BYTES = 256 * 1024


class ArtifactSink(Protocol):
    """Where `artifact_write` saves a run's named files (the object store, recorded in the DB)."""

    async def save(self, name: str, data: bytes, content_type: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ToolContext:
    run_id: str
    seq: int
    tool: BuiltinTool | HttpTool
    # The activity's attempt: above 1, an earlier attempt may already have sent the call.
    attempt: int = 1
    allow_private_networks: bool = False
    # Where `{"secret": NAME}` header values are read from: the worker's environment.
    secrets: Mapping[str, str] = field(default_factory=lambda: os.environ)
    artifacts: ArtifactSink | None = None

    @property
    def idempotency_key(self) -> str:
        """Stable across retries of the same step, so a target can drop duplicates."""
        return f"{self.run_id}:{self.seq}"


ToolFunction = Callable[[dict[str, Any], ToolContext], Awaitable[Any]]
REGISTRY: dict[str, ToolFunction] = {}


def builtin(name: str) -> Callable[[ToolFunction], ToolFunction]:
    def register(function: ToolFunction) -> ToolFunction:
        assert name in BUILTIN_TOOLS, f"{name} must be declared in BUILTIN_TOOLS"
        REGISTRY[name] = function
        return function

    return register


def tool_spec(tool: BuiltinTool | HttpTool) -> ToolSpec:
    if isinstance(tool, HttpTool):
        return ToolSpec(tool.name, tool.description or f"{tool.method} {tool.url}", tool.parameters)
    declared = BUILTIN_TOOLS[tool.name]
    return ToolSpec(tool.name, str(declared["description"]), dict(declared["parameters"]))


def validate_arguments(spec: ToolSpec, arguments: dict[str, Any]) -> None:
    errors = sorted(
        Draft202012Validator(spec.parameters).iter_errors(arguments), key=lambda e: list(e.path)
    )
    if errors:
        described = "; ".join(
            f"{'/'.join(map(str, e.path)) or '(arguments)'}: {e.message}" for e in errors[:5]
        )
        raise ToolError(f"invalid arguments for {spec.name}: {described}")


async def execute(
    tool: BuiltinTool | HttpTool, arguments: dict[str, Any], context: ToolContext
) -> Any:
    """Validate, then run. Every failure is a `ToolError` for the model to read."""
    if "__invalid_json__" in arguments:
        raise ToolError(f"the arguments for {tool.name} were not valid JSON")
    validate_arguments(tool_spec(tool), arguments)
    if isinstance(tool, HttpTool):
        raise ToolError(f"HTTP tools are not executed by this worker version ({tool.name})")
    return await REGISTRY[tool.name](arguments, context)


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


def _host_allowed(url: str, allowed_hosts: list[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(
        host == allowed.lower() or host.endswith("." + allowed.lower()) for allowed in allowed_hosts
    )


@builtin("http_request")
async def http_request(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    url = str(arguments["url"])
    method = str(arguments.get("method", "GET"))
    if urlsplit(url).scheme not in ("http", "https"):
        raise ToolError("only http and https URLs can be requested")
    allowed = context.tool.allowed_hosts if isinstance(context.tool, BuiltinTool) else []
    if not _host_allowed(url, allowed):
        raise ToolError(f"the host of {url} is not on this agent's allow-list")
    headers = {"Idempotency-Key": context.idempotency_key}
    body = arguments.get("body")
    try:
        async with (
            httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False) as http,
            http.stream(
                method, url, headers=headers, json=body if method == "POST" else None
            ) as response,
        ):
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > HTTP_MAX_RESPONSE_BYTES:
                    raise ToolError(f"the response is larger than {HTTP_MAX_RESPONSE_BYTES} bytes")
                chunks.append(chunk)
    except httpx.TimeoutException:
        raise ToolError(f"{url} did not answer within {HTTP_TIMEOUT_SECONDS:.0f} s") from None
    except httpx.HTTPError as exc:
        raise ToolError(f"request to {url} failed: {exc}") from None
    text = b"".join(chunks).decode(response.encoding or "utf-8", errors="replace")
    return {
        "status": response.status_code,
        "content_type": response.headers.get("content-type"),
        "body": text,
    }
