"""The htmx UI: gallery by category, threshold slider, photo page, upload, statistics, jobs, export."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import File, Redirect, Response, Stream, Template

from app.domain.categories import Category, Order
from app.domain.errors import Conflict, InvalidInput, NotFound, PayloadRejected, TooManyAttempts
from app.domain.links import link_source
from app.domain.model import NO_FILTER, SOURCE_NAMES, Job, Photo, PhotoFilter, PhotoSource, User
from app.domain.services import (
    accounts,
    google_account,
    imports,
    jobs,
    link_imports,
    photos,
    recently_removed,
    similar,
    tagging,
)
from app.domain.units import threshold_text
from app.jobs.link_tasks import link_context
from app.logs import log
from app.routes.api_photos import image_response, store_uploads, upload_status, uploaded_files
from app.routes.deps import ContainerDep, caller, parse_before, parse_uuid, password_checks, server_features
from app.routes.downloads import ExportQuery, export_list_response, export_response
from app.routes.errors import status_of
from app.routes.events import job_context
from app.routes.health import workers_missing
from app.routes.nul_guard import TAKES_FILES
from app.routes.pages_auth import FORGET_PAGES, google_signed_in_at, mark_password_given, sign_in
from app.routes.query_params import parse_category, parse_order
from app.routes.security import LoginRequired, TokenInHeaderOnly, requires_page_user
from app.routes.views import page_state

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
PAGE_SIZE = 48
MAX_PAGE = photos.MAX_PAGE  # photos a reload of the grid may show at once
JOBS_PAGE = 20
JOB_ERRORS_SHOWN = 50  # of a job's failed or skipped items on the Jobs page; the API lists them all
GUARD = [requires_page_user]


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return bool(request.headers.get("hx-request"))


SOURCES = {source.value: name for source, name in SOURCE_NAMES.items()}


def _filters(only: PhotoFilter) -> str:
    """The gallery's filters as a query string, so tabs, paging and refreshes keep them."""
    return urlencode({k: v for k, v in (("tag", only.tag), ("q", only.query), ("source", only.source)) if v})


def _tab(value: str) -> Category:
    """The gallery tab a photo was opened from; an unknown one is All (a stale link still shows the photo)."""
    return Category(value) if value in {c.value for c in Category} else Category.ALL


def _order(value: str) -> Order:
    """The order a photo was opened in; an unknown one is the gallery's default, as with `_tab`."""
    return Order(value) if value in {o.value for o in Order} else Order.NEWEST


def _page_view(filter: str, sort: str) -> tuple[Category, Order]:
    """The gallery's own tab and order, as the API reads them; one that is not there (an edited link) is said in
    the page's words, not the parameters'."""
    try:
        category = parse_category(filter)
    except InvalidInput:
        raise InvalidInput("There is no such tab: the tabs are All, Blurred, Not blurred and Unprocessed.") from None
    try:
        return category, parse_order(sort)
    except InvalidInput:
        raise InvalidInput("There is no such order: photos are shown newest, blurriest or sharpest first.") from None


@dataclass(frozen=True)
class PhotoView:
    """Where a photo page was opened from: the gallery's tab, order and filters. Previous and Next walk that
    list, and the page's links and forms carry it on."""

    category: Category
    order: Order
    only: PhotoFilter

    @property
    def query(self) -> str:
        tab = {"filter": self.category.value, **({"sort": self.order.value} if self.order is not Order.NEWEST else {})}
        return "&".join(part for part in (urlencode(tab), _filters(self.only)) if part)


def provide_photo_view(
    filter: str = "all", sort: str = "", tag: str | None = None, q: str | None = None, source: str | None = None
) -> PhotoView:
    """Lenient, unlike the gallery: a stale link with an unknown tab or order still shows the photo."""
    return PhotoView(_tab(filter), _order(sort), _cleaned(tag, q, source))


PHOTO_VIEW = {"view": Provide(provide_photo_view, sync_to_thread=False)}
PhotoViewDep = NamedDependency[PhotoView]


async def _in_the_bin(user: User, photo_id: uuid.UUID, view: PhotoView, container: ContainerDep) -> Template:
    """A removed photo's page (Back after its removal, an old link): where it is, with its Put back. Still a 404:
    it is not in the library."""
    try:
        removed = await recently_removed.get_removed(user.id, photo_id, uow=container.uow)
    except NotFound:  # not in the bin either; the page was a photo's, not the bin's
        raise NotFound("This photo is not in Classify: it was deleted for good, or the link is wrong.") from None
    context = {"user": user, "removed": removed, "view": view.query, "now": container.clock()}
    return Template("photo_removed.html", context=context, status_code=404)


