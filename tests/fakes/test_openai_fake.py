"""Self-tests of the OpenAI fake, driven by the real ``openai`` SDK (AsyncOpenAI over httpx2): answers, errors,
the SDK's own retries and timeouts, and the fake's requests/responses checked against the spec's
CreateChatCompletionRequest / CreateChatCompletionResponse (when the spec file is available)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import os
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI
from PIL import Image

from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_fake import FakeOpenAI, Refusal, running_fake_openai

# ../shared beside the checkout, as on every developer machine and in CI
SPECS = Path(os.environ.get("CLASSIFY_SPECS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "specs")
HAVE_SPEC = (SPECS / "openai.openapi.json").is_file()
needs_spec = pytest.mark.skipif(not HAVE_SPEC, reason=f"openai.openapi.json not found in {SPECS} (CLASSIFY_SPECS_DIR)")

PHOTO_TAGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tags", "caption", "proposed_name", "subject"],
    "properties": {
        "tags": {"type": "array", "items": {"type": "string"}},
        "caption": {"type": "string"},
        "proposed_name": {"type": "string"},
        "subject": {"type": "string"},
    },
}
RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "photo_tags", "strict": True, "schema": PHOTO_TAGS_SCHEMA},
}


def image_bytes(
    colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 48), fmt: str = "JPEG"
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def data_url(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def messages(url: str, detail: str = "low") -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You tag photos. Answer with JSON only."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Tag this photo."},
                {"type": "image_url", "image_url": {"url": url, "detail": detail}},
            ],
        },
    ]


async def ask(client: AsyncOpenAI, url: str, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": messages(url),
        "response_format": RESPONSE_FORMAT,
        "max_completion_tokens": 300,
        "timeout": 5,
    }
    return await client.chat.completions.create(**(options | kwargs))


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:  # noqa: F811
    async with AsyncOpenAI(base_url=fake_openai.base_url, api_key=fake_openai.api_key, max_retries=0) as c:
        yield c


# ------------------------------------------------------------------------------------ schema checking


def _spec_schemas() -> dict[str, Any]:
    return json.loads((SPECS / "openai.openapi.json").read_text())["components"]["schemas"]


def check(value: Any, schema: dict[str, Any], defs: dict[str, Any], where: str = "$") -> list[str]:
    """Problems of ``value`` against an OpenAPI 3.1 schema (the subset the spec uses for these objects):
    $ref, allOf/anyOf/oneOf, type (lists, ``nullable``), enum, required, properties, items, ranges, minItems."""
    if "$ref" in schema:
        return check(value, defs[schema["$ref"].rsplit("/", 1)[-1]], defs, where)
    problems: list[str] = []
    for sub in schema.get("allOf", []):
        problems += check(value, sub, defs, where)
    for key in ("anyOf", "oneOf"):
        nullable_none = value is None and schema.get("nullable")
        if key in schema and not nullable_none and all(check(value, sub, defs, where) for sub in schema[key]):
            problems.append(f"{where}: {value!r:.80} matches none of {key}")
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if kinds and schema.get("nullable"):
        kinds.append("null")
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    types |= {"integer": int, "number": (int, float)}

    def is_kind(kind: str) -> bool:
        return isinstance(value, types[kind]) and not (kind in ("integer", "number") and isinstance(value, bool))

    if kinds and not any(is_kind(k) for k in kinds):
        return [*problems, f"{where}: {value!r:.80} is not {kinds}"]
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = schema.get("minimum", -math.inf), schema.get("maximum", math.inf)
        if not low <= value <= high:
            problems.append(f"{where}: {value} out of range")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{where}: fewer than {schema['minItems']} items")
        for i, item in enumerate(value):
            problems += check(item, schema.get("items", {}), defs, f"{where}[{i}]")
    if isinstance(value, dict):
        problems += [f"{where}: missing {k!r}" for k in schema.get("required", []) if k not in value]
        for key, item in value.items():
            if key in schema.get("properties", {}):
                problems += check(item, schema["properties"][key], defs, f"{where}.{key}")
    return problems


def assert_valid(value: Any, name: str) -> None:
    if HAVE_SPEC:
        defs = _spec_schemas()
        assert check(value, defs[name], defs) == [], name


def test_checker_finds_problems() -> None:
    if not HAVE_SPEC:
        pytest.skip("no spec")
    defs = _spec_schemas()
    bad = {"id": "x", "object": "chat.completion", "created": "yesterday", "model": "m", "choices": [{}]}
    problems = check(bad, defs["CreateChatCompletionResponse"], defs)
    assert any("created" in p for p in problems)
    assert any("missing 'message'" in p for p in problems)


# ------------------------------------------------------------------------------------------- answers


async def test_good_request_returns_json_content_valid_per_spec(client: AsyncOpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    jpeg = image_bytes()
    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=messages(data_url(jpeg)),  # type: ignore[arg-type]
        response_format=RESPONSE_FORMAT,  # type: ignore[arg-type]
        max_completion_tokens=300,
        timeout=5,
    )
    assert raw.headers["x-request-id"].startswith("req_")
    completion = raw.parse()
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    choice = completion.choices[0]
    assert (choice.index, choice.finish_reason, choice.logprobs) == (0, "stop", None)
    assert choice.message.role == "assistant" and choice.message.refusal is None
    answer = json.loads(choice.message.content or "")
    assert set(answer) == {"tags", "caption", "proposed_name", "subject"}
    assert 3 <= len(answer["tags"]) <= 8 and all(re.fullmatch(r"[a-z]+", t) for t in answer["tags"])
    assert "red" in answer["tags"] and "landscape" in answer["tags"]
    assert answer["caption"].startswith("A reddish landscape photo") and answer["caption"].endswith(".")
    assert re.fullmatch(r"[a-z]+(-[a-z]+)+", answer["proposed_name"]) and answer["subject"] in answer["tags"]
    assert completion.usage is not None
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens

    rec = fake_openai.chat_requests[-1]
    assert rec.image == jpeg and rec.image_mime == "image/jpeg" and rec.images[0].detail == "low"
    assert rec.headers["authorization"] == f"Bearer {fake_openai.api_key}" and rec.status == 200
    assert_valid(raw.http_response.json(), "CreateChatCompletionResponse")
    assert_valid(rec.json, "CreateChatCompletionRequest")
    assert fake_openai.calls() == 1


async def test_same_image_same_answer_different_image_different_answer(client: AsyncOpenAI) -> None:
    red = data_url(image_bytes())
    first, second = await ask(client, red), await ask(client, red)
    assert first.choices[0].message.content == second.choices[0].message.content
    blue = await ask(client, data_url(image_bytes((20, 40, 220), (48, 64), "PNG"), "image/png"))
    content = json.loads(blue.choices[0].message.content)
    assert content != json.loads(first.choices[0].message.content)
    assert "blue" in content["tags"] and "portrait" in content["tags"]


async def test_invalid_json_responder_returns_raw_text(client: AsyncOpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    seen: list[tuple[str, bytes]] = []

    def responder(body: dict[str, Any], image: bytes) -> str:
        seen.append((body["model"], image))
        return "Sure! Here are the tags: beach, dog"

    fake_openai.responder = responder
    completion = await ask(client, data_url(image_bytes()))
    assert completion.choices[0].message.content == "Sure! Here are the tags: beach, dog"
    assert seen == [("gpt-4o-mini", image_bytes())]
    fake_openai.responder = lambda body, image: {"tags": ["x"], "extra": 1}  # dicts come back as JSON, verbatim
    completion = await ask(client, data_url(image_bytes()))
    assert json.loads(completion.choices[0].message.content) == {"tags": ["x"], "extra": 1}


async def test_refusal_and_length(client: AsyncOpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.responder = lambda body, image: Refusal("I can't help with that.")
    message = (await ask(client, data_url(image_bytes()))).choices[0].message
    assert (message.content, message.refusal) == (None, "I can't help with that.")
    fake_openai.responder = lambda body, image: {"tags": ["word"] * 100}
    choice = (await ask(client, data_url(image_bytes()), max_completion_tokens=10)).choices[0]
    assert choice.finish_reason == "length" and len(choice.message.content or "") == 40


async def test_models_list(client: AsyncOpenAI) -> None:
    models = [m async for m in client.models.list()]
    assert [(m.id, m.object) for m in models] == [("gpt-4o-mini", "model")]
    assert (await client.models.retrieve("gpt-4o-mini")).owned_by == "system"
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("gpt-2")


# -------------------------------------------------------------------------------------------- errors


async def test_heic_and_garbage_images_are_invalid_image_format(client: AsyncOpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    heic_header = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
    for url in (
        data_url(heic_header, "image/heic"),
        data_url(heic_header, "image/jpeg"),  # the declared type lies: the bytes decide
        data_url(b"this is not an image at all", "image/jpeg"),
        "data:image/png;base64,@@not-base64@@",
    ):
        with pytest.raises(openai.BadRequestError) as caught:
            await ask(client, url)
        assert caught.value.code == "invalid_image_format", url[:40]
        assert caught.value.type == "invalid_request_error"
        body = caught.value.body
        assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}
    assert fake_openai.calls() == 4
    assert_valid({"error": caught.value.body}, "ErrorResponse")


async def test_wrong_key_and_unknown_model(fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async with AsyncOpenAI(base_url=fake_openai.base_url, api_key="sk-wrong-key-123", max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError) as caught:
            await ask(bad, data_url(image_bytes()))
    assert caught.value.code == "invalid_api_key" and caught.value.status_code == 401
    async with AsyncOpenAI(base_url=fake_openai.base_url, api_key=fake_openai.api_key, max_retries=0) as good:
        with pytest.raises(openai.NotFoundError) as missing:
            await ask(good, data_url(image_bytes()), model="gpt-9-imaginary")
    assert missing.value.code == "model_not_found"


async def test_request_validation(client: AsyncOpenAI) -> None:
    url = data_url(image_bytes())
    cases: list[tuple[dict[str, Any], str | None]] = [
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "bad name!", "schema": {}}}}, None),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": "no image"}]}, "messages"),
        ({"messages": messages(url, detail="ultra")}, None),
        ({"extra_body": {"temperature": "hot"}}, "temperature"),
        ({"extra_body": {"frobnicate": True}}, "frobnicate"),
    ]
    for kwargs, param in cases:
        with pytest.raises(openai.BadRequestError) as caught:
            await ask(client, url, **kwargs)
        if param is not None:
            assert caught.value.param == param, kwargs
    loose = {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}}
    with pytest.raises(openai.BadRequestError, match="additionalProperties"):
        await ask(
            client,
            url,
            response_format={"type": "json_schema", "json_schema": {"name": "t", "strict": True, "schema": loose}},
        )
    # Not strict: the same schema is accepted.
    await ask(client, url, response_format={"type": "json_schema", "json_schema": {"name": "t", "schema": loose}})


# ------------------------------------------------------------------------------ faults, retries, timeouts


async def test_429_with_retry_after_then_sdk_retry_succeeds(fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.fail_next(429, retry_after=0.2)
    async with AsyncOpenAI(base_url=fake_openai.base_url, api_key=fake_openai.api_key, max_retries=2) as client:
        started = time.monotonic()
        completion = await ask(client, data_url(image_bytes()))
    assert json.loads(completion.choices[0].message.content)["tags"]
    assert fake_openai.calls() == 2 and 0.15 < time.monotonic() - started < 3
    first = fake_openai.chat_requests[0]
    assert first.status == 429 and first.response["error"]["code"] == "rate_limit_exceeded"


async def test_fault_headers_and_no_retry(client: AsyncOpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.fail_next(429, retry_after=3, message="Slow down")
    with pytest.raises(openai.RateLimitError) as caught:
        await ask(client, data_url(image_bytes()))
    headers = caught.value.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"], headers["x-should-retry"]) == ("3", "3000", "true")
    assert caught.value.message.endswith("Slow down")
    fake_openai.fail_next(429, code="insufficient_quota")
    with pytest.raises(openai.RateLimitError) as quota:
        await ask(client, data_url(image_bytes()))
    assert quota.value.code == "insufficient_quota" and "x-should-retry" not in quota.value.response.headers
    fake_openai.fail_next(503)
    with pytest.raises(openai.InternalServerError) as unavailable:
        await ask(client, data_url(image_bytes()))
    assert unavailable.value.status_code == 503
    fake_openai.fail_next(401)
    with pytest.raises(openai.AuthenticationError):
        await ask(client, data_url(image_bytes()))
    assert (await ask(client, data_url(image_bytes()))).choices[0].finish_reason == "stop"


async def test_delay_beyond_timeout_is_api_timeout_and_server_stays_responsive(fake_openai: FakeOpenAI) -> None:  # noqa: F811
    url = data_url(image_bytes())
    async with AsyncOpenAI(base_url=fake_openai.base_url, api_key=fake_openai.api_key, max_retries=0) as client:
        fake_openai.delay_next(3)
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            await ask(client, url, timeout=0.3)
        assert time.monotonic() - started < 1.5

        fake_openai.delay_next(2)
        slow = asyncio.create_task(ask(client, url, timeout=5))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await ask(client, url)  # answered while the slow one sleeps
        assert time.monotonic() - started < 1 and not slow.done()
        assert (await slow).choices[0].finish_reason == "stop"
    assert fake_openai.chat_requests[0].disconnected and fake_openai.calls() == 3


def test_options_and_loopback_base_url() -> None:
    with running_fake_openai(api_key="k", models=None) as fake:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", fake.base_url) and fake.api_key == "k"
        assert fake.models is None  # any model string is accepted
