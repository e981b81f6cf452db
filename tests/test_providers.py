"""The model providers against local doubles of each protocol, through the real SDK clients."""

import asyncio
import json
import time
from itertools import pairwise
from typing import Any, get_args

import httpx
import pytest
from pydantic import TypeAdapter

from core.models.agent_config import ModelProvider, ModelSpec
from core.models.model_spec import MODEL_SPECS, PROVIDER_PARAMETERS
from core.models.parameters import STORED
from tests.provider_doubles import (
    HttpDouble,
    RecordedRequest,
    anthropic_error,
    anthropic_message,
    anthropic_messages_double,
    chat_completion,
    chat_completions_double,
    closed_port_url,
    openai_error,
    text_block,
    tool_use_block,
    words,
)
from worker.providers.anthropic_messages import AnthropicProvider
from worker.providers.openai_chat import OpenAIChatProvider
from worker.providers.registry import build_providers
from worker.providers.scripted import ScriptedProvider
from worker.settings import WorkerSettings
from worker.types import Message, ModelReply, ProviderError, ToolCall, ToolSpec

KEY = "sk-test-5f3c9a1e"
CALCULATOR = ToolSpec(
    name="calculator",
    description="Evaluate an arithmetic expression.",
    parameters={
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
)
QUESTION = [Message(role="user", content="What is 2+3?")]
AFTER_TOOL_CALL = [
    *QUESTION,
    Message(
        role="assistant",
        content="Let me compute.",
        tool_calls=[ToolCall(id="call_1", name="calculator", arguments={"expression": "2+3"})],
    ),
    Message(role="tool", content="5", tool_call_id="call_1", name="calculator"),
]
TOOLS = [CALCULATOR]
MODEL_SPEC: TypeAdapter[ModelSpec] = TypeAdapter(ModelSpec)


def model(stored: bool = False, **config: Any) -> ModelSpec:
    """A model configuration as a version publishes it, or as an earlier release stored it."""
    return MODEL_SPEC.validate_python(config, context=STORED if stored else None)


OPENAI = model(provider="openai", name="gpt-test")
ANTHROPIC = model(provider="anthropic", name="claude-test")


def complete(
    provider: OpenAIChatProvider | AnthropicProvider,
    spec: ModelSpec,
    messages: list[Message] = QUESTION,
    tools: list[ToolSpec] = TOOLS,
    system_prompt: str = "You are terse.",
) -> ModelReply:
    async def call() -> ModelReply:
        async with provider:
            return await provider.complete(spec, system_prompt, messages, tools)

    return asyncio.run(call())


def failure(provider: OpenAIChatProvider | AnthropicProvider, spec: ModelSpec) -> ProviderError:
    with pytest.raises(ProviderError) as raised:
        complete(provider, spec)
    return raised.value


def stream(
    provider: OpenAIChatProvider | AnthropicProvider | ScriptedProvider,
    spec: ModelSpec,
    messages: list[Message] = QUESTION,
) -> tuple[ModelReply, list[str]]:
    """The reply to a streamed call, and the text deltas it delivered on the way."""
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    async def call() -> ModelReply:
        if isinstance(provider, ScriptedProvider):
            return await provider.complete(spec, "You are terse.", messages, TOOLS, on_delta)
        async with provider:
            return await provider.complete(spec, "You are terse.", messages, TOOLS, on_delta)

    return asyncio.run(call()), deltas


def stream_failure(
    provider: OpenAIChatProvider | AnthropicProvider, spec: ModelSpec
) -> tuple[ProviderError, list[str]]:
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    async def call() -> None:
        async with provider:
            await provider.complete(spec, "You are terse.", QUESTION, TOOLS, on_delta)

    with pytest.raises(ProviderError) as raised:
        asyncio.run(call())
    return raised.value, deltas


def only_request(double: HttpDouble) -> RecordedRequest:
    assert len(double.requests) == 1
    return double.requests[0]


# OpenAI Chat Completions


def test_openai_tool_call_reply_is_parsed() -> None:
    with chat_completions_double() as double:
        double.enqueue(
            200,
            chat_completion(
                tool_calls=[("call_7", "calculator", {"expression": "2+3"})],
                prompt_tokens=21,
                completion_tokens=9,
            ),
        )
        reply = complete(OpenAIChatProvider(KEY, double.base_url), OPENAI)

    assert reply == ModelReply(
        text=None,
        tool_calls=[ToolCall(id="call_7", name="calculator", arguments={"expression": "2+3"})],
        input_tokens=21,
        output_tokens=9,
    )


def test_openai_request_carries_prompt_tools_transcript_key_and_parameters() -> None:
    spec = model(
        stored=True,  # runtime keys an earlier release let any provider's parameters hold
        provider="openai",
        name="gpt-test",
        parameters={"temperature": 0.3, "base_url": "http://ignored", "script": [], "seed": 7},
    )
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("It is 5."))
        complete(OpenAIChatProvider(KEY, double.base_url), spec, AFTER_TOOL_CALL)
        request = only_request(double)

    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.body
    assert body["model"] == "gpt-test"
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+3?"},
        {
            "role": "assistant",
            "content": "Let me compute.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": '{"expression": "2+3"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "5"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "calculator",
                "description": CALCULATOR.description,
                "parameters": CALCULATOR.parameters,
            },
        }
    ]
    assert body["temperature"] == 0.3
    assert body["seed"] == 7
    assert not {"base_url", "script", "api_key_env"} & body.keys()


