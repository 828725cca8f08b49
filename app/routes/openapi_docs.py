"""What the OpenAPI document says beyond what Litestar reads from signatures: the bearer scheme, the
multipart upload (its handler streams the form itself, so no `data` parameter describes the body), and the
error answers each operation can give (they come from domain exceptions, which no signature shows)."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, OpenAPIMediaType, Operation, RequestBody, Schema, SecurityScheme
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from app.routes.schemas import UploadRefused, UploadResult
from app.routes.security import BEARER_SCHEME

COMPONENTS = Components(
    security_schemes={
        BEARER_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="An access token from POST /api/v1/auth/login (15 minutes; POST /api/v1/auth/refresh renews).",
        )
    }
)


class ErrorBody(msgspec.Struct):
    """Every refusal of the API: the HTTP status again, and what went wrong in words a person can act on."""

    status_code: int
    detail: str


WHY = {
    400: "A malformed request: a body that is not the JSON asked for, a field of the wrong type, or a NUL character.",
    401: "No bearer token, or one that has expired or was signed out (POST /api/v1/auth/refresh renews it).",
    403: "Not for this account: a Google account this server makes no account for (CLASSIFY_ALLOWED_EMAILS).",
    404: "No such item, or it belongs to another account; also a service this server has not been set up for.",
    409: "Not possible in the current state: the detail says what to do first.",
    413: "Too large: a file, its pixels, or too many files in one request.",
    422: "A value Classify cannot use: the detail names it.",
    429: "Too many attempts or calls for now; Retry-After, when sent, says how many seconds to wait.",
    502: "The outside service (Google, Dropbox, the AI server) answered with an error.",
    503: "The outside service could not be reached, or is not ready.",
}


def _answer(body: type, description: str) -> ResponseSpec:
    # no made-up example: Litestar's are random strings and numbers ("status_code": 3674), shown on /schema
    return ResponseSpec(body, description=description, generate_examples=False)


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """An API operation's error answers, all `{status_code, detail}`. Every one can answer 400 (a NUL
    character anywhere is refused) and 401 (a missing token; a wrong password or refresh token for sign-in)."""
    return {code: _answer(ErrorBody, WHY[code]) for code in sorted({400, 401, *codes})}


UPLOAD_RESPONSES = {
    **errors(409),  # the same bytes stored at the same moment by another request, which then failed
    200: _answer(UploadResult, "Every file kept was already there (same bytes): the existing photos."),
    413: _answer(UploadRefused, "Too large: a file, its pixels, or too many files in one request."),
    415: _answer(UploadRefused, "Not an image type Classify takes (typed by content, not name)."),
    422: _answer(UploadRefused, "A damaged or unreadable image, or no 'files' field."),
    507: _answer(UploadRefused, "The server's disk is full, or would be past the room it keeps free."),
}


@dataclass
class UploadOperation(Operation):
    def __post_init__(self) -> None:
        files = Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
            description="One or more photos (JPEG, PNG, WebP, GIF, HEIC/HEIF).",
        )
        form = Schema(type=OpenAPIType.OBJECT, properties={"files": files}, required=["files"])
        self.request_body = RequestBody(content={"multipart/form-data": OpenAPIMediaType(schema=form)}, required=True)
