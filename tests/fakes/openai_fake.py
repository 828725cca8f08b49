"""A local fake of an OpenAI-compatible server (Chat Completions with images, structured output) for the tests.

Written to /work/shared/specs/CONTRACTS.md §7 and §9 and the spec's ``CreateChatCompletionRequest`` /
``CreateChatCompletionResponse``. Point the official SDK at it::

    with running_fake_openai() as fake:
        client = AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key)   # OPENAI_BASE_URL / OPENAI_API_KEY
        fake.fail_next(429, retry_after=0.2)        # then the SDK's own retry succeeds
        fake.delay_next(5)                          # the next answer comes 5 s late (client timeouts)
        fake.responder = lambda body, image: "not json"   # content returned verbatim

``POST /v1/chat/completions`` checks the bearer key, the model, the request's field types (from the spec), the
messages (a user message with a ``data:image/(jpeg|png|webp|gif);base64,`` image that really is one) and a
``json_schema`` response format (strict schemas are checked like the real server does), then answers with a
``chat.completion`` whose ``message.content`` is the JSON string of ``fake.responder(body, image_bytes)``.
The default responder derives tags, caption, proposed_name and subject from the image's pixels (average
colour, orientation, brightness, a word picked by a hash of a thumbnail), so the same image always gets the
same answer and different images different ones. ``GET /v1/models`` (and ``/v1/models/{id}``) list the models.
Everything is recorded in ``fake.requests``. State is guarded by ``fake.lock`` (the server runs in a thread).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import colorsys
import contextlib
import hashlib
import inspect
import io
import json
import math
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.google_http import Request, Response, read_request, send_response

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_MODELS",
    "FakeOpenAI",
    "ImageInput",
    "OpenAIRecordedRequest",
    "Refusal",
    "default_responder",
    "describe_image",
    "running_fake_openai",
]

DEFAULT_API_KEY = "test-key"
DEFAULT_MODELS = ("gpt-4o-mini",)
CHAT_PATH = "/v1/chat/completions"
SUPPORTED_MIME = ("image/jpeg", "image/png", "image/webp", "image/gif")
PIL_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
DATA_URL = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)(?P<params>(?:;[^,;]*)*?);base64,(?P<data>.*)", re.S)
SCHEMA_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")

# Top-level fields of the spec's CreateChatCompletionRequest (allOf merged): JSON types and numeric ranges.
REQUEST_FIELDS: dict[str, tuple[tuple[str, ...], float | None, float | None]] = {
    "metadata": (("object", "null"), None, None),
    "top_logprobs": (("integer", "null"), 0, 20),
    "temperature": (("number", "null"), 0, 2),
    "top_p": (("number", "null"), 0, 1),
    "user": (("string",), None, None),
    "safety_identifier": (("string", "null"), None, None),
    "prompt_cache_key": (("string", "null"), None, None),
    "prompt_cache_retention": (("string", "null"), None, None),
    "prompt_cache_options": (("object",), None, None),
    "messages": (("array",), None, None),
    "model": (("string",), None, None),
    "service_tier": (("string", "null"), None, None),
    "modalities": (("array", "null"), None, None),
    "verbosity": (("string", "null"), None, None),
    "reasoning_effort": (("string", "null"), None, None),
    "max_completion_tokens": (("integer", "null"), None, None),
    "frequency_penalty": (("number", "null"), -2, 2),
    "presence_penalty": (("number", "null"), -2, 2),
    "web_search_options": (("object",), None, None),
    "response_format": (("object",), None, None),
    "audio": (("object", "null"), None, None),
    "store": (("boolean", "null"), None, None),
    "moderation": (("object", "null"), None, None),
    "stream": (("boolean", "null"), None, None),
    "stop": (("string", "array", "null"), None, None),
    "logit_bias": (("object", "null"), None, None),
    "logprobs": (("boolean", "null"), None, None),
    "max_tokens": (("integer", "null"), None, None),
    "n": (("integer", "null"), 1, 128),
    "prediction": (("object", "null"), None, None),
    "seed": (("integer", "null"), None, None),
    "stream_options": (("object", "null"), None, None),
    "tools": (("array",), None, None),
    "tool_choice": (("string", "object"), None, None),
    "parallel_tool_calls": (("boolean",), None, None),
    "function_call": (("string", "object"), None, None),
    "functions": (("array",), None, None),
}
MESSAGE_ROLES = ("developer", "system", "user", "assistant", "tool", "function")
ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "invalid_request_error"}
ERROR_TYPES |= {404: "invalid_request_error", 429: "requests", 500: "server_error", 503: "server_error"}
ERROR_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}
ERROR_MESSAGES = {
    400: "Invalid request.",
    401: "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
    403: "Country, region, or territory not supported",
    404: "The model does not exist or you do not have access to it.",
    409: "Conflict.",
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later.",
}
UNSUPPORTED_IMAGE = (
    "You uploaded an unsupported image. Please make sure your image has of one the following formats: "
    "['png', 'jpeg', 'gif', 'webp']."
)

Responder = Callable[[dict[str, Any], bytes], Any]


class Refusal(str):
    """Return this from a responder to answer with ``content: null, refusal: <text>`` (the model refuses)."""


class OpenAIError(Exception):
    """An error answer in OpenAI's shape (raised inside the handlers)."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        param: str | None = None,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message or ERROR_MESSAGES.get(status, "Error.")
        self.code, self.param = code, param
        self.type = type_ or ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        return _json(body, self.status, self.headers)


