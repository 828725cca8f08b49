"""Pick from Google Photos and save keepers as an album: the JSON API and the htmx pages."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, delete, get, post
from litestar.response import Redirect, Template

from app.domain.categories import TabAsShown
from app.domain.errors import Conflict, NotFound
from app.domain.google import APPEND_SCOPE, SessionGone
from app.domain.services import google_account, google_photos, jobs
from app.routes.deps import ContainerDep, caller
from app.routes.events import job_context
from app.routes.openapi_docs import errors
from app.routes.schemas import JobAccepted, SimilarChoice
from app.routes.security import BEARER, requires_api_user, requires_page_user

EXPIRED = "The selection expired; pick your photos again."


class PickerSessionOut(msgspec.Struct):
    session_id: str
    picker_uri: str
    poll_interval_seconds: float


class PickerStateOut(msgspec.Struct):
    media_items_set: bool
    job_id: str | None = None


class AlbumBody(msgspec.Struct):
    title: str | None = None
    similar: SimilarChoice = "all"  # "sharpest": only the sharpest keeper of each group of similar shots


def _google_ready(container: ContainerDep) -> None:
    if not container.google.configured:
        raise NotFound("Google is not set up on this server (GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET).")


async def _reconnect_guard(call: Any) -> Any:
    try:
        return await call
    except google_account.NeedsReconnect:
        raise Conflict("Google needs you to reconnect the account (Settings → Reconnect Google).") from None
    except SessionGone:
        raise Conflict(EXPIRED) from None


# JSON API ----------------------------------------------------------------------------------------

# Every Google call: signed in by token; 404 when Google is not set up here, 409 when the account must be
# (re)connected first, 429 and 502 when Google refuses or fails.
GOOGLE_API: dict[str, Any] = {
    "guards": [requires_api_user],
    "security": BEARER,
    "tags": ["google"],
    "responses": errors(404, 409, 429, 502),
}


@post("/api/v1/google/picker/sessions", status_code=201, summary="Start choosing photos in Google Photos", **GOOGLE_API)
async def api_start_picking(request: Request[Any, Any, Any], container: ContainerDep) -> PickerSessionOut:
    _google_ready(container)
    record = await _reconnect_guard(
        google_photos.start_picking(caller(request), google=container.google, uow=container.uow, now=container.clock())
    )
    return PickerSessionOut(record.session_id, record.picker_uri, record.poll_interval)


@get(
    "/api/v1/google/picker/sessions/{session_id:str}",
    summary="Whether the photos are chosen, and the import job once they are",
    **GOOGLE_API,
)
async def api_check_picking(
    request: Request[Any, Any, Any], container: ContainerDep, session_id: str
) -> PickerStateOut:
    record, done = await _reconnect_guard(
        google_photos.check_picking(
            caller(request),
            session_id,
            google=container.google,
            uow=container.uow,
            queue=container.queue,
            now=container.clock(),
        )
    )
    return PickerStateOut(done, str(record.job_id) if record.job_id else None)


@delete(
    "/api/v1/google/picker/sessions/{session_id:str}",
    status_code=204,
    summary="Stop waiting for a selection in Google Photos (once chosen, the import is a job: cancel that)",
    **GOOGLE_API,
)
async def api_cancel_picking(request: Request[Any, Any, Any], container: ContainerDep, session_id: str) -> None:
    await google_photos.cancel_picking(
        caller(request), session_id, google=container.google, uow=container.uow, now=container.clock()
    )


@post(
    "/api/v1/albums/google", status_code=202, summary="Save the sharp photos as a new Google Photos album", **GOOGLE_API
)
async def api_start_album(
    request: Request[Any, Any, Any], container: ContainerDep, data: AlbumBody | None = None
) -> JobAccepted:
    _google_ready(container)
    body = data or AlbumBody()
    job = await google_photos.start_album(
        caller(request),
        body.title,
        uow=container.uow,
        queue=container.queue,
        now=container.clock(),
        similar=body.similar,
    )
    return JobAccepted(job.id, job.total)


# Pages -------------------------------------------------------------------------------------------


@post("/google/pick", guards=[requires_page_user], include_in_schema=False, status_code=200)
async def pick(request: Request[Any, Any, Any], container: ContainerDep) -> Template:
    _google_ready(container)
    record = await _reconnect_guard(
        google_photos.start_picking(caller(request), google=container.google, uow=container.uow, now=container.clock())
    )
    return Template("_picking.html", context={"picking": record})


@get("/google/pick/{session_id:str}", guards=[requires_page_user], include_in_schema=False)
async def picking_state(request: Request[Any, Any, Any], container: ContainerDep, session_id: str) -> Template:
    record, done = await _reconnect_guard(
        google_photos.check_picking(
            caller(request),
            session_id,
            google=container.google,
            uow=container.uow,
            queue=container.queue,
            now=container.clock(),
        )
    )
    if not done:
        return Template("_picking.html", context={"picking": record})
    assert record.job_id is not None
    job = await jobs.get_job(caller(request).id, record.job_id, uow=container.uow)
    return Template("_job.html", context=job_context(job, container.clock()))


@post("/google/pick/{session_id:str}/cancel", guards=[requires_page_user], include_in_schema=False, status_code=200)
async def cancel_pick(request: Request[Any, Any, Any], container: ContainerDep, session_id: str) -> Template:
    user = caller(request)
    try:
        await google_photos.cancel_picking(
            user, session_id, google=container.google, uow=container.uow, now=container.clock()
        )
    except google_photos.AlreadyPicked as picked:  # Done was pressed first: show the import, which has a Cancel
        job = await jobs.get_job(user.id, picked.job_id, uow=container.uow)
        return Template("_job.html", context=job_context(job, container.clock()))
    return Template("_picking_cancelled.html")


@get("/google/album", guards=[requires_page_user], include_in_schema=False)
async def album_page(request: Request[Any, Any, Any], container: ContainerDep) -> Template | Redirect:
    user = caller(request)
    _google_ready(container)
    state = await google_account.connection_state(user.id, uow=container.uow)
    if APPEND_SCOPE not in state["scope"].split() or not state["connected"]:
        return Template("album.html", context={"user": user, "needs_consent": True, "count": 0, "title": ""})
    count, sharpest = await google_photos.keeper_counts(user, uow=container.uow)
    title = f"Keepers {container.clock().date().isoformat()}"
    context = {"user": user, "needs_consent": False, "count": count, "sharpest": sharpest, "title": title}
    return Template("album.html", context=context)


@post("/google/album", guards=[requires_page_user], include_in_schema=False, status_code=200)
async def create_album(request: Request[Any, Any, Any], container: ContainerDep) -> Template:
    form = await request.form()
    similar = "sharpest" if form.get("similar") == "sharpest" else "all"  # an unticked box is not sent at all
    job = await google_photos.start_album(
        caller(request),
        str(form.get("title") or ""),
        uow=container.uow,
        queue=container.queue,
        now=container.clock(),
        similar=similar,
        as_shown=_as_shown(form, "shown_sharpest" if similar == "sharpest" else "shown"),
    )
    return Template("_job.html", context=job_context(job, container.clock()))


def _as_shown(form: Any, count_field: str) -> TabAsShown | None:
    """The threshold and count the album page showed (a page from before this asked for neither)."""
    try:
        return TabAsShown(float(form["threshold"]), int(form[count_field]))
    except (KeyError, ValueError):
        return None


HANDLERS = [
    api_start_picking,
    api_check_picking,
    api_cancel_picking,
    api_start_album,
    pick,
    picking_state,
    cancel_pick,
    album_page,
    create_album,
]
