"""The model providers against local doubles of each protocol, through the real SDK clients."""

import asyncio
from typing import Any

import pytest

from backend.models.agent_config import ModelSpec
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
)
from worker.providers.anthropic_messages import AnthropicProvider
from worker.providers.openai_chat import OpenAIChatProvider
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
OPENAI = ModelSpec(provider="openai", name="gpt-test")
ANTHROPIC = ModelSpec(provider="anthropic", name="claude-test")


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
    spec = ModelSpec(
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
    assert "api_key_env" in error.message
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
    spec = ModelSpec(provider="openai_compatible", name="llama3.2", parameters={"top_k": 20})
    with chat_completions_double() as double:
        double.enqueue(200, chat_completion("Hello from a local model."))
        reply = complete(OpenAIChatProvider(None, double.base_url), spec)
        request = only_request(double)

    assert reply.text == "Hello from a local model."
    assert KEY not in request.headers.get("authorization", "")
    assert request.body["model"] == "llama3.2"
    assert request.body["top_k"] == 20


def test_openai_parameters_that_would_override_the_request_are_refused() -> None:
    spec = ModelSpec(provider="openai", name="gpt-test", parameters={"messages": []})
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
    spec = ModelSpec(
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
