"""Recently removed: GET /api/v1/removed and its restore and discard, and the /removed page with the same."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import File, Redirect, Template

from app.domain.errors import InvalidInput, NotFound
from app.domain.model import KEEP_REMOVED_DAYS, RemovedPhoto, User
from app.domain.services import photos, recently_removed
from app.routes.api_photos import SIZES, photo_file
from app.routes.deps import ContainerDep, caller, form_ids, parse_uuid
from app.routes.openapi_docs import errors
from app.routes.query_params import PageLimit, SizeQuery
from app.routes.schemas import PhotoOut
from app.routes.security import BEARER, requires_api_user, requires_page_user
from app.routes.views import photo_out

API = "/api/v1/removed"
PAGE_SIZE = 48
VIEW_KEYS = {"filter", "sort", "tag", "q", "source"}  # a photo page's view (pages.PhotoView)
# The page's forms send a photo_ids field for each ticked photo: one is a string, several a list.
BinForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


class RemovedOut(msgspec.Struct):
    photo: PhotoOut  # as it was in the library; its image addresses are the bin's
    removed_at: dt.datetime
    expires_at: dt.datetime  # when it and its file go for good
    removal_job_id: uuid.UUID | None  # the removal job that took it (None: removed on its own)


class RemovedList(msgspec.Struct):
    items: list[RemovedOut]
    next_cursor: str | None
    total: int
    total_bytes: int
    keep_days: int


class RestoreBody(msgspec.Struct):
    # One of the three: the chosen photos, every photo one removal job took (its undo), or all.
    photo_ids: list[uuid.UUID] | None = None
    job_id: uuid.UUID | None = None
    all: bool = False
    # with all: only the photos removed up to this time (what a page showing the bin saw; later removals stay)
    removed_up_to: dt.datetime | None = None


class NotRestored(msgspec.Struct):
    id: uuid.UUID
    filename: str
    detail: str


class RestoreResult(msgspec.Struct):
    restored: int
    photo_ids: list[uuid.UUID]
    not_restored: list[NotRestored]


class DiscardBody(msgspec.Struct):
    photo_ids: list[uuid.UUID] | None = None
    all: bool = False
    removed_up_to: dt.datetime | None = None  # as RestoreBody's


class DiscardResult(msgspec.Struct):
    discarded: int


def removed_out(removed: RemovedPhoto, threshold: float) -> RemovedOut:
    out = photo_out(removed.photo, threshold)
    image = f"{API}/{removed.photo.id}/image"
    out = msgspec.structs.replace(out, image_url=f"{image}?size=original", thumbnail_url=f"{image}?size=thumb")
    return RemovedOut(out, removed.removed_at, removed.expires_at, removed.removal_job_id)


async def _restore(user: User, container: ContainerDep, body: RestoreBody) -> RestoreResult:
    restored = await recently_removed.restore(
        user,
        uow=container.uow,
        photo_ids=body.photo_ids,
        job_id=body.job_id,
        everything=body.all,
        up_to=body.removed_up_to if body.all else None,
    )
    left = [
        NotRestored(photo.id, photo.filename, why)
        for photo, why in zip(restored.left, recently_removed.left_behind(restored), strict=True)
    ]
    return RestoreResult(len(restored.photos), [photo.id for photo in restored.photos], left)


async def _discard(user: User, container: ContainerDep, body: DiscardBody) -> int:
    if (body.photo_ids is None) == (not body.all):
        raise InvalidInput("Say which photos to delete for good: photo_ids, or all, and only one.")
    up_to = body.removed_up_to if body.all else None
    return await recently_removed.discard(
        user, uow=container.uow, storage=container.storage, photo_ids=body.photo_ids, up_to=up_to
    )


async def _image(user: User, container: ContainerDep, photo_id: str, size: str) -> File:
    if size not in SIZES:
        raise InvalidInput("size must be thumb, medium or original.")
    removed = await recently_removed.get_removed(user.id, parse_uuid(photo_id), uow=container.uow)
    return await photo_file(removed.photo, size, container)


# API ---------------------------------------------------------------------------------------------

API_OPTIONS: dict[str, Any] = {"guards": [requires_api_user], "security": BEARER, "tags": ["recently removed"]}


@get(
    API,
    summary="Photos removed in the last 30 days, the most recently removed first",
    responses=errors(422),
    **API_OPTIONS,
)
async def api_list_removed(
    request: Request[Any, Any, Any], container: ContainerDep, limit: PageLimit = PAGE_SIZE, cursor: str | None = None
) -> RemovedList:
    """Every removal (one photo, chosen photos or a tab) puts the photos here, as they were, with their files,
    for `keep_days` days; then they go for good."""
    user = caller(request)
    page = await recently_removed.list_removed(user, uow=container.uow, limit=limit, cursor=cursor)
    summary = await recently_removed.summary(user, uow=container.uow)
    items = [removed_out(removed, user.blur_threshold) for removed in page.items]
    return RemovedList(items, page.next_cursor, summary.count, summary.bytes, KEEP_REMOVED_DAYS)


@post(f"{API}/restore", summary="Put removed photos back", responses=errors(409, 422), status_code=200, **API_OPTIONS)
async def api_restore(request: Request[Any, Any, Any], container: ContainerDep, data: RestoreBody) -> RestoreResult:
    """Back in the library as they were: scores, tags and your own calls. Ids not in your Recently removed are
    passed over; a photo whose picture is in the library again (imported since) stays, and says so."""
    return await _restore(caller(request), container, data)


@post(f"{API}/discard", summary="Delete removed photos for good", responses=errors(422), status_code=200, **API_OPTIONS)
async def api_discard(request: Request[Any, Any, Any], container: ContainerDep, data: DiscardBody) -> DiscardResult:
    """Their rows and Classify's files go now instead of after 30 days. Nothing is deleted at any source."""
    return DiscardResult(await _discard(caller(request), container, data))