def test_openai_failed_tool_result_is_marked_and_no_tools_means_no_tools_field() -> None:
    transcript = [
        *AFTER_TOOL_CALL[:2],
        Message(role="tool", content="division by zero", tool_call_id="call_1", is_error=True),
    ]
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("Sorry."))
        provider = OpenAIChatProvider(KEY, double.base_url)
        complete(provider, OPENAI, transcript, tools=[], system_prompt="")
        body = only_request(double).body

    assert body["messages"][0] == {"role": "user", "content": "What is 2+3?"}
    assert body["messages"][-1]["content"] == "ERROR: division by zero"
    assert "tools" not in body


def test_openai_final_text_reply() -> None:
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("2+3 is 5.", prompt_tokens=30, completion_tokens=6))
        reply = complete(OpenAIChatProvider(KEY, double.base_url), OPENAI, AFTER_TOOL_CALL)

    assert reply == ModelReply(text="2+3 is 5.", tool_calls=[], input_tokens=30, output_tokens=6)


def test_openai_invalid_json_arguments_are_kept_for_the_caller_to_report() -> None:
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion(tool_calls=[("call_1", "calculator", '{"expr": 2+')]))
        reply = complete(OpenAIChatProvider(KEY, double.base_url), OPENAI)

    assert reply.tool_calls == [
        ToolCall(id="call_1", name="calculator", arguments={"__invalid_json__": '{"expr": 2+'})
    ]


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (
            429,
            openai_error("requests", "Rate limit reached for requests", "rate_limit_exceeded"),
            "rate_limited",
        ),
        (500, openai_error("server_error", "The server had an error"), "provider_unavailable"),
        (503, openai_error("server_error", "Slow down"), "provider_unavailable"),
        (408, openai_error("timeout", "Request timed out"), "provider_unavailable"),
    ],
)
def test_openai_transient_statuses_are_retryable(status: int, body: Any, code: str) -> None:
    with chat_completions_double() as double:
        double.enqueue(status, body)
        error = failure(OpenAIChatProvider(KEY, double.base_url), OPENAI)

    assert (error.retryable, error.code) == (True, code)
    assert f"HTTP {status}" in error.message
    assert body["error"]["message"] in error.message


def test_openai_exhausted_quota_is_not_retryable() -> None:
    quota = "You exceeded your current quota, please check your plan and billing details."
    with chat_completions_double() as double:
        double.enqueue(429, openai_error("insufficient_quota", quota, "insufficient_quota"))
        error = failure(OpenAIChatProvider(KEY, double.base_url), OPENAI)

    assert (error.retryable, error.code) == (False, "rate_limited")
    assert quota in error.message


def test_openai_bad_key_is_not_retryable_and_never_echoed() -> None:
    echoed = f"Incorrect API key provided: {KEY}. You can find your API key at ..."
    with chat_completions_double() as double:
        double.enqueue(401, openai_error("invalid_request_error", echoed, "invalid_api_key"))
        error = failure(OpenAIChatProvider(KEY, double.base_url), OPENAI)

    assert (error.retryable, error.code) == (False, "provider_auth")
    assert "HTTP 401" in error.message
    assert "the worker's API key" in error.message
    assert KEY not in error.message
    assert KEY not in str(error)
    assert error.__cause__ is None


