"""What the OpenAPI document says beyond what Litestar reads from signatures: the bearer scheme, and the
multipart upload (its handler streams the form itself, so no `data` parameter describes the body)."""

from __future__ import annotations

from dataclasses import dataclass

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

UPLOAD_RESPONSES = {
    200: ResponseSpec(UploadResult, description="Every file kept was already there (same bytes): the existing photos."),
    413: ResponseSpec(UploadRefused, description="Too large: a file, its pixels, or too many files in one request."),
    415: ResponseSpec(UploadRefused, description="Not an image type Classify takes (typed by content, not name)."),
    422: ResponseSpec(UploadRefused, description="A damaged or unreadable image, or no 'files' field."),
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
