"""Tags, a caption and a file name from any OpenAI-compatible vision model, through the official SDK."""

from __future__ import annotations

import base64
import io
import json
import re
from typing import TYPE_CHECKING, Any

import httpx
from PIL import Image

from app.adapters.kept_check import KeptCheck
from app.domain.vision import VisionAnswerInvalid, VisionBusy, VisionResult, VisionUnavailable, parse_answer
from app.logs import log

if TYPE_CHECKING:
    import openai

MAX_RETRIES = 2  # the SDK's own retries (429 with Retry-After, 5xx, timeouts); we add none around them
PREVIEW_SIDE = 512

PROMPT = (
    "Describe this photo for a personal photo library. Answer with JSON only: 3 to 8 lowercase single-word "
    "tags, a one-sentence caption, a short descriptive file name in kebab-case without an extension, and the "
    "main subject in a few words."
)
SCHEMA = {
    "name": "photo_description",
    "strict": True,
    "schema": {
        "type": "object",
        "additionalProperties": False,
        "required": ["tags", "caption", "proposed_name", "subject"],
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 8},
            "caption": {"type": "string"},
            "proposed_name": {"type": "string"},
            "subject": {"type": "string"},
        },
    },
}


def preview_jpeg(rendition: bytes) -> bytes:
    """A small JPEG of the photo (from one of its renditions): cheap to send, and a type every server takes."""
    with Image.open(io.BytesIO(rendition)) as image:
        image = image.convert("RGB")
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
    return out.getvalue()


class OpenAIVision:
    def __init__(self, *, api_key: str | None, base_url: str | None, model: str, timeout: float = 30.0) -> None:
        # 30 s, not the SDK's 600 s: a person is waiting on the Tag button.
        self.model = model
        self.timeout = timeout
        self.configured = bool(api_key or base_url)
        self._api_key = api_key
        self._base_url = base_url
        self._client: openai.AsyncOpenAI | None = None
        # whether the AI server answers, takes this server's key and has the model, for the System page
        self.check = KeptCheck(self._check_now)

    def _sdk(self) -> openai.AsyncOpenAI:
        # The SDK (with pydantic) is ~15 MB of the web process's memory: loaded on the first AI call, not at start.
        if self._client is None:
            import openai

            self._client = openai.AsyncOpenAI(
                api_key=self._api_key or "unused",  # local OpenAI-compatible servers often need no key
                base_url=self._base_url,
                timeout=self.timeout,
                max_retries=MAX_RETRIES,
            )
        return self._client

    async def _check_now(self) -> str:
        """Its model list (free to read). Plain HTTP, so that a look at the page does not load the SDK."""
        root = (self._base_url or "https://api.openai.com/v1").rstrip("/")
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        async with httpx.AsyncClient(timeout=5.0) as http:
            response = await http.get(f"{root}/models", headers=headers)
        status = response.status_code
        if status in (401, 403):
            raise RuntimeError(f"the AI server refused this server's credentials ({status}): check OPENAI_API_KEY")
        if status >= 400:
            raise RuntimeError(f"the AI server answered {status} to a list of its models")
        listed = {str(m.get("id")) for m in response.json().get("data", []) if isinstance(m, dict)}
        if listed and self.model not in listed:
            raise RuntimeError(f"the AI server has no model {self.model} (CLASSIFY_VISION_MODEL)")
        return f"answering, model {self.model}"

    async def describe(self, jpeg: bytes) -> VisionResult:
        if not self.configured:
            raise VisionUnavailable("AI tagging is not set up on this server (OPENAI_API_KEY / OPENAI_BASE_URL).")
        import openai

        data_url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        try:
            completion = await self._sdk().chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": PROMPT},
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "Describe this photo."},
                            {"type": "image_url", "image_url": {"url": data_url, "detail": "low"}},
                        ],
                    },
                ],
                response_format={"type": "json_schema", "json_schema": SCHEMA},
                max_completion_tokens=300,  # max_tokens is deprecated, and newer models refuse it
            )
        except openai.RateLimitError as exc:
            if exc.code == "insufficient_quota":  # a 429 too, but waiting will not bring credit back
                raise VisionUnavailable(OUT_OF_CREDIT) from None
            raise VisionBusy("The AI server is busy (too many requests); try again later.", _retry_after(exc)) from None
        except openai.APITimeoutError:
            tries = MAX_RETRIES + 1  # each waited for `timeout`: the message said 5 s after 16 s
            raise VisionUnavailable(
                f"The AI server did not answer within {self.timeout:.0f} s, {tries} times; try again later."
            ) from None
        except openai.APIConnectionError:
            raise VisionUnavailable("The AI server cannot be reached; try again later.") from None
        except openai.APIStatusError as exc:
            raise VisionUnavailable(_refusal(exc)) from None
        return parse_answer(_content(completion))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()


OUT_OF_CREDIT = (
    "The AI account this server uses has no credit left (OpenAI: insufficient_quota); whoever runs Classify "
    "needs to add some. Nothing was tagged."
)


def _content(completion: Any) -> Any:
    choice = completion.choices[0] if completion.choices else None
    message = choice.message if choice else None
    if message is None or getattr(message, "refusal", None):
        raise VisionAnswerInvalid("The model declined to describe this photo.")
    if getattr(choice, "finish_reason", None) == "length":  # its JSON stops part-way: say why, not "not JSON"
        raise VisionAnswerInvalid("The model's answer was cut off (longer than Classify takes); try again.")
    try:
        return json.loads(message.content or "")
    except ValueError:
        raise VisionAnswerInvalid("The model's answer was not valid JSON.") from None


def _retry_after(exc: openai.APIStatusError) -> float | None:
    try:
        return float(exc.response.headers.get("retry-after", ""))
    except ValueError:
        return None


def _refusal(exc: openai.APIStatusError) -> str:
    """What a person is told. A refused key is the administrator's to fix, and the provider's own words about it
    (which may quote part of the key) go to the log, not to the page; a server error is said to be one."""
    status = exc.status_code
    if status in (401, 403):
        log.warning("the AI server refused this server's credentials", status=status, detail=_message(exc))
        return (
            f"The AI server refused this server's credentials ({status}): whoever runs Classify must check "
            "OPENAI_API_KEY (and OPENAI_BASE_URL)."
        )
    if status >= 500:
        return f"The AI server failed ({status}); try again later."
    return f"The AI server refused the request ({status}): {_message(exc)}"


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body, dict) else {}
    text = str(error.get("message") if isinstance(error, dict) else exc.message)[:200]
    return API_KEY.sub("sk-…", text)  # an API key, or the part of one a provider quotes back


API_KEY = re.compile(r"\bsk-[\w*.-]+")