@pytest.mark.parametrize("status", [400, 404, 422])
def test_openai_rejected_requests_are_not_retryable(status: int) -> None:
    message = "Invalid schema for function 'calculator'"
    with chat_completions_double() as double:
        double.enqueue(status, openai_error("invalid_request_error", message))
        error = failure(OpenAIChatProvider(KEY, double.base_url), OPENAI)

    assert (error.retryable, error.code) == (False, "provider_rejected")
    assert f"HTTP {status}: {message}" in error.message


def test_openai_unreachable_server_is_retryable() -> None:
    error = failure(OpenAIChatProvider(KEY, closed_port_url("/v1")), OPENAI)

    assert (error.retryable, error.code) == (True, "provider_unavailable")
    assert "could not connect" in error.message


def test_openai_slow_server_times_out_retryably() -> None:
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("late"), delay=2.0)
        error = failure(OpenAIChatProvider(KEY, double.base_url, timeout=0.2), OPENAI)

    assert (error.retryable, error.code) == (True, "provider_unavailable")
    assert "0.2s" in error.message


def test_openai_compatible_server_without_a_key() -> None:
    spec = model(provider="openai_compatible", name="llama3.2", parameters={"top_k": 20})
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("Hello from a local model."))
        reply = complete(OpenAIChatProvider(None, double.base_url), spec)
        request = only_request(double)

    assert reply.text == "Hello from a local model."
    assert KEY not in request.headers.get("authorization", "")
    assert request.body["model"] == "llama3.2"
    assert request.body["top_k"] == 20


def test_openai_parameters_that_would_override_the_request_are_refused() -> None:
    # Publishing refuses such a key; a configuration an earlier release stored may hold one.
    spec = model(stored=True, provider="openai", name="gpt-test", parameters={"messages": []})
    with chat_completions_double() as double:
        error = failure(OpenAIChatProvider(KEY, double.base_url), spec)
        assert double.requests == []

    assert (error.retryable, error.code) == (False, "provider_rejected")
    assert "messages" in error.message


# Anthropic Messages


def test_anthropic_tool_use_reply_is_parsed() -> None:
    with anthropic_messages_double() as double:
        double.enqueue(
            200,
            anthropic_message(
                text_block("Let me "),
                text_block("compute."),
                tool_use_block("toolu_1", "calculator", {"expression": "2+3"}),
                input_tokens=40,
                output_tokens=12,
            ),
        )
        reply = complete(AnthropicProvider(KEY, double.base_url), ANTHROPIC)

    assert reply == ModelReply(
        text="Let me compute.",
        tool_calls=[ToolCall(id="toolu_1", name="calculator", arguments={"expression": "2+3"})],
        input_tokens=40,
        output_tokens=12,
    )


def test_anthropic_request_has_system_param_merged_tool_results_and_key() -> None:
    transcript = [
        *QUESTION,
        Message(
            role="assistant",
            tool_calls=[
                ToolCall(id="toolu_1", name="calculator", arguments={"expression": "2+3"}),
                ToolCall(id="toolu_2", name="calculator", arguments={"expression": "1/0"}),
            ],
        ),
        Message(role="tool", content="5", tool_call_id="toolu_1", name="calculator"),
        Message(role="tool", content="division by zero", tool_call_id="toolu_2", is_error=True),
    ]
    spec = model(
        stored=True,  # `api_key_env`: a runtime key an earlier release let parameters hold
        provider="anthropic",
        name="claude-test",
        parameters={"temperature": 0.1, "max_tokens": 512, "api_key_env": "ANTHROPIC_KEY"},
    )
    with anthropic_messages_double() as double:
        double.enqueue(200, anthropic_message(text_block("5, and 1/0 is undefined.")))
        complete(AnthropicProvider(KEY, double.base_url), spec, transcript)
        request = only_request(double)

    assert request.path == "/v1/messages"
    # anthropic 2.13 sends the API key as a bearer token, not as x-api-key.
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "anthropic-version" in request.headers
    body = request.body
    assert body["system"] == "You are terse."
    assert body["max_tokens"] == 512
    assert body["temperature"] == 0.1
    assert "api_key_env" not in body
    assert body["tools"] == [
        {
            "name": "calculator",
            "description": CALCULATOR.description,
            "input_schema": CALCULATOR.parameters,
        }
    ]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "What is 2+3?"}]},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "calculator",
                    "input": {"expression": "2+3"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "calculator",
                    "input": {"expression": "1/0"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "5",
                    "is_error": False,
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": "division by zero",
                    "is_error": True,
                },
            ],
        },
    ]