@dataclass
class ImageInput:
    """One image of a request: the data URL's declared MIME type, the decoded bytes and what Pillow saw."""

    mime: str
    data: bytes
    detail: str | None
    format: str | None = None  # Pillow's format name (JPEG, PNG, ...)
    size: tuple[int, int] | None = None


@dataclass
class OpenAIRecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    json: Any
    time: float
    images: list[ImageInput] = field(default_factory=list)
    status: int | None = None  # None while in flight, or when the client went away first
    disconnected: bool = False
    response: Any = None  # the JSON answered

    @property
    def image(self) -> bytes | None:
        return self.images[0].data if self.images else None

    @property
    def image_mime(self) -> str | None:
        return self.images[0].mime if self.images else None


@dataclass
class Fault:
    status: int
    times: int
    retry_after: float | None
    code: str | None
    message: str | None
    path: str


@dataclass
class Delay:
    seconds: float
    times: int
    path: str


# ------------------------------------------------------------------------------------------ default answer

COLOURS = ((15, "red"), (45, "orange"), (70, "yellow"), (165, "green"), (200, "cyan"), (260, "blue"))
COLOURS += ((290, "purple"), (335, "pink"), (360, "red"))
COLOURISH = {"red": "reddish", "orange": "orangey", "yellow": "yellowish", "green": "greenish", "cyan": "cyan"}
COLOURISH |= {"blue": "bluish", "purple": "purplish", "pink": "pinkish", "gray": "grayish", "white": "whitish"}
COLOURISH |= {"black": "blackish"}
SUBJECTS = (
    "tree", "sky", "dog", "cat", "car", "beach", "mountain", "city", "flower", "food", "person", "house",
    "lake", "bridge", "bird", "boat", "forest", "street", "garden", "river", "sunset", "building", "field", "snow",
)  # fmt: skip


