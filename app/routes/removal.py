"""Removing many photos from Classify as a job: POST /api/v1/photos/remove-batch, and the gallery's "Remove"."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, post
from litestar.response import Template

from app.domain.categories import TabAsShown
from app.domain.model import PhotoFilter
from app.domain.services import removal
from app.routes.deps import ContainerDep, caller
from app.routes.events import job_context
from app.routes.openapi_docs import errors
from app.routes.query_params import parse_category, parse_source
from app.routes.schemas import JobAccepted
from app.routes.security import BEARER, requires_api_user, requires_page_user


class RemoveBatchBody(msgspec.Struct):
    # One of the two: a tab (all, blurred, not_blurred, unprocessed) narrowed as the photo list's parameters of
    # the same names narrow it, or the chosen photos.
    filter: str | None = None
    photo_ids: list[uuid.UUID] | None = None
    tag: str | None = None
    q: str | None = None
    source: str | None = None


@post(
    "/api/v1/photos/remove-batch",
    guards=[requires_api_user],
    security=BEARER,
    tags=["photos"],
    status_code=202,
    summary="Remove a tab's photos (or chosen photos) from Classify, as a job",
    responses=errors(404, 422),
)
async def api_remove_batch(
    request: Request[Any, Any, Any], container: ContainerDep, data: RemoveBatchBody
) -> JobAccepted:
    """The photos the tab holds now, as the filters narrow it, go to Recently removed a batch at a time (follow
    the job at GET /api/v1/blur/jobs/{job_id}; undo it with POST /api/v1/removed/restore {job_id}). Nothing is
    deleted at any source."""
    job = await removal.start_removal(
        caller(request),
        parse_category(data.filter) if data.filter is not None else None,
        uow=container.uow,
        queue=container.queue,
        only=PhotoFilter.of(parse_source(data.source), data.tag, data.q),
        photo_ids=data.photo_ids,
    )
    return JobAccepted(job.id, job.total)


@post("/jobs/remove", guards=[requires_page_user], include_in_schema=False, status_code=200)
async def page_remove(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    filter: str,
    tag: str | None = None,
    q: str | None = None,
    source: str | None = None,
    threshold: float | None = None,
    shown: int | None = None,
) -> Template:
    """The gallery's tab as it shows it: its tag, search and source filters come along in the query string, and
    the threshold and count it showed, so that a tab changed in another window since is not removed unseen."""
    job = await removal.start_removal(
        caller(request),
        parse_category(filter),
        uow=container.uow,
        queue=container.queue,
        only=PhotoFilter.of(source, tag, q),
        as_shown=None if threshold is None or shown is None else TabAsShown(threshold, shown),
    )
    return Template("_job.html", context=job_context(job, container.clock()))


HANDLERS = [api_remove_batch, page_remove]