def test_anthropic_defaults_max_tokens_and_omits_empty_system() -> None:
    with anthropic_messages_double() as double:
        double.enqueue(200, anthropic_message(text_block("Hi.")))
        reply = complete(AnthropicProvider(KEY, double.base_url), ANTHROPIC, system_prompt="")
        body = only_request(double).body

    assert reply.text == "Hi."
    assert body["max_tokens"] == 4096
    assert "system" not in body


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (429, anthropic_error("rate_limit_error", "Number of requests exceeded"), "rate_limited"),
        (529, anthropic_error("overloaded_error", "Overloaded"), "provider_unavailable"),
        (500, anthropic_error("api_error", "Internal server error"), "provider_unavailable"),
    ],
)
def test_anthropic_transient_statuses_are_retryable(status: int, body: Any, code: str) -> None:
    with anthropic_messages_double() as double:
        double.enqueue(status, body)
        error = failure(AnthropicProvider(KEY, double.base_url), ANTHROPIC)

    assert (error.retryable, error.code) == (True, code)
    assert f"HTTP {status}: {body['error']['message']}" in error.message


def test_anthropic_bad_key_is_not_retryable_and_never_echoed() -> None:
    with anthropic_messages_double() as double:
        double.enqueue(401, anthropic_error("authentication_error", f"invalid x-api-key {KEY}"))
        error = failure(AnthropicProvider(KEY, double.base_url), ANTHROPIC)

    assert (error.retryable, error.code) == (False, "provider_auth")
    assert KEY not in str(error)


def test_anthropic_invalid_request_is_not_retryable() -> None:
    with anthropic_messages_double() as double:
        double.enqueue(400, anthropic_error("invalid_request_error", "max_tokens: too large"))
        error = failure(AnthropicProvider(KEY, double.base_url), ANTHROPIC)

    assert (error.retryable, error.code) == (False, "provider_rejected")
    assert "max_tokens: too large" in error.message


def test_anthropic_unreachable_or_slow_server_is_retryable() -> None:
    unreachable = failure(AnthropicProvider(KEY, closed_port_url()), ANTHROPIC)
    with anthropic_messages_double() as double:
        double.enqueue(200, anthropic_message(text_block("late")), delay=2.0)
        slow = failure(AnthropicProvider(KEY, double.base_url, timeout=0.2), ANTHROPIC)

    assert (unreachable.retryable, unreachable.code) == (True, "provider_unavailable")
    assert (slow.retryable, slow.code) == (True, "provider_unavailable")
    assert "0.2s" in slow.message


# Streaming: the same reply, its text delivered as it arrives

STREAMED_COMPLETIONS = {
    "text": chat_completion("Two plus three is five.", prompt_tokens=30, completion_tokens=6),
    "text and tool calls": chat_completion(
        "Let me compute both.",
        tool_calls=[
            ("call_7", "calculator", {"expression": "2+3"}),
            ("call_8", "calculator", {"expression": "(1 + 2) * 3"}),
        ],
        prompt_tokens=21,
        completion_tokens=9,
    ),
    "tool call only": chat_completion(tool_calls=[("call_7", "calculator", {"expression": "2"})]),
    "invalid arguments": chat_completion(tool_calls=[("call_1", "calculator", '{"expr": 2+')]),
    "empty text": chat_completion(""),
}


@pytest.mark.parametrize("body", STREAMED_COMPLETIONS.values(), ids=STREAMED_COMPLETIONS.keys())
def test_openai_streamed_reply_equals_the_plain_one(body: dict[str, Any]) -> None:
    with chat_completions_double() as double:
        double.enqueue(200, body)
        double.enqueue(200, body)
        plain = complete(OpenAIChatProvider(KEY, double.base_url), OPENAI)
        streamed, deltas = stream(OpenAIChatProvider(KEY, double.base_url), OPENAI)
        plain_request, streamed_request = double.requests

    assert streamed == plain
    assert deltas == words(plain.text or "")
    assert not {"stream", "stream_options"} & plain_request.body.keys()
    assert streamed_request.body["stream"] is True
    assert streamed_request.body["stream_options"] == {"include_usage": True}