def describe_image(image: bytes) -> dict[str, Any]:
    """Deterministic facts about an image: colour name, orientation, brightness, a subject word, size."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as img:
        img.seek(0)
        width, height = img.size
        rgb = img.convert("RGB")
        r, g, b = rgb.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))  # type: ignore[misc]
        thumb = rgb.resize((8, 8), Image.Resampling.BOX).tobytes()
    hue, lightness, saturation = colorsys.rgb_to_hls(r / 255, g / 255, b / 255)
    if saturation < 0.15 or lightness < 0.08 or lightness > 0.95:
        colour = "black" if lightness < 0.2 else "white" if lightness > 0.85 else "gray"
    else:
        colour = next(name for limit, name in COLOURS if hue * 360 < limit)
    orientation = "landscape" if width > height * 1.1 else "portrait" if height > width * 1.1 else "square"
    brightness = "dark" if lightness < 0.35 else "bright" if lightness > 0.65 else "muted"
    quantised = bytes(v // 32 for v in thumb)
    subject = SUBJECTS[int.from_bytes(hashlib.sha256(quantised).digest()[:4], "big") % len(SUBJECTS)]
    return {
        "colour": colour,
        "colourish": COLOURISH[colour],
        "orientation": orientation,
        "brightness": brightness,
        "subject": subject,
        "width": width,
        "height": height,
        "average_rgb": (r, g, b),
    }


def default_responder(body: dict[str, Any], image: bytes) -> dict[str, Any]:
    """The fake model's answer: 5 lowercase tags, a one-sentence caption, a slug and a subject, all from the image.

    E.g. ``{"tags": ["photo", "red", "landscape", "bright", "beach"], "caption": "A reddish landscape photo of
    a beach.", "proposed_name": "reddish-beach", "subject": "beach"}``.
    """
    facts = describe_image(image)
    tags = ["photo", facts["colour"], facts["orientation"], facts["brightness"], facts["subject"]]
    return {
        "tags": list(dict.fromkeys(tags)),
        "caption": f"A {facts['colourish']} {facts['orientation']} photo of a {facts['subject']}.",
        "proposed_name": f"{facts['colourish']}-{facts['subject']}",
        "subject": facts["subject"],
    }


def conform_to_schema(answer: dict[str, Any], schema: Any) -> dict[str, Any]:
    """Keep only the schema's properties and fill its missing required ones (what a strict model would do)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return answer
    props: dict[str, Any] = schema["properties"]
    out = {k: v for k, v in answer.items() if k in props}
    for name in schema.get("required", []):
        if name not in out:
            kind = props.get(name, {}).get("type")
            kinds = kind if isinstance(kind, list) else [kind]
            defaults = {"array": [], "string": "", "integer": 0, "number": 0, "boolean": False, "object": {}}
            out[name] = next((defaults[k] for k in kinds if k in defaults), None)
    return out


# ----------------------------------------------------------------------------------------------- helpers


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    return Response(status, body, "application/json", dict(headers or {}))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _bad(message: str, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


def check_request_fields(body: Any) -> None:
    """Top-level field presence, names and types per the spec's CreateChatCompletionRequest."""
    if not isinstance(body, dict):
        raise _bad("Invalid type for request body: expected an object.")
    for name in ("model", "messages"):
        if name not in body:
            raise _bad(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
    for name, value in body.items():
        if name not in REQUEST_FIELDS:
            raise _bad(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")
        types, low, high = REQUEST_FIELDS[name]
        kind = _json_type(value)
        if kind not in types and not (kind == "integer" and "number" in types):
            raise _bad(
                f"Invalid type for '{name}': expected {' or '.join(types)}, but got {kind} instead.",
                name,
                "invalid_type",
            )
        too_low, too_high = low is not None and value < low, high is not None and value > high
        if kind in ("integer", "number") and (too_low or too_high):
            raise _bad(f"Invalid '{name}': must be between {low} and {high}.", name, "invalid_value")


def strict_schema_problem(schema: Any, context: tuple[str, ...] = ()) -> str | None:
    """What the real server says about a strict json_schema that is not strict-compatible (None: fine)."""
    if not isinstance(schema, dict):
        return None
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False:
            return f"In context={context}, 'additionalProperties' is required to be supplied and to be false."
        missing = [k for k in props if k not in (schema.get("required") or [])]
        if missing:
            return (
                f"In context={context}, 'required' is required to be supplied and to be an array including every key "
                f"in properties. Missing '{missing[0]}'."
            )
        for name, sub in props.items():
            if problem := strict_schema_problem(sub, (*context, "properties", name)):
                return problem
    children: list[Any] = []
    if isinstance(schema.get("items"), dict):
        children.append(schema["items"])
    for key in ("anyOf", "allOf", "oneOf"):
        children.extend(schema.get(key) or [])
    for key in ("$defs", "definitions"):
        children.extend((schema.get(key) or {}).values())
    for child in children:
        if problem := strict_schema_problem(child, context):
            return problem
    return None


def check_response_format(value: Any) -> dict[str, Any]:
    """The ``json_schema`` object of a ``response_format`` that must be ``{"type": "json_schema", ...}``."""
    param = "response_format"
    if not isinstance(value, dict) or value.get("type") != "json_schema":
        kind = value.get("type") if isinstance(value, dict) else None
        raise _bad(f"Invalid 'response_format.type': expected 'json_schema' (this fake), got {kind!r}.", param)
    spec = value.get("json_schema")
    if not isinstance(spec, dict):
        raise _bad("Missing required parameter: 'response_format.json_schema'.", "response_format.json_schema")
    extra = set(value) - {"type", "json_schema"}
    if extra:
        raise _bad(f"Unrecognized request argument supplied: response_format.{sorted(extra)[0]}", param)
    name = spec.get("name")
    if not isinstance(name, str):
        raise _bad("Missing required parameter: 'response_format.json_schema.name'.", "response_format.json_schema")
    if not SCHEMA_NAME.fullmatch(name):
        raise _bad(
            f"Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that "
            f"matches the pattern '^[a-zA-Z0-9_-]+$' (at most 64 characters), got {name!r}.",
            "response_format.json_schema.name",
            "invalid_value",
        )
    if "schema" not in spec or not isinstance(spec["schema"], dict):
        raise _bad("Invalid 'response_format.json_schema.schema': expected an object.", "response_format.json_schema")
    strict = spec.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise _bad("Invalid type for 'response_format.json_schema.strict': expected a boolean.", param, "invalid_type")
    unknown = set(spec) - {"name", "schema", "strict", "description"}
    if unknown:
        raise _bad(f"Unrecognized request argument supplied: json_schema.{sorted(unknown)[0]}", param)
    if strict and (problem := strict_schema_problem(spec["schema"])):
        raise _bad(f"Invalid schema for response_format '{name}': {problem}", param)
    return spec


def decode_image_url(url: Any, detail: Any, param: str, max_bytes: int) -> ImageInput:
    """The image of a data URL, or the 400 the real server would give."""
    from PIL import Image, UnidentifiedImageError

    if detail is not None and detail not in ("low", "high", "auto"):
        raise _bad(
            f"Invalid value: '{detail}'. Supported values are: 'low', 'high', and 'auto'.",
            f"{param}.image_url.detail",
            "invalid_value",
        )
    if not isinstance(url, str):
        raise _bad(f"Invalid type for '{param}.image_url.url': expected a string.", f"{param}.image_url.url")
    match = DATA_URL.fullmatch(url)
    if match is None:
        if url.startswith(("http://", "https://")):
            raise _bad(f"Error while downloading {url} (this fake only takes data URLs).", None, "invalid_image_url")
        raise _bad("Invalid image URL: expected a URL or a base64 data URL.", f"{param}.image_url.url", "invalid_value")
    mime = match["mime"].lower()
    if mime not in SUPPORTED_MIME:
        raise _bad(UNSUPPORTED_IMAGE, None, "invalid_image_format")
    try:
        data = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise _bad(UNSUPPORTED_IMAGE, None, "invalid_image_format") from None
    if not data:
        raise _bad(UNSUPPORTED_IMAGE, None, "invalid_image_format")
    if len(data) > max_bytes:
        raise _bad(f"Image too large: {len(data)} bytes, the maximum is {max_bytes}.", None, "image_too_large")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, size, frames = img.format, img.size, getattr(img, "n_frames", 1)
            img.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _bad(UNSUPPORTED_IMAGE, None, "invalid_image_format") from None
    if fmt not in PIL_FORMATS or (fmt == "GIF" and frames > 1):
        raise _bad(UNSUPPORTED_IMAGE, None, "invalid_image_format")
    return ImageInput(mime, data, detail, fmt, size)


def check_messages(messages: Any, max_image_bytes: int) -> list[ImageInput]:
    """The messages' images, after checking roles, content parts and image data; at least one user image."""
    if not isinstance(messages, list) or not messages:
        raise _bad("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages")
    images: list[ImageInput] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _bad(f"Invalid type for '{where}': expected an object.", where, "invalid_type")
        role = message.get("role")
        if role not in MESSAGE_ROLES:
            raise _bad(f"Invalid value: '{role}'. Supported values are: {MESSAGE_ROLES}.", f"{where}.role")
        content = message.get("content")
        if isinstance(content, str) or (content is None and role == "assistant"):
            continue
        if not isinstance(content, list) or not content:
            raise _bad(f"Invalid 'content' of '{where}': expected a string or a non-empty array.", f"{where}.content")
        for j, part in enumerate(content):
            here = f"{where}.content[{j}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                if not isinstance(part.get("text"), str):
                    raise _bad(f"Missing required parameter: '{here}.text'.", f"{here}.text")
            elif kind == "image_url" and role == "user":
                image_url = part.get("image_url")
                if not isinstance(image_url, dict) or "url" not in image_url:
                    raise _bad(f"Missing required parameter: '{here}.image_url.url'.", f"{here}.image_url")
                images.append(decode_image_url(image_url["url"], image_url.get("detail"), here, max_image_bytes))
            else:
                raise _bad(f"Invalid value: '{kind}'. Supported values are: 'text' and 'image_url'.", f"{here}.type")
    if not images:
        raise _bad("This fake needs a user message with an image_url part (a data URL).", "messages")
    return images


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def image_tokens(image: ImageInput) -> int:
    """gpt-4o-mini's image accounting (2833 base, 5667 per 512-px tile at high detail)."""
    if image.detail == "low" or image.size is None:
        return 2833
    width, height = image.size
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height))
    tiles = math.ceil(width * scale / 512) * math.ceil(height * scale / 512)
    return 2833 + 5667 * tiles


# -------------------------------------------------------------------------------------------------- fake


class FakeOpenAI:
    """The fake's state and control methods; also the ASGI app the server runs."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        models: Iterable[str] | None = DEFAULT_MODELS,
        responder: Responder | None = None,
        base_url: str = "http://127.0.0.1:0/v1",
        owned_by: str = "system",
        max_image_bytes: int = 20 * 1024 * 1024,
        shutdown_dates: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.models: set[str] | None = None if models is None else set(models)  # None: any model string
        self.responder: Responder = responder or default_responder
        self.owned_by = owned_by
        self.max_image_bytes = max_image_bytes
        self.shutdown_dates: dict[str, str] = dict(shutdown_dates or {})
        self.lock = threading.RLock()
        self.requests: list[OpenAIRecordedRequest] = []
        self.faults: list[Fault] = []
        self.delays: list[Delay] = []
        self.errors: list[BaseException] = []  # exceptions raised by the responder (answered with 500)
        self.created = int(time.time())

    # ------------------------------------------------------------------------------------- control

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        code: str | None = None,
        message: str | None = None,
        *,
        path: str = CHAT_PATH,
    ) -> None:
        """The next ``times`` requests to ``path`` fail with ``status`` (after any delay, before any checks).

        429 carries ``retry-after`` (whole seconds, rounded up), ``retry-after-ms`` and ``x-should-retry: true``
        (not for ``code="insufficient_quota"``, which is not worth retrying); 5xx carries ``x-should-retry: true``.
        """
        with self.lock:
            self.faults.append(Fault(status, times, retry_after, code, message, path))

    def delay_next(self, seconds: float, times: int = 1, *, path: str = CHAT_PATH) -> None:
        """The next ``times`` requests to ``path`` are answered ``seconds`` late (the server stays responsive)."""
        with self.lock:
            self.delays.append(Delay(seconds, times, path))

    def reset(self) -> None:
        """Forget recorded requests, pending faults and delays."""
        with self.lock:
            self.requests.clear()
            self.faults.clear()
            self.delays.clear()
            self.errors.clear()

    # ----------------------------------------------------------------------------------- recording

    def calls(self, path: str = CHAT_PATH, method: str | None = "POST") -> int:
        """How many requests reached ``path`` (default: chat completions) with ``method`` (None: any)."""
        with self.lock:
            return sum(1 for r in self.requests if r.path == path and (method is None or r.method == method.upper()))

    @property
    def chat_requests(self) -> list[OpenAIRecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == CHAT_PATH and r.method == "POST"]

    @property
    def last_request(self) -> OpenAIRecordedRequest | None:
        with self.lock:
            return self.requests[-1] if self.requests else None

    # ------------------------------------------------------------------------------------ handling

    def _take(self, items: list[Any], path: str) -> Any:
        with self.lock:
            for item in items:
                if item.times > 0 and item.path == path:
                    item.times -= 1
                    return item
        return None

    def _fault_error(self, fault: Fault) -> OpenAIError:
        headers: dict[str, str] = {}
        code = fault.code or ERROR_CODES.get(fault.status)
        type_ = None
        if fault.status == 429:
            if fault.retry_after is not None:
                headers["retry-after"] = str(max(0, math.ceil(fault.retry_after)))
                headers["retry-after-ms"] = str(max(0, round(fault.retry_after * 1000)))
            if code == "insufficient_quota":
                type_ = "insufficient_quota"
            else:
                headers["x-should-retry"] = "true"
        elif fault.status >= 500:
            headers["x-should-retry"] = "true"
            if fault.retry_after is not None:
                headers["retry-after"] = str(max(0, math.ceil(fault.retry_after)))
        message = fault.message
        if fault.status == 429 and message is None and code == "insufficient_quota":
            message = "You exceeded your current quota, please check your plan and billing details."
        return OpenAIError(fault.status, message, code=code, type_=type_, headers=headers)

    def _check_auth(self, req: Request) -> None:
        scheme, _, key = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise OpenAIError(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using "
                "Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if key.strip() != self.api_key:
            shown = key.strip()
            shown = f"{shown[:3]}*****{shown[-4:]}" if len(shown) > 8 else "*****"
            raise OpenAIError(
                401,
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )

    def _check_model(self, model: str) -> None:
        if self.models is not None and model not in self.models:
            raise OpenAIError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )

    def _model_json(self, model: str) -> dict[str, Any]:
        data: dict[str, Any] = {"id": model, "object": "model", "created": self.created, "owned_by": self.owned_by}
        if model in self.shutdown_dates:
            data["shutdown_date"] = self.shutdown_dates[model]
        return data

    async def _models(self, req: Request, model: str | None) -> Response:
        self._check_auth(req)
        if model is not None:
            self._check_model(model)
            return _json(self._model_json(model))
        names = sorted(self.models or DEFAULT_MODELS)
        return _json({"object": "list", "data": [self._model_json(m) for m in names]})

    async def _chat(self, req: Request, rec: OpenAIRecordedRequest) -> Response:
        self._check_auth(req)
        if rec.json is None:
            raise _bad(
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
                "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
                "JSON. If you have trouble figuring out how to fix this, please contact us through our help "
                "center at help.openai.com.)"
            )
        body: dict[str, Any] = rec.json
        check_request_fields(body)
        if body.get("stream"):
            raise _bad("This fake does not stream; send stream=false.", "stream", "unsupported_value")
        if body.get("n") not in (None, 1):
            raise _bad("This fake answers n=1 only.", "n", "unsupported_value")
        if body.get("max_tokens") is not None and body.get("max_completion_tokens") is not None:
            raise _bad(
                "Setting both 'max_tokens' and 'max_completion_tokens' is not supported; use max_completion_tokens.",
                "max_tokens",
                "unsupported_parameter",
            )
        rec.images = check_messages(body["messages"], self.max_image_bytes)
        if "response_format" not in body:
            raise _bad("This fake needs response_format {'type': 'json_schema', ...}.", "response_format")
        spec = check_response_format(body["response_format"])
        self._check_model(body["model"])

        answer = self.responder(body, rec.images[0].data)
        if inspect.isawaitable(answer):
            answer = await answer
        if self.responder is default_responder and spec.get("strict") and isinstance(answer, dict):
            answer = conform_to_schema(answer, spec["schema"])
        refusal = str(answer) if isinstance(answer, Refusal) else None
        content = None if refusal is not None else answer if isinstance(answer, str) else json.dumps(answer)
        finish_reason = "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if content is not None and limit is not None and estimate_tokens(content) > limit:
            content, finish_reason = content[: limit * 4], "length"
        prompt_tokens = sum(estimate_tokens(json.dumps(m.get("content"))) for m in body["messages"] if m)
        prompt_tokens += sum(image_tokens(image) for image in rec.images)
        completion_tokens = estimate_tokens(content or refusal or "")
        return _json(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:29]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                        "logprobs": None,
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                    "completion_tokens_details": {
                        "reasoning_tokens": 0,
                        "audio_tokens": 0,
                        "accepted_prediction_tokens": 0,
                        "rejected_prediction_tokens": 0,
                    },
                },
                "service_tier": "default",
                "system_fingerprint": "fp_fake0001",
            }
        )

    async def _route(self, req: Request, rec: OpenAIRecordedRequest) -> Response:
        if req.path == CHAT_PATH and req.method == "POST":
            return await self._chat(req, rec)
        if req.path == "/v1/models" and req.method == "GET":
            return await self._models(req, None)
        if req.path.startswith("/v1/models/") and req.method == "GET":
            return await self._models(req, req.path.removeprefix("/v1/models/"))
        raise OpenAIError(404, f"Invalid URL ({req.method} {req.path})")

    async def handle(self, req: Request, receive: Any) -> Response | None:
        """The answer to ``req`` (None if the client went away during an injected delay)."""
        data = None
        if req.body:
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                data = json.loads(req.body)
        rec = OpenAIRecordedRequest(req.method, req.path, dict(req.headers), data, time.time())
        with self.lock:
            self.requests.append(rec)
        delay = self._take(self.delays, req.path)
        if delay is not None and await self._client_left(delay.seconds, receive):
            rec.disconnected = True
            return None
        try:
            fault = self._take(self.faults, req.path)
            if fault is not None:
                raise self._fault_error(fault)
            response = await self._route(req, rec)
        except OpenAIError as error:
            response = error.response()
        except Exception as exc:  # a broken responder: answer like the real server's 500
            with self.lock:
                self.errors.append(exc)
            response = OpenAIError(500, headers={"x-should-retry": "false"}).response()
        request_id = f"req_{uuid.uuid4().hex}"
        response.headers = {
            "x-request-id": request_id,
            "openai-processing-ms": "1",
            "x-ratelimit-limit-requests": "10000",
            "x-ratelimit-remaining-requests": "9999",
            "x-ratelimit-reset-requests": "6ms",
            "x-ratelimit-limit-tokens": "10000000",
            "x-ratelimit-remaining-tokens": "9999000",
            "x-ratelimit-reset-tokens": "0s",
        } | response.headers
        rec.status = response.status
        with contextlib.suppress(ValueError):
            rec.response = json.loads(response.body)
        return response

    @staticmethod
    async def _client_left(seconds: float, receive: Any) -> bool:
        """Sleep ``seconds``; True (early) if the client disconnects meanwhile."""

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        watcher = asyncio.ensure_future(disconnected())
        try:
            await asyncio.wait_for(asyncio.shield(watcher), seconds)
        except TimeoutError:
            return False
        finally:
            watcher.cancel()
        return True

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            return
        response = await self.handle(await read_request(scope, receive), receive)
        if response is not None:
            await send_response(send, response)


@contextlib.contextmanager
def running_fake_openai(**options: Any) -> Iterator[FakeOpenAI]:
    """Start a FakeOpenAI (uvicorn in a daemon thread) on a free 127.0.0.1 port; stop it on exit.

    ``options`` are FakeOpenAI's keyword arguments. ``fake.base_url`` is ``http://127.0.0.1:PORT/v1``.
    """
    import uvicorn

    from tests.support.servers import wait_for

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    fake = FakeOpenAI(**options)
    fake.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    config = uvicorn.Config(fake, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="fake-openai", daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), 10, f"fake OpenAI at {fake.base_url}")
        if not server.started:
            raise RuntimeError("fake OpenAI did not start (see the log above)")
        yield fake
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