async def _removal_note(
    user: User, removed: str | None, removed_id: str | None, container: ContainerDep
) -> tuple[str | None, str | None]:
    """The note of a removal made just before, while its photo waits in Recently removed. Once it is put back
    (or deleted for good), the page says nothing of it, and offers no Undo: Back showed the note again."""
    if not removed_id:
        return removed, None
    try:
        await recently_removed.get_removed(user.id, uuid.UUID(removed_id), uow=container.uow)
    except (ValueError, NotFound):
        return None, None
    return removed, removed_id


def _offered_sources(container: ContainerDep, chosen: str | None) -> dict[str, str]:
    """The sources this server can bring photos from (and the one chosen, should a link still name it)."""
    features = server_features(container)
    offered = {
        PhotoSource.UPLOAD.value: True,
        PhotoSource.FOLDER.value: features["folder_import"],
        PhotoSource.GOOGLE_PHOTOS.value: features["google"],
        PhotoSource.GOOGLE_DRIVE.value: features["drive"],
        PhotoSource.DROPBOX.value: features["dropbox"],
    }
    return {value: label for value, label in SOURCES.items() if offered[value] or value == chosen}


def _cleaned(tag: str | None, q: str | None, source: str | None) -> PhotoFilter:
    """The gallery's filters; an unknown source (a stale link) is ignored rather than matching nothing."""
    return PhotoFilter.of(source if source in SOURCES else None, tag, q)


async def _gallery_context(
    user: User,
    container: ContainerDep,
    category: Category,
    cursor: str | None,
    tag: str | None = None,
    q: str | None = None,
    source: str | None = None,
    order: Order = Order.NEWEST,
    limit: int = PAGE_SIZE,
) -> dict:
    only = _cleaned(tag, q, source)
    page, counts = await photos.list_photos(
        user, category, uow=container.uow, limit=limit, cursor=cursor, only=only, order=order
    )
    # an empty tab says where removed photos went (the tab's own advice would suggest moving the threshold)
    empty = not page.items and cursor is None
    removed = (await recently_removed.summary(user, uow=container.uow)).count if empty else 0
    return {
        "removed_count": removed,
        # photos waiting for a score that nothing will give them: the cards would wait without a word
        "no_worker": await workers_missing(container) if counts.unprocessed else None,
        "order": order,
        "orders": list(Order),
        "sort_param": f"&sort={order.value}" if order is not Order.NEWEST else "",
        "view": PhotoView(category, order, only).query,  # the tab as a photo page carries it (an Undo's way back)
        "tag": only.tag,
        "q": only.query,
        "source": only.source,
        "sources": _offered_sources(container, only.source),
        "filters": _filters(only),
        "user": user,
        "photos": page.items,
        "next_cursor": page.next_cursor,
        "counts": counts,
        "category": category,
        "categories": list(Category),
        "threshold": user.blur_threshold,
        "active": category.value,
        "page_state": page_state(user.blur_threshold, *counts.as_dict().values()),
    }


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any], container: ContainerDep) -> Template | Redirect:
    async with container.uow() as tx:
        if not await tx.users.count():
            return Redirect("/setup")
    if not isinstance(request.scope.get("user"), User):
        raise LoginRequired()
    if request.url.query:  # "/?tag=sea": the gallery's own address, which reads its filters
        return Redirect(f"/photos?{request.url.query}")
    return Template("gallery.html", context=await _gallery_context(caller(request), container, Category.ALL, None))


@get("/photos", guards=GUARD, include_in_schema=False)
async def gallery(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    filter: str = "all",
    cursor: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    source: str | None = None,
    sort: str = "newest",
    removed: str | None = None,
    removed_id: str | None = None,
    restored: int | None = None,
    left: int | None = None,
    took: bool = False,
    shown: int = 0,
) -> Template:
    """A tab of photos; `removed` names the photo whose page went last (it was the tab's last photo), with
    `removed_id` for its Undo; `restored` says how many photos a removal's Undo put back (`left`: stayed)."""
    category, order = _page_view(filter, sort)
    # a reload of the grid (a photo scored, the threshold moved) shows as many photos as were shown, up to a
    # page's most: the ticks and the focus of those past the first page stayed behind
    limit = min(max(shown, PAGE_SIZE), MAX_PAGE) if cursor is None else PAGE_SIZE
    context = await _gallery_context(caller(request), container, category, cursor, tag, q, source, order, limit)
    removed, removed_id = await _removal_note(caller(request), removed, removed_id, container)
    context.update(removed=removed, removed_id=removed_id, restored=restored, left=left, took_suggestion=took)
    if _is_htmx(request) and cursor:
        return Template("_grid_items.html", context=context)
    if _is_htmx(request) and request.headers.get("hx-target") == "gallery":
        return Template("_gallery_body.html", context=context)
    return Template("gallery.html", context=context)