def test_openai_streamed_text_arrives_word_by_word_in_order() -> None:
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("Two plus three is five.", completion_tokens=6))
        reply, deltas = stream(OpenAIChatProvider(KEY, double.base_url), OPENAI)

    assert deltas == ["Two ", "plus ", "three ", "is ", "five."]
    assert (reply.text, reply.input_tokens, reply.output_tokens) == (
        "Two plus three is five.",
        11,
        6,
    )


def test_openai_double_streams_chunks_in_the_wire_format() -> None:
    arguments = {"expression": "(1 + 2) * 3"}
    with chat_completions_double() as double:
        double.enqueue(
            200, chat_completion("Let me compute.", [("call_7", "calculator", arguments)])
        )
        request = {"stream": True, "stream_options": {"include_usage": True}}
        response = httpx.post(f"{double.base_url}/chat/completions", json=request, timeout=5)

    assert response.headers["content-type"] == "text/event-stream"
    lines = [line for line in response.text.splitlines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    deltas = [choice["delta"] for chunk in chunks for choice in chunk["choices"]]
    texts = [delta["content"] for delta in deltas if delta.get("content")]
    pieces = [call["function"]["arguments"] for d in deltas for call in d.get("tool_calls", [])]
    assert texts == ["Let ", "me ", "compute."]
    assert len([piece for piece in pieces if piece]) > 1
    assert "".join(pieces) == json.dumps(arguments)


@pytest.mark.parametrize(
    ("status", "body", "retryable", "code"),
    [
        (
            429,
            openai_error("requests", "Rate limit reached", "rate_limit_exceeded"),
            True,
            "rate_limited",
        ),
        (503, openai_error("server_error", "Slow down"), True, "provider_unavailable"),
        (
            401,
            openai_error("invalid_request_error", f"Bad key {KEY}", "invalid_api_key"),
            False,
            "provider_auth",
        ),
        (400, openai_error("invalid_request_error", "Bad schema"), False, "provider_rejected"),
    ],
)
def test_openai_error_before_the_stream_is_judged_as_without_streaming(
    status: int, body: Any, retryable: bool, code: str
) -> None:
    with chat_completions_double() as double:
        double.enqueue(status, body)
        error, deltas = stream_failure(OpenAIChatProvider(KEY, double.base_url), OPENAI)

    assert (error.retryable, error.code) == (retryable, code)
    assert f"HTTP {status}" in error.message
    assert KEY not in str(error)
    assert deltas == []


@pytest.mark.parametrize(
    ("error_body", "retryable", "code"),
    [
        (openai_error("server_error", "The server had an error"), True, "provider_unavailable"),
        (openai_error("tokens", "Rate limit reached", "rate_limit_exceeded"), True, "rate_limited"),
        (
            openai_error("insufficient_quota", "Quota used up", "insufficient_quota"),
            False,
            "rate_limited",
        ),
        (openai_error("invalid_request_error", "Context too long"), False, "provider_rejected"),
        (
            {"error": {"object": "error", "message": "Overloaded", "code": 503}},
            True,
            "provider_unavailable",
        ),
    ],
    ids=["server error", "rate limit", "quota", "invalid request", "compatible server status"],
)
def test_openai_error_inside_the_stream_is_judged_like_its_status(
    error_body: Any, retryable: bool, code: str
) -> None:
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("one two three four five six"), stream_error=error_body)
        error, deltas = stream_failure(OpenAIChatProvider(KEY, double.base_url), OPENAI)

    assert (error.retryable, error.code) == (retryable, code)
    assert error_body["error"]["message"] in error.message
    assert deltas  # the error came after some of the answer had arrived


def test_openai_stream_that_stalls_times_out_retryably() -> None:
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("late words"), event_delay=2.0)
        error, _ = stream_failure(OpenAIChatProvider(KEY, double.base_url, timeout=0.2), OPENAI)

    assert (error.retryable, error.code) == (True, "provider_unavailable")
    assert "0.2s" in error.message


