"""AI tags, captions and file names: the JSON API and the htmx bits of the photo page and the gallery."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, post
from litestar.response import Template

from app.domain.categories import TabAsShown
from app.domain.model import PhotoFilter
from app.domain.services import photos, tagging
from app.routes.deps import ContainerDep, caller, parse_uuid
from app.routes.events import job_context
from app.routes.openapi_docs import errors
from app.routes.query_params import parse_source
from app.routes.schemas import JobAccepted
from app.routes.security import BEARER, requires_api_user, requires_page_user


class TagOut(msgspec.Struct):
    tags: list[str]
    caption: str
    proposed_name: str
    subject: str | None


class TagBatchBody(msgspec.Struct):
    photo_ids: list[uuid.UUID] | None = None
    # Without photo_ids, the keepers; these narrow them as the photo list's parameters of the same names do.
    tag: str | None = None
    q: str | None = None
    source: str | None = None


async def _tag(
    request: Request[Any, Any, Any], container: ContainerDep, photo_id: str, again: bool
) -> tagging.VisionResult:
    return await tagging.tag_photo(
        caller(request),
        parse_uuid(photo_id),
        uow=container.uow,
        describer=container.vision,
        preview=container.previews,
        server_default=container.settings.vision_monthly_limit,
        now=container.clock(),
        again=again,
    )


@post(
    "/api/v1/photos/{photo_id:str}/tag",
    guards=[requires_api_user],
    security=BEARER,
    tags=["ai"],
    status_code=200,
    summary="Describe a photo with the vision model (tags, caption, file name)",
    responses=errors(404, 409, 429, 502, 503),
)
async def api_tag(
    request: Request[Any, Any, Any], container: ContainerDep, photo_id: str, again: bool = False
) -> TagOut:
    """`again=true` asks the model afresh instead of answering from the cache of the same image."""
    result = await _tag(request, container, photo_id, again)
    return TagOut(list(result.tags), result.caption, result.proposed_name, result.subject)


@post(
    "/api/v1/photos/tag-batch",
    guards=[requires_api_user],
    security=BEARER,
    tags=["ai"],
    status_code=202,
    summary="Tag the keepers (or chosen photos) as a job",
    responses=errors(404, 409, 422, 429),
)
async def api_tag_batch(
    request: Request[Any, Any, Any], container: ContainerDep, data: TagBatchBody | None = None
) -> JobAccepted:
    body = data or TagBatchBody()
    job = await tagging.start_tag_batch(
        caller(request),
        body.photo_ids,
        uow=container.uow,
        queue=container.queue,
        describer=container.vision,
        server_default=container.settings.vision_monthly_limit,
        now=container.clock(),
        only=PhotoFilter.of(parse_source(body.source), body.tag, body.q),
    )
    return JobAccepted(job.id, job.total)


@post("/photos/{photo_id:str}/tag", guards=[requires_page_user], include_in_schema=False, status_code=200)
async def page_tag(
    request: Request[Any, Any, Any], container: ContainerDep, photo_id: str, again: bool = False
) -> Template:
    await _tag(request, container, photo_id, again)
    photo = await photos.get_photo(caller(request).id, parse_uuid(photo_id), uow=container.uow)
    return Template("_photo_tags.html", context={"photo": photo})


@post("/jobs/tag-keepers", guards=[requires_page_user], include_in_schema=False, status_code=200)
async def page_tag_keepers(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    tag: str | None = None,
    q: str | None = None,
    source: str | None = None,
    threshold: float | None = None,
    shown: int | None = None,
) -> Template:
    """The keepers the gallery shows: its tag, search and source filters come along in the query string, and the
    threshold and count it showed."""
    job = await tagging.start_tag_batch(
        caller(request),
        None,
        uow=container.uow,
        queue=container.queue,
        describer=container.vision,
        server_default=container.settings.vision_monthly_limit,
        now=container.clock(),
        only=PhotoFilter.of(source, tag, q),
        as_shown=None if threshold is None or shown is None else TabAsShown(threshold, shown),
    )
    return Template("_job.html", context=job_context(job, container.clock()))


HANDLERS = [api_tag, api_tag_batch, page_tag, page_tag_keepers]