@get("/photos/counts", guards=GUARD, include_in_schema=False)
async def counts(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    filter: str = "all",
    was: int | None = None,
    tag: str | None = None,
    q: str | None = None,
    source: str | None = None,
) -> Template:
    user = caller(request)
    only = _cleaned(tag, q, source)
    async with container.uow() as tx:
        totals = await tx.photos.counts(user.id, user.blur_threshold, only)
    context = {
        "counts": totals,
        "categories": list(Category),
        "category": parse_category(filter),
        "filters": _filters(only),
    }
    # Photos were scored since the last poll: the gallery listens for this and re-sorts its grid.
    headers = {"HX-Trigger": "photos-scored"} if was is not None and was != totals.unprocessed else {}
    return Template("_tabs.html", context=context, headers=headers)


@get("/threshold/preview", guards=GUARD, include_in_schema=False)
async def threshold_preview(request: Request[Any, Any, Any], container: ContainerDep, threshold: float) -> Template:
    would_be = await photos.preview_counts(caller(request), threshold, uow=container.uow)
    return Template("_threshold_preview.html", context={"preview": would_be, "threshold": threshold})


@get("/threshold/suggestion", guards=GUARD, include_in_schema=False)
async def threshold_suggestion(
    request: Request[Any, Any, Any], container: ContainerDep, filter: str = "all"
) -> Template:
    user = caller(request)
    suggestion = await photos.threshold_suggestion(user, uow=container.uow)
    context = {"suggestion": suggestion, "threshold": user.blur_threshold, "category": _tab(filter)}
    return Template("_threshold_suggestion.html", context=context)


@post("/threshold/suggested", guards=GUARD, include_in_schema=False, status_code=303)
async def use_suggested_threshold(
    request: Request[Any, Any, Any], container: ContainerDep, data: Form, filter: str = "all"
) -> Redirect:
    """Take the threshold the button offered ("Use 0.24"): the marks may point elsewhere by now (another window
    marked more), and what was pressed is what was shown. A page without it takes the suggestion as it is now."""
    try:
        shown = float(data["threshold"]) if data.get("threshold") else None
    except ValueError:
        raise InvalidInput("The threshold must be a number.") from None
    if shown is None:
        await photos.use_suggested_threshold(caller(request), uow=container.uow)
    else:
        await photos.set_threshold(caller(request), shown, uow=container.uow)
    return Redirect(f"/photos?filter={_tab(filter).value}&took=1", status_code=303)