STREAMED_MESSAGES = {
    "text": anthropic_message(text_block("Two plus three is five."), output_tokens=6),
    "text and tool uses": anthropic_message(
        text_block("Let me "),
        text_block("compute both."),
        tool_use_block("toolu_1", "calculator", {"expression": "2+3"}),
        tool_use_block("toolu_2", "calculator", {"expression": "(1 + 2) * 3"}),
        input_tokens=40,
        output_tokens=12,
    ),
    "tool use only": anthropic_message(tool_use_block("toolu_1", "calculator", {})),
}


@pytest.mark.parametrize("body", STREAMED_MESSAGES.values(), ids=STREAMED_MESSAGES.keys())
def test_anthropic_streamed_reply_equals_the_plain_one(body: dict[str, Any]) -> None:
    with anthropic_messages_double() as double:
        double.enqueue(200, body)
        double.enqueue(200, body)
        plain = complete(AnthropicProvider(KEY, double.base_url), ANTHROPIC)
        streamed, deltas = stream(AnthropicProvider(KEY, double.base_url), ANTHROPIC)
        plain_request, streamed_request = double.requests

    assert streamed == plain
    assert deltas == words(plain.text or "")
    assert "stream" not in plain_request.body
    assert streamed_request.body["stream"] is True


def test_anthropic_streamed_text_arrives_word_by_word_in_order() -> None:
    with anthropic_messages_double() as double:
        double.enqueue(
            200,
            anthropic_message(text_block("Two plus "), text_block("three."), input_tokens=9),
        )
        reply, deltas = stream(AnthropicProvider(KEY, double.base_url), ANTHROPIC)

    assert deltas == ["Two ", "plus ", "three."]
    assert (reply.text, reply.input_tokens, reply.output_tokens) == ("Two plus three.", 9, 5)


def test_anthropic_double_streams_events_in_the_wire_format() -> None:
    arguments = {"expression": "(1 + 2) * 3"}
    message = anthropic_message(
        text_block("Let me compute."), tool_use_block("toolu_1", "calculator", arguments)
    )
    with anthropic_messages_double() as double:
        double.enqueue(200, message)
        response = httpx.post(f"{double.base_url}/v1/messages", json={"stream": True}, timeout=5)

    assert response.headers["content-type"] == "text/event-stream"
    events = []
    for block in response.text.strip().split("\n\n"):
        name, data = block.split("\n")
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_start") == names.count("content_block_stop") == 2
    assert all(name == data["type"] for name, data in events)
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    texts = [delta["text"] for delta in deltas if delta["type"] == "text_delta"]
    pieces = [delta["partial_json"] for delta in deltas if delta["type"] == "input_json_delta"]
    assert texts == ["Let ", "me ", "compute."]
    assert len(pieces) > 1
    assert json.loads("".join(pieces)) == arguments
    assert events[0][1]["message"]["usage"]["input_tokens"] == 13
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    assert events[-2][1]["usage"] == {"output_tokens": 5}


@pytest.mark.parametrize(
    ("status", "body", "retryable", "code"),
    [
        (429, anthropic_error("rate_limit_error", "Too many requests"), True, "rate_limited"),
        (529, anthropic_error("overloaded_error", "Overloaded"), True, "provider_unavailable"),
        (401, anthropic_error("authentication_error", f"bad {KEY}"), False, "provider_auth"),
        (400, anthropic_error("invalid_request_error", "Bad tool"), False, "provider_rejected"),
    ],
)
def test_anthropic_error_before_the_stream_is_judged_as_without_streaming(
    status: int, body: Any, retryable: bool, code: str
) -> None:
    with anthropic_messages_double() as double:
        double.enqueue(status, body)
        error, deltas = stream_failure(AnthropicProvider(KEY, double.base_url), ANTHROPIC)

    assert (error.retryable, error.code) == (retryable, code)
    assert f"HTTP {status}" in error.message
    assert KEY not in str(error)
    assert deltas == []