@get(f"{API}/{{photo_id:str}}/image", summary="A removed photo's image", responses=errors(404, 422), **API_OPTIONS)
async def api_removed_image(
    request: Request[Any, Any, Any], container: ContainerDep, photo_id: str, size: SizeQuery = "thumb"
) -> File:
    return await _image(caller(request), container, photo_id, size)


# The page ----------------------------------------------------------------------------------------

PAGE_OPTIONS: dict[str, Any] = {"guards": [requires_page_user], "include_in_schema": False}


@get("/removed", **PAGE_OPTIONS)
async def removed_page(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    cursor: str | None = None,
    restored: int | None = None,
    discarded: int | None = None,
    left: int | None = None,
    untouched: str | None = None,
) -> Template:
    user = caller(request)
    page = await recently_removed.list_removed(user, uow=container.uow, limit=PAGE_SIZE, cursor=cursor)
    summary = await recently_removed.summary(user, uow=container.uow)
    context = {
        "user": user,
        "active": "removed",
        "items": page.items,
        "next_cursor": page.next_cursor,
        "paged": cursor is not None,
        "summary": summary,
        "now": container.clock(),
        "restored": restored,
        "discarded": discarded,
        "left": left,
        "untouched": untouched if untouched in ("put back", "delete") else None,
    }
    return Template("removed.html", context=context)


@post("/removed/restore", status_code=303, **PAGE_OPTIONS)
async def page_restore(request: Request[Any, Any, Any], container: ContainerDep, data: BinForm) -> Redirect:
    """From the bin's page (ticked photos, or all), a removal job's Undo, or a photo page's Undo."""
    everything, job = data.get("all") == "1", data.get("job_id")
    if not everything and not job and not data.get("photo_ids"):
        return Redirect("/removed?untouched=put+back", status_code=303)  # the bin's button, nothing ticked
    body = RestoreBody(
        photo_ids=None if everything or job else form_ids(data.get("photo_ids")),
        job_id=form_ids(job)[0] if job else None,
        all=everything,
        removed_up_to=_up_to(data),
    )
    result = await _restore(caller(request), container, body)
    back, view = str(data.get("back") or ""), _view_query(str(data.get("view") or ""))
    in_view = f"{view}&" if view else ""
    # a photo page's Undo: back to that photo, in the tab it was in; also when it was put back already (an Undo
    # pressed again on a page that Back showed), rather than off to the bin to hear that nothing was
    if back == "photo" and (shown := result.photo_ids[:1] or await _back_already(request, container, body)):
        return Redirect(f"/photos/{shown[0]}?{in_view}restored=1", status_code=303)
    said = urlencode(
        {"restored": result.restored, **({"left": len(result.not_restored)} if result.not_restored else {})}
    )
    if back == "gallery":  # a removal job's Undo: back to the tab, order and filters it was pressed on
        return Redirect(f"/photos?{in_view}{said}", status_code=303)
    if back == "similar":  # the Undo of a keep on the Similar shots page
        return Redirect(f"/similar?{said}", status_code=303)
    return Redirect(f"/removed?{said}", status_code=303)


async def _back_already(request: Request[Any, Any, Any], container: ContainerDep, body: RestoreBody) -> list[uuid.UUID]:
    """The photo an Undo names, when it is in the library already."""
    asked = (body.photo_ids or [])[:1]
    try:
        return [(await photos.get_photo(caller(request).id, asked[0], uow=container.uow)).id] if asked else []
    except NotFound:
        return []


@post("/removed/discard", status_code=303, **PAGE_OPTIONS)
async def page_discard(request: Request[Any, Any, Any], container: ContainerDep, data: BinForm) -> Redirect:
    everything = data.get("all") == "1"
    if not everything and not data.get("photo_ids"):
        return Redirect("/removed?untouched=delete", status_code=303)
    body = DiscardBody(
        photo_ids=None if everything else form_ids(data.get("photo_ids")),
        all=everything,
        removed_up_to=_up_to(data),
    )
    gone = await _discard(caller(request), container, body)
    return Redirect(f"/removed?{urlencode({'discarded': gone})}", status_code=303)


def _up_to(data: BinForm) -> dt.datetime | None:
    """The bin's "all" as the page showed it: photos another window removed since are not in it."""
    shown = str(data.get("removed_up_to") or "")
    try:
        return dt.datetime.fromisoformat(shown) if shown else None
    except ValueError:
        raise InvalidInput("This page is out of date; reload it and try again. Nothing was changed.") from None


def _view_query(view: str) -> str:
    """The tab, order and filters a photo page was opened with, and nothing else (it goes into a Location)."""
    return urlencode([(key, value) for key, value in parse_qsl(view) if key in VIEW_KEYS])


@get("/removed/{photo_id:str}/image", **PAGE_OPTIONS)
async def removed_image(
    request: Request[Any, Any, Any], container: ContainerDep, photo_id: str, size: str = "thumb"
) -> File:
    return await _image(caller(request), container, photo_id, size)


HANDLERS = [
    api_list_removed,
    api_restore,
    api_discard,
    api_removed_image,
    removed_page,
    page_restore,
    page_discard,
    removed_image,
]