@post("/threshold", guards=GUARD, include_in_schema=False, status_code=200)
async def save_threshold(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Response[str]:
    try:
        value = float(data.get("threshold", ""))
    except ValueError:
        return Response('<p class="error" role="alert">The threshold must be a number.</p>', status_code=422)
    saved = await photos.set_threshold(caller(request), value, uow=container.uow)
    # The gallery listens for this event and re-sorts itself; nothing is re-scored.
    return Response(
        f"Saved: {threshold_text(saved)}", headers={"HX-Trigger": "threshold-changed"}, media_type="text/html"
    )


@get("/photos/{photo_id:str}", guards=GUARD, include_in_schema=False, dependencies=PHOTO_VIEW)
async def photo_page(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    photo_id: str,
    view: PhotoViewDep,
    waiting: bool = False,
    marked: bool = False,
    removed: str | None = None,
    removed_id: str | None = None,
    last: bool = False,
    restored: bool = False,
) -> Template | Response[None]:
    """One photo, with the previous and next one of the tab it was opened from, in its order and with its
    filters (← and → on the keyboard). `marked`, `removed` (with `removed_id`, for its Undo) and `restored`
    say what the last action on the page did (`last`: the photo removed was the last of the tab, so this is
    the one before it);
    `waiting` is the page's own poll for a score: no answer to swap in (204) until the score is there, so the
    page is not replaced under the keyboard's focus every two seconds."""
    user, asked = caller(request), parse_uuid(photo_id)
    try:
        photo = await photos.get_photo(user.id, asked, uow=container.uow)
    except NotFound:
        if waiting:
            raise
        return await _in_the_bin(user, asked, view, container)
    if waiting and photo.blur_score is None and photo.error is None:
        return Response(None, status_code=204)
    previous, following = await _neighbours(user, photo, view, container)
    removed, removed_id = await _removal_note(user, removed, removed_id, container)
    context = {
        "marked": marked,
        "scored_now": waiting,  # the poll's answer: said in a live region, as the verdict takes the place of "Waiting"
        "removed": removed,
        "removed_id": removed_id,
        "removed_last": last,
        "restored": restored,
        "view": view.query,
        "filtered": view.only != NO_FILTER,
        "user": user,
        "photo": photo,
        "similar": await similar.group_of(user, photo, uow=container.uow),
        "threshold": user.blur_threshold,
        "category": view.category,
        "previous_id": previous,
        "next_id": following,
        "place": await photos.place(user, photo, view.category, uow=container.uow, order=view.order, only=view.only),
        "page_state": page_state(
            user.blur_threshold, photo.blur_score, photo.marked_as, photo.error, photo.caption, removed, *photo.tags
        ),
    }
    return Template("photo.html", context=context)


@get("/photos/{photo_id:str}/image", guards=GUARD, include_in_schema=False)
async def photo_image(
    request: Request[Any, Any, Any], container: ContainerDep, photo_id: str, size: str = "medium"
) -> File:
    return await image_response(caller(request), container, photo_id, size)


async def _neighbours(user: User, photo: Photo, view: PhotoView, container: ContainerDep) -> tuple[Any, Any]:
    return await photos.neighbours(user, photo, view.category, uow=container.uow, order=view.order, only=view.only)


@post("/photos/{photo_id:str}/delete", guards=GUARD, include_in_schema=False, status_code=303, dependencies=PHOTO_VIEW)
async def delete_photo(
    request: Request[Any, Any, Any], container: ContainerDep, photo_id: str, view: PhotoViewDep
) -> Redirect:
    """Remove the photo, then show the next one of the same list (going through a tab is how people clean up)."""
    user = caller(request)
    photo = await photos.get_photo(user.id, parse_uuid(photo_id), uow=container.uow)
    previous, following = await _neighbours(user, photo, view, container)
    await photos.delete_photo(user.id, photo.id, uow=container.uow, clock=container.clock)
    shown = following or previous
    said = {"removed": photo.filename, "removed_id": str(photo.id)}
    said = urlencode({**said, **({"last": 1} if following is None and previous else {})})
    where = f"/photos/{shown}" if shown else "/photos"  # the tab itself, when that was its last photo
    return Redirect(f"{where}?{view.query}&{said}", status_code=303)


@post("/photos/{photo_id:str}/mark", guards=GUARD, include_in_schema=False, status_code=303, dependencies=PHOTO_VIEW)
async def mark_photo(
    request: Request[Any, Any, Any], container: ContainerDep, photo_id: str, data: Form, view: PhotoViewDep
) -> Redirect:
    """The person's own call (S, B and U on the photo page); the photo stays on screen with its new verdict."""
    mark = data.get("marked_as", "").strip() or None
    photo = await photos.mark_photo(caller(request).id, parse_uuid(photo_id), mark, uow=container.uow)
    return Redirect(f"/photos/{photo.id}?{view.query}&marked=true", status_code=303)


@post("/photos/{photo_id:str}/analyze", guards=GUARD, include_in_schema=False, status_code=200)
async def analyze_photo(request: Request[Any, Any, Any], container: ContainerDep, photo_id: str) -> Template:
    user = caller(request)
    job = await jobs.start_score_batch(user.id, [parse_uuid(photo_id)], uow=container.uow, queue=container.queue)
    return Template("_job.html", context=job_context(job, container.clock()))


# no app-wide body limit: the upload stream counts a batch's bytes itself (upload_stream.upload_limit)
@post(
    "/upload",
    guards=GUARD,
    include_in_schema=False,
    request_max_body_size=None,
    middleware=[TokenInHeaderOnly],
    opt={TAKES_FILES: True},
)
async def upload(request: Request[Any, Any, Any], container: ContainerDep) -> Response[Any]:
    """One request a file from the uploader script, so each file gets its own progress and answer."""
    files = await uploaded_files(request, container)
    result = await store_uploads(files, caller(request), container)
    return Response(result, status_code=upload_status(result))


@post("/jobs/score", guards=GUARD, include_in_schema=False, status_code=200)
async def start_scoring(request: Request[Any, Any, Any], container: ContainerDep) -> Template:
    job = await jobs.start_score_batch(caller(request).id, None, uow=container.uow, queue=container.queue)
    return Template("_job.html", context=job_context(job, container.clock()))


@post("/jobs/import-folder", guards=GUARD, include_in_schema=False, status_code=200)
async def import_folder(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Template:
    job = await imports.start_folder_import(
        caller(request).id,
        data.get("path", "").strip() or ".",
        folders=container.folders,
        uow=container.uow,
        queue=container.queue,
    )
    return _started(request, job, container)


def _started(request: Request[Any, Any, Any], job: Job, container: ContainerDep) -> Template:
    """A job started from a page's form: its card, and on the Jobs page the start of what counts as new there."""
    on_jobs_page = urlsplit(request.headers.get("hx-current-url", "")).path == "/jobs"
    return Template("_job_started.html", context={**job_context(job, container.clock()), "on_jobs_page": on_jobs_page})


@post("/jobs/import-link", guards=GUARD, include_in_schema=False, status_code=200)
async def import_link(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Template:
    """Whatever link was pasted: the host says whether it is Google Drive or Dropbox."""
    url = data.get("url", "").strip()
    job = await link_imports.start_link_import(
        caller(request), link_source(url), url, link_context(container), recursive=data.get("recursive") == "on"
    )
    return _started(request, job, container)


@get("/jobs/{job_id:str}", guards=GUARD, include_in_schema=False)
async def job_progress(request: Request[Any, Any, Any], container: ContainerDep, job_id: str) -> Template:
    user = caller(request)
    job = await jobs.get_job(user.id, parse_uuid(job_id, "job"), uow=container.uow)
    if not _is_htmx(request):  # a link to one job, opened in the browser: the Jobs page with that job alone
        return await _jobs_template(user, [job], container, older=None, paged=True)
    # A job that has just ended changed what the gallery shows (imported or scored photos): it reloads its grid.
    headers = {"HX-Trigger": "photos-scored"} if job.status.finished else {}
    return Template("_job.html", context=await _card_context(user, job, container), headers=headers)


@post("/jobs/{job_id:str}/cancel", guards=GUARD, include_in_schema=False, status_code=200)
async def cancel_job(request: Request[Any, Any, Any], container: ContainerDep, job_id: str) -> Template:
    user = caller(request)
    job = await jobs.cancel_job(user.id, parse_uuid(job_id, "job"), uow=container.uow, now=container.clock())
    return Template("_job.html", context=await _card_context(user, job, container))


async def _card_context(user: User, job: Job, container: ContainerDep) -> dict[str, Any]:
    """A job's card, with what failed or was skipped once the job has ended."""
    context = job_context(job, container.clock())
    if job.status.finished:
        context["failures"] = await jobs.first_job_errors(user.id, job.id, JOB_ERRORS_SHOWN, uow=container.uow)
        context["undoable"] = job.id in await recently_removed.undoable(user, [job], uow=container.uow)
    return context


@post("/jobs/{job_id:str}/retry", guards=GUARD, include_in_schema=False, status_code=200)
async def retry_job(request: Request[Any, Any, Any], container: ContainerDep, job_id: str) -> Template:
    job = await jobs.retry_failed(
        caller(request).id, parse_uuid(job_id, "job"), uow=container.uow, queue=container.queue
    )
    return Template("_job.html", context=job_context(job, container.clock()))


@get("/jobs", guards=GUARD, include_in_schema=False)
async def jobs_page(request: Request[Any, Any, Any], container: ContainerDep, before: str | None = None) -> Template:
    """JOBS_PAGE jobs, newest first, then "Older jobs" from the last one shown."""
    user = caller(request)
    try:
        after = parse_before(before)
    except InvalidInput:
        raise InvalidInput("This link to older jobs is not valid; start again from the newest jobs.") from None
    recent = await jobs.recent_jobs(user.id, uow=container.uow, limit=JOBS_PAGE + 1, before=after)
    shown = recent[:JOBS_PAGE]
    older = shown[-1].id if len(recent) > JOBS_PAGE else None
    return await _jobs_template(user, shown, container, older=older, paged=before is not None)


@get("/jobs/new", guards=GUARD, include_in_schema=False)
async def jobs_started_since(
    request: Request[Any, Any, Any], container: ContainerDep, since: str = "", told: int = 0
) -> Template | Response[None]:
    """The Jobs page's question every few seconds: how many jobs started since its newest (`since`; none shown:
    empty), in this window or another, by the API or a Picker session. Nothing new to say (`told`): 204."""
    user = caller(request)
    recent = await jobs.recent_jobs(user.id, uow=container.uow, limit=JOBS_PAGE)
    newer = len(list(itertools.takewhile(lambda job: str(job.id) != since, recent)))
    if newer == told:
        return Response(None, status_code=204)
    return Template("_jobs_new.html", context={"since": since, "newer": newer, "more": newer == JOBS_PAGE})


async def _jobs_template(user: User, shown: list[Job], container: ContainerDep, **context: Any) -> Template:
    errors = {
        job.id: await jobs.first_job_errors(user.id, job.id, JOB_ERRORS_SHOWN, uow=container.uow)
        for job in shown
        if job.status.finished
    }
    now = container.clock()
    undoable = await recently_removed.undoable(user, shown, uow=container.uow)
    # each card's time left, or why it waits; a removal's Undo while its photos are in the bin
    states = {job.id: {**job_context(job, now), "undoable": job.id in undoable} for job in shown}
    unfinished = any(not job.status.finished for job in shown)
    no_worker = await workers_missing(container) if unfinished else None
    if no_worker:  # no time left to tell while nothing takes the tasks
        states = {job_id: {**state, "eta": None} for job_id, state in states.items()}
    context.update(user=user, jobs=shown, errors=errors, states=states, active="jobs", no_worker=no_worker)
    return Template("jobs.html", context=context)


@get("/settings", guards=GUARD, include_in_schema=False)
async def settings_page(
    request: Request[Any, Any, Any], container: ContainerDep, password: str = "", signed_out: int | None = None
) -> Template:
    changed = {"password_changed": password == "changed", "password_added": password == "added"}
    return await _settings(request, container, signed_out=signed_out, **changed)


async def _settings(
    request: Request[Any, Any, Any], container: ContainerDep, status_code: int = 200, **extra: Any
) -> Template:
    user = caller(request)
    google = await google_account.connection_state(user.id, uow=container.uow)
    allowance = await tagging.budget(
        user, uow=container.uow, server_default=container.settings.vision_monthly_limit, now=container.clock()
    )
    async with container.uow() as tx:
        albums = await tx.albums.recent(user.id)
        api_sign_ins = await tx.api_sessions.count_live(user.id, container.clock())
    context = {
        "user": user,
        "api_sign_ins": api_sign_ins,
        "google": google,
        "albums": albums,
        "active": "settings",
        "ai": allowance,
        "may_add_password": accounts.may_add_password(google_signed_in_at(request), container.clock()),
        "signed_out": None,  # how many sign-ins "Sign out everywhere else" just ended; said only then
        **extra,
    }
    return Template("settings.html", context=context, status_code=status_code)


@post("/settings/password", guards=GUARD, include_in_schema=False, status_code=303)
async def change_password(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Template | Redirect:
    field = "new_password_again"  # which field the refusal is about, as each check passes
    try:
        current, new = data.get("current_password", ""), _new_password(data)
        field = "new_password"
        accounts.check_new_password(new)
        if new == current:
            raise InvalidInput("The new password is the same as the current one.")
        field = "current_password"
        user = await accounts.change_password(caller(request), current, new, **password_checks(request, container))
    except (InvalidInput, Conflict, TooManyAttempts) as exc:
        field = None if isinstance(exc, Conflict) else field  # no field is at fault: the account has no password
        return await _settings(
            request, container, status_code=status_of(exc), password_error=exc.detail, password_field=field
        )
    sign_in(request, user)  # this browser goes on, stamped with the new password; the others end
    mark_password_given(request, container.clock())
    return Redirect("/settings?password=changed", status_code=303)


def _new_password(data: dict[str, str]) -> str:
    """The new password of a form that asks for it twice."""
    if data.get("new_password", "") != data.get("new_password_again", ""):
        raise InvalidInput("The two new passwords are not the same.")
    return data.get("new_password", "")


@post("/settings/add-password", guards=GUARD, include_in_schema=False, status_code=303)
async def add_password(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Template | Redirect:
    field = "new_password_again"
    try:
        new = _new_password(data)
        field = "new_password"
        user = await accounts.add_password(
            caller(request),
            new,
            uow=container.uow,
            passwords=container.passwords,
            google_signed_in_at=google_signed_in_at(request),
            now=container.clock(),
        )
    except (InvalidInput, Conflict, PayloadRejected) as exc:
        field = field if isinstance(exc, InvalidInput) else None  # a state to change, not a field to correct
        return await _settings(
            request, container, status_code=status_of(exc), password_error=exc.detail, password_field=field
        )
    log.info("password added", user_id=str(user.id))
    sign_in(request, user)  # this browser goes on, stamped with the new password
    return Redirect("/settings?password=added", status_code=303)


@post("/settings/delete", guards=GUARD, include_in_schema=False, status_code=303)
async def delete_account(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Template | Redirect:
    try:
        await accounts.delete_account(
            caller(request),
            data.get("confirm", ""),
            storage=container.storage,
            google=container.google,
            **password_checks(request, container),
        )
    except (InvalidInput, TooManyAttempts) as exc:
        return await _settings(request, container, status_code=status_of(exc), delete_error=exc.detail)
    log.info("account deleted", user_id=str(caller(request).id))
    request.clear_session()
    return Redirect("/login?deleted=1", status_code=303, headers=FORGET_PAGES)


@post("/settings/sign-out-elsewhere", guards=GUARD, include_in_schema=False, status_code=303)
async def sign_out_elsewhere(request: Request[Any, Any, Any], container: ContainerDep) -> Redirect:
    user, ended = await accounts.sign_out_everywhere(caller(request).id, uow=container.uow, now=container.clock())
    log.info("signed out everywhere else", user_id=str(user.id), api_sign_ins_ended=ended)
    sign_in(request, user)  # this browser goes on, stamped anew; the others end
    return Redirect(f"/settings?signed_out={ended}", status_code=303)


@post("/settings/ai", guards=GUARD, include_in_schema=False, status_code=303)
async def save_ai_limit(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Redirect:
    try:
        limit = int(data.get("vision_monthly_limit", ""))
    except ValueError:
        raise InvalidInput("The monthly AI limit must be a whole number.") from None
    await tagging.set_monthly_limit(caller(request), limit, uow=container.uow)
    return Redirect("/settings", status_code=303)


@get("/stats", guards=GUARD, include_in_schema=False)
async def stats_page(request: Request[Any, Any, Any], container: ContainerDep) -> Template:
    user = caller(request)
    figures = await photos.statistics(
        user, uow=container.uow, now=container.clock(), quota_bytes=container.settings.quota_bytes
    )
    return Template("stats.html", context={"user": user, "stats": figures, "active": "stats"})


@get("/export", guards=GUARD, include_in_schema=False)
async def export(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    filter: str = "not_blurred",
    names: str = "original",
    strip: bool = False,
    tag: str | None = None,
    q: str | None = None,
    source: str | None = None,
    similar: str = "all",
    sort: str = "newest",
) -> Stream:
    wanted = ExportQuery(filter, _cleaned(tag, q, source), similar, parse_order(sort))
    return await export_response(caller(request), container, wanted, names, strip)


@get("/export/csv", guards=GUARD, include_in_schema=False)
async def export_list(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    filter: str = "not_blurred",
    tag: str | None = None,
    q: str | None = None,
    source: str | None = None,
    similar: str = "all",
    sort: str = "newest",
) -> Stream:
    wanted = ExportQuery(filter, _cleaned(tag, q, source), similar, parse_order(sort))
    return await export_list_response(caller(request), container, wanted)


HANDLERS = [
    home,
    import_link,
    settings_page,
    change_password,
    add_password,
    sign_out_elsewhere,
    delete_account,
    save_ai_limit,
    gallery,
    counts,
    threshold_preview,
    save_threshold,
    photo_page,
    photo_image,
    delete_photo,
    mark_photo,
    threshold_suggestion,
    use_suggested_threshold,
    analyze_photo,
    upload,
    start_scoring,
    import_folder,
    job_progress,
    cancel_job,
    retry_job,
    jobs_page,
    jobs_started_since,
    stats_page,
    export,
    export_list,
]