@pytest.mark.parametrize(
    ("error_body", "retryable", "code"),
    [
        (anthropic_error("overloaded_error", "Overloaded"), True, "provider_unavailable"),
        (anthropic_error("api_error", "Internal server error"), True, "provider_unavailable"),
        (anthropic_error("rate_limit_error", "Too many tokens"), True, "rate_limited"),
        (anthropic_error("invalid_request_error", "Output blocked"), False, "provider_rejected"),
    ],
)
def test_anthropic_error_inside_the_stream_is_judged_like_its_status(
    error_body: Any, retryable: bool, code: str
) -> None:
    with anthropic_messages_double() as double:
        message = anthropic_message(text_block("one two three four five six seven"))
        double.enqueue(200, message, stream_error=error_body)
        error, deltas = stream_failure(AnthropicProvider(KEY, double.base_url), ANTHROPIC)

    assert (error.retryable, error.code) == (retryable, code)
    assert error_body["error"]["message"] in error.message
    assert deltas  # the error came after some of the answer had arrived


def test_anthropic_stream_that_stalls_times_out_retryably() -> None:
    with anthropic_messages_double() as double:
        double.enqueue(200, anthropic_message(text_block("late words")), event_delay=2.0)
        error, _ = stream_failure(AnthropicProvider(KEY, double.base_url, timeout=0.2), ANTHROPIC)

    assert (error.retryable, error.code) == (True, "provider_unavailable")
    assert "0.2s" in error.message


# The scripted provider and the registry


def scripted(*turns: dict[str, Any]) -> ModelSpec:
    return model(provider="scripted", parameters={"script": list(turns)})


def test_scripted_streams_its_text_word_by_word_and_replies_as_without_streaming() -> None:
    spec = scripted({"text": "  Two plus\nthree is five. "})
    plain = asyncio.run(ScriptedProvider().complete(spec, "You are terse.", QUESTION, TOOLS))
    streamed, deltas = stream(ScriptedProvider(), spec)

    assert streamed == plain
    assert deltas == ["  ", "Two ", "plus\n", "three ", "is ", "five. "]
    assert "".join(deltas) == plain.text


def test_scripted_tool_call_turn_streams_only_its_text() -> None:
    call = {"name": "calculator", "arguments": {"expression": "2+3"}}
    only_calls, no_deltas = stream(ScriptedProvider(), scripted({"tool_calls": [call]}))
    with_text, deltas = stream(
        ScriptedProvider(), scripted({"text": "Let me.", "tool_calls": [call]})
    )

    assert (only_calls.text, no_deltas) == (None, [])
    assert (with_text.text, deltas) == ("Let me.", ["Let ", "me."])
    assert with_text.tool_calls == only_calls.tool_calls


def test_scripted_chunk_delay_spaces_the_deltas_out() -> None:
    spec = scripted({"text": "one two three four", "chunk_delay_seconds": 0.05})
    arrivals: list[float] = []

    async def on_delta(text: str) -> None:
        arrivals.append(time.monotonic())

    async def call() -> float:
        await ScriptedProvider().complete(spec, "", QUESTION, [], on_delta)
        return time.monotonic()

    finished = asyncio.run(call())

    assert len(arrivals) == 4
    assert all(later - earlier >= 0.04 for earlier, later in pairwise(arrivals))
    assert finished - arrivals[0] >= 0.12  # the first word was out well before the reply


def test_every_configured_provider_passes_deltas_through() -> None:
    with (
        chat_completions_double() as openai_double,
        anthropic_messages_double() as anthropic_double,
    ):
        openai_double.enqueue(200, chat_completion("From OpenAI."))
        openai_double.enqueue(200, chat_completion("From a local model."))
        anthropic_double.enqueue(200, anthropic_message(text_block("From Anthropic.")))
        settings = WorkerSettings.model_validate(
            {
                "OPENAI_API_KEY": KEY,
                "OPENAI_BASE_URL": openai_double.base_url,
                "ANTHROPIC_API_KEY": KEY,
                "ANTHROPIC_BASE_URL": anthropic_double.base_url,
            }
        )
        providers = build_providers(settings)
        local = model(
            provider="openai_compatible",
            name="llama3.2",
            parameters={"base_url": openai_double.base_url},
        )
        answers = {}
        for spec in (OPENAI, local, ANTHROPIC, scripted({"text": "From a script."})):
            deltas: list[str] = []

            async def on_delta(text: str, deltas: list[str] = deltas) -> None:
                deltas.append(text)

            reply = asyncio.run(
                providers[spec.provider].complete(spec, "", QUESTION, TOOLS, on_delta)
            )
            answers[spec.provider] = ("".join(deltas), reply.text)

    assert answers == {
        "openai": ("From OpenAI.", "From OpenAI."),
        "openai_compatible": ("From a local model.", "From a local model."),
        "anthropic": ("From Anthropic.", "From Anthropic."),
        "scripted": ("From a script.", "From a script."),
    }


# Typed parameters, as the providers read them


def test_openai_sends_the_typed_parameters_as_given_and_extra_body_beside_them() -> None:
    spec = model(
        provider="openai_compatible",
        name="llama3.2",
        parameters={
            "base_url": "http://ignored/v1",
            "temperature": 0,
            "stop": ["\n\n"],
            "top_k": 40,
            "extra_body": {"num_ctx": 8192},
        },
    )
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("Hi."))
        complete(OpenAIChatProvider(None, double.base_url), spec)
        body = only_request(double).body

    assert (body["temperature"], body["stop"], body["top_k"]) == (0, ["\n\n"], 40)
    assert type(body["temperature"]) is int
    assert body["num_ctx"] == 8192
    # Unset parameters are not sent (no nulls), nor what configures the runtime.
    assert not {"seed", "top_p", "max_tokens", "base_url", "extra_body"} & body.keys()


def test_a_stored_configuration_passes_values_no_type_admits_on_as_written() -> None:
    """An earlier release stored parameters untyped; they still reach the provider as then."""
    spec = model(
        stored=True,
        provider="openai",
        name="gpt-test",
        parameters={"temperature": "0.2", "logprobs": True, "seed": 7},
    )
    assert spec.parameters.legacy() == {"temperature": "0.2", "logprobs": True}
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("Hi."))
        complete(OpenAIChatProvider(KEY, double.base_url), spec)
        body = only_request(double).body

    assert (body["temperature"], body["logprobs"], body["seed"]) == ("0.2", True, 7)


def test_anthropic_reads_max_tokens_typed_or_takes_its_default() -> None:
    with anthropic_messages_double() as double:
        double.enqueue(200, anthropic_message(text_block("One.")))
        double.enqueue(200, anthropic_message(text_block("Two.")))
        typed = model(provider="anthropic", name="claude-test", parameters={"max_tokens": 64})
        complete(AnthropicProvider(KEY, double.base_url), typed)
        complete(AnthropicProvider(KEY, double.base_url), ANTHROPIC)
        first, second = double.requests

    assert (first.body["max_tokens"], second.body["max_tokens"]) == (64, 4096)
    assert "top_k" not in second.body


def test_scripted_usage_replaces_the_word_count_it_names() -> None:
    both = scripted({"text": "one two three", "usage": {"input_tokens": 7, "output_tokens": 2}})
    only_out = scripted({"text": "one two three", "usage": {"output_tokens": 9}})
    counted = scripted({"text": "one two three"})

    def reply(spec: ModelSpec) -> ModelReply:
        return asyncio.run(ScriptedProvider().complete(spec, "Be brief.", QUESTION, TOOLS))

    assert (reply(both).input_tokens, reply(both).output_tokens) == (7, 2)
    assert reply(only_out).output_tokens == 9
    assert reply(only_out).input_tokens == reply(counted).input_tokens > 0
    assert reply(counted).output_tokens == 3


def test_a_scripted_error_turn_fails_with_its_message_code_and_retryability() -> None:
    failing = scripted({"error": {"message": "rate limited", "retryable": True, "code": "busy"}})
    plain = scripted({"error": {}})
    with pytest.raises(ProviderError) as raised:
        asyncio.run(ScriptedProvider().complete(failing, "", QUESTION, TOOLS))
    assert (raised.value.message, raised.value.retryable, raised.value.code) == (
        "rate limited",
        True,
        "busy",
    )
    with pytest.raises(ProviderError) as raised:
        asyncio.run(ScriptedProvider().complete(plain, "", QUESTION, TOOLS))
    assert (raised.value.message, raised.value.retryable, raised.value.code) == (
        "scripted failure",
        False,
        "scripted_error",
    )


def test_every_provider_has_a_model_and_a_parameters_schema() -> None:
    assert list(MODEL_SPECS) == list(get_args(ModelProvider)) == list(PROVIDER_PARAMETERS)
    for provider, spec in MODEL_SPECS.items():
        parsed = model(provider=provider, name="m")
        assert type(parsed) is spec
        assert type(parsed.parameters) is PROVIDER_PARAMETERS[provider]
