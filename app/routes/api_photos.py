"""The photos JSON API: upload, list by category, detail, images, scoring, jobs, settings, stats, export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.response import File, Response, Stream

from app.adapters.imaging import RENDITION_MEDIA_TYPE
from app.domain.errors import InvalidInput, NotAuthenticated, PayloadRejected
from app.domain.model import Photo, PhotoFilter, PhotoSource, User
from app.domain.services import imports, jobs, link_imports, photos, tagging
from app.domain.services.export import served_name
from app.jobs.link_tasks import link_context
from app.routes.deps import ContainerDep, caller, parse_before, parse_uuid
from app.routes.downloads import ExportQuery, export_list_response, export_response
from app.routes.nul_guard import TAKES_FILES
from app.routes.openapi_docs import UPLOAD_RESPONSES, UploadOperation, errors
from app.routes.query_params import (
    JobsLimit,
    NamesQuery,
    PageLimit,
    SimilarQuery,
    SizeQuery,
    SortQuery,
    SourceQuery,
    TabQuery,
    parse_category,
    parse_order,
    parse_source,
)
from app.routes.schemas import (
    AnalyzeResult,
    BatchBody,
    ImportBody,
    JobAccepted,
    JobItemOut,
    JobOut,
    MarkBatch,
    MarkedOut,
    PhotoList,
    PhotoOut,
    PhotoPatch,
    SettingsOut,
    SettingsPatch,
    ThresholdSuggestionOut,
    UploadRejection,
    UploadResult,
)
from app.routes.security import BEARER, requires_api_user
from app.routes.upload_stream import IncomingFile, SpillRoom, received_files
from app.routes.views import job_out, photo_out

SIZES = {"thumb", "medium", "original"}


async def store_uploads(
    files: Sequence[IncomingFile], user: User, container: ContainerDep, source: str = PhotoSource.UPLOAD
) -> UploadResult:
    """Import every file on its own: good ones are kept, each bad one is reported with its reason."""
    stored: list[PhotoOut] = []
    rejected: list[UploadRejection] = []
    created = 0
    max_bytes = container.settings.max_upload_bytes
    try:
        for upload in files:
            name = upload.filename or "upload"
            try:
                data = await upload.read()  # at most max_bytes + 1: enough to refuse it
                outcome = await photos.import_photo(
                    data,
                    name,
                    owner=user.id,
                    source=source,
                    uow=container.uow,
                    storage=container.storage,
                    images=container.images,
                    queue=container.queue,
                    max_bytes=max_bytes,
                    quota_bytes=container.settings.quota_bytes,
                )
            except PayloadRejected as exc:
                rejected.append(UploadRejection(name, exc.status_code, exc.detail))
                continue
            finally:
                await upload.close()  # its memory is free for the next one
            created += outcome.created
            stored.append(photo_out(outcome.photo, user.blur_threshold))
    finally:
        for upload in files:  # those not reached when the request is cancelled part-way
            await upload.close()
    return UploadResult(stored, created, len(stored) - created, rejected)


def upload_status(result: UploadResult) -> int:
    if result.created:
        return 201
    if result.photos:
        return 200
    codes = {r.status_code for r in result.rejected}
    return codes.pop() if len(codes) == 1 else 422


async def uploaded_files(request: Request[Any, Any, Any], container: ContainerDep) -> Sequence[IncomingFile]:
    settings = container.settings
    spill_room = SpillRoom(settings.data_dir / "uploading", settings.min_free_bytes)
    return await received_files(
        request, max_files=settings.max_files_per_request, max_bytes=settings.max_upload_bytes, spill_room=spill_room
    )


class PhotosController(Controller):
    path = "/api/v1"
    tags = ["photos"]
    guards = [requires_api_user]
    security = BEARER

    @post(
        "/photos",
        summary="Upload photos (multipart field 'files')",
        operation_class=UploadOperation,
        responses=UPLOAD_RESPONSES,
        request_max_body_size=None,  # counted as it streams in (upload_stream.upload_limit), past the app's limit
        opt={TAKES_FILES: True},
    )
    async def upload(self, request: Request[Any, Any, Any], container: ContainerDep) -> Response[UploadResult]:
        files = await uploaded_files(request, container)
        result = await store_uploads(files, caller(request), container)
        status = upload_status(result)
        if status >= 400:
            first = result.rejected[0]
            detail = first.detail if len(result.rejected) == 1 else f"None of the {len(files)} files was kept."
            rejected = [
                {"filename": r.filename, "status_code": r.status_code, "detail": r.detail} for r in result.rejected
            ]
            body = {"status_code": status, "detail": detail, "rejected": rejected}
            return Response(body, status_code=status)
        return Response(result, status_code=status)

    @get("/photos", summary="List photos by category", responses=errors(422))
    async def list_photos(
        self,
        request: Request[Any, Any, Any],
        container: ContainerDep,
        filter: TabQuery = "all",
        limit: PageLimit = 50,
        cursor: str | None = None,
        source: SourceQuery = None,
        tag: str | None = None,
        q: str | None = None,
        sort: SortQuery = "newest",
    ) -> PhotoList:
        """`sort`: newest (by arrival), blurriest or sharpest (by blur score; unscored photos last). A cursor
        continues the order it came from."""
        user = caller(request)
        page, counts = await photos.list_photos(
            user,
            parse_category(filter),
            uow=container.uow,
            limit=limit,
            cursor=cursor,
            only=PhotoFilter.of(parse_source(source), tag, q),
            order=parse_order(sort),
        )
        items = [photo_out(p, user.blur_threshold) for p in page.items]
        return PhotoList(items, page.next_cursor, counts.as_dict(), user.blur_threshold)

    @get("/photos/{photo_id:str}", summary="One photo, with its blur details", responses=errors(404))
    async def get_photo(self, request: Request[Any, Any, Any], container: ContainerDep, photo_id: str) -> PhotoOut:
        user = caller(request)
        photo = await photos.get_photo(user.id, parse_uuid(photo_id), uow=container.uow)
        return photo_out(photo, user.blur_threshold, details=True)

    @get(
        "/photos/{photo_id:str}/image",
        summary="The photo's image: thumb, medium or original",
        media_type="image/*",  # for the OpenAPI document; each answer names its own (JPEG, or the original's)
        responses=errors(404, 422),
    )
    async def image(
        self, request: Request[Any, Any, Any], container: ContainerDep, photo_id: str, size: SizeQuery = "medium"
    ) -> File:
        return await image_response(caller(request), container, photo_id, size)

    @patch(
        "/photos/{photo_id:str}",
        summary="Mark a photo sharp or blurred yourself, or let its score decide again",
        description=(
            'A mark ("sharp" or "blurred") decides the photo\'s is_blurred and category whatever its score and your '
            "threshold, and stays through a re-score; null lets the score decide again."
        ),
        responses=errors(404, 422),
    )
    async def mark_photo(
        self, request: Request[Any, Any, Any], container: ContainerDep, photo_id: str, data: PhotoPatch
    ) -> PhotoOut:
        user = caller(request)
        photo = await photos.mark_photo(user.id, parse_uuid(photo_id), data.marked_as, uow=container.uow)
        return photo_out(photo, user.blur_threshold, details=True)

    @post(
        "/photos/mark-batch",
        status_code=200,
        summary="Mark many photos sharp or blurred yourself, or let their scores decide again",
        responses=errors(404, 422),
    )
    async def mark_batch(self, request: Request[Any, Any, Any], container: ContainerDep, data: MarkBatch) -> MarkedOut:
        """All or none: a photo that is not yours is a 404 and nothing is marked."""
        marked = await photos.mark_photos(caller(request).id, data.photo_ids, data.marked_as, uow=container.uow)
        return MarkedOut(marked)

    @delete(
        "/photos/{photo_id:str}",
        status_code=204,
        summary="Remove a photo from Classify (not from its source)",
        responses=errors(404),
    )
    async def delete_photo(self, request: Request[Any, Any, Any], container: ContainerDep, photo_id: str) -> None:
        """The photo goes to Recently removed, where it stays 30 days (GET /api/v1/removed); nothing is deleted
        at its source."""
        await photos.delete_photo(caller(request).id, parse_uuid(photo_id), uow=container.uow, clock=container.clock)

    @post("/photos/{photo_id:str}/analyze", status_code=202, summary="Score one photo (a job)", responses=errors(404))
    async def analyze(self, request: Request[Any, Any, Any], container: ContainerDep, photo_id: str) -> JobAccepted:
        job = await jobs.start_score_batch(
            caller(request).id, [parse_uuid(photo_id)], uow=container.uow, queue=container.queue
        )
        return JobAccepted(job.id, job.total)

    @get("/photos/{photo_id:str}/result", summary="The blur verdict of one photo", responses=errors(404))
    async def result(self, request: Request[Any, Any, Any], container: ContainerDep, photo_id: str) -> AnalyzeResult:
        user = caller(request)
        photo = await photos.get_photo(user.id, parse_uuid(photo_id), uow=container.uow)
        out = photo_out(photo, user.blur_threshold)
        return AnalyzeResult(
            photo.id,
            photo.blur_score,
            out.is_blurred,
            out.blur_kind,
            user.blur_threshold,
            photo.processing_ms,
            photo.scored_at,
            photo.error,
            photo.details_at(user.blur_threshold),
            photo.marked_as,
        )

    @post(
        "/blur/analyze-batch",
        status_code=202,
        summary="Score chosen photos, or every unprocessed one",
        responses=errors(404, 422),
    )
    async def analyze_batch(
        self, request: Request[Any, Any, Any], container: ContainerDep, data: BatchBody | None = None
    ) -> JobAccepted:
        ids = data.photo_ids if data else None
        job = await jobs.start_score_batch(caller(request).id, ids, uow=container.uow, queue=container.queue)
        return JobAccepted(job.id, job.total)

    @get("/blur/jobs", summary="Recent jobs, newest first", responses=errors(404, 422))
    async def list_jobs(
        self,
        request: Request[Any, Any, Any],
        container: ContainerDep,
        limit: JobsLimit = 50,
        before: str | None = None,
    ) -> list[JobOut]:
        """`before`: a job's id, for the jobs started before it (the last id of a page gives the next page)."""
        after = parse_before(before)
        found = await jobs.recent_jobs(caller(request).id, uow=container.uow, limit=limit, before=after)
        return [job_out(j, container.clock()) for j in found]

    @get("/blur/jobs/{job_id:str}", summary="A job's progress", responses=errors(404))
    async def get_job(self, request: Request[Any, Any, Any], container: ContainerDep, job_id: str) -> JobOut:
        job = await jobs.get_job(caller(request).id, parse_uuid(job_id, "job"), uow=container.uow)
        return job_out(job, container.clock())

    @get(
        "/blur/jobs/{job_id:str}/items",
        summary="A job's failed and skipped items, each with its reason",
        responses=errors(404),
    )
    async def job_items(
        self, request: Request[Any, Any, Any], container: ContainerDep, job_id: str
    ) -> list[JobItemOut]:
        problems = await jobs.job_errors(caller(request).id, parse_uuid(job_id, "job"), uow=container.uow)
        return [JobItemOut(item, status, error) for item, status, error in problems]

    @post("/blur/jobs/{job_id:str}/cancel", status_code=200, summary="Cancel a job", responses=errors(404, 409))
    async def cancel_job(self, request: Request[Any, Any, Any], container: ContainerDep, job_id: str) -> JobOut:
        job = await jobs.cancel_job(
            caller(request).id, parse_uuid(job_id, "job"), uow=container.uow, now=container.clock()
        )
        return job_out(job, container.clock())

    @post(
        "/blur/jobs/{job_id:str}/retry",
        status_code=202,
        summary="Retry a job's failed items",
        responses=errors(404, 409),
    )
    async def retry_job(self, request: Request[Any, Any, Any], container: ContainerDep, job_id: str) -> JobOut:
        job = await jobs.retry_failed(
            caller(request).id, parse_uuid(job_id, "job"), uow=container.uow, queue=container.queue
        )
        return job_out(job, container.clock())

    @post(
        "/imports",
        status_code=202,
        summary="Import a shared Drive or Dropbox folder by link, or a server folder",
        responses=errors(404, 409, 422, 429, 502, 503),
    )
    async def start_import(
        self, request: Request[Any, Any, Any], container: ContainerDep, data: ImportBody
    ) -> JobAccepted:
        if data.source in ("google_drive", "dropbox"):
            if not data.url:
                raise InvalidInput("Give the shared folder's link as 'url'.")
            job = await link_imports.start_link_import(
                caller(request), data.source, data.url, link_context(container), recursive=data.recursive
            )
            return JobAccepted(job.id, job.total)
        if data.source != "folder":
            raise InvalidInput("source must be 'google_drive', 'dropbox' or 'folder'.")
        if not data.path:
            raise InvalidInput("Give the folder to import as 'path'.")
        job = await imports.start_folder_import(
            caller(request).id, data.path, folders=container.folders, uow=container.uow, queue=container.queue
        )
        return JobAccepted(job.id, job.total)

    @get("/settings", summary="Your settings", responses=errors())
    async def get_settings(self, request: Request[Any, Any, Any], container: ContainerDep) -> SettingsOut:
        return await settings_out(caller(request), container)

    @patch(
        "/settings",
        summary="Change your blur threshold (re-sorts at once, nothing is re-scored) or AI budget",
        responses=errors(422),
    )
    async def patch_settings(
        self, request: Request[Any, Any, Any], container: ContainerDep, data: SettingsPatch
    ) -> SettingsOut:
        user = caller(request)
        if data.blur_threshold is None and data.vision_monthly_limit is None:
            raise InvalidInput("Send blur_threshold and/or vision_monthly_limit.")
        if data.blur_threshold is not None:
            await photos.set_threshold(user, data.blur_threshold, uow=container.uow)
        if data.vision_monthly_limit is not None:
            await tagging.set_monthly_limit(user, data.vision_monthly_limit, uow=container.uow)
        async with container.uow() as tx:
            fresh = await tx.users.get(user.id)
        if fresh is None:  # deleted while this request was under way
            raise NotAuthenticated("This account no longer exists.")
        return await settings_out(fresh, container)

    @get("/stats", summary="Counts, a histogram of scores, scoring speed", responses=errors())
    async def stats(self, request: Request[Any, Any, Any], container: ContainerDep) -> dict[str, Any]:
        return await photos.statistics(
            caller(request), uow=container.uow, now=container.clock(), quota_bytes=container.settings.quota_bytes
        )

    @get(
        "/export",
        summary="A ZIP of the originals in a category",
        media_type="application/zip",
        responses=errors(422),
    )
    async def export_zip(
        self,
        request: Request[Any, Any, Any],
        container: ContainerDep,
        filter: TabQuery = "not_blurred",
        names: NamesQuery = "original",
        strip: bool = False,
        tag: str | None = None,
        q: str | None = None,
        source: SourceQuery = None,
        similar: SimilarQuery = "all",
        sort: SortQuery = "newest",
    ) -> Stream:
        """`names=ai` names files from their AI descriptions; `strip=true` drops location and other metadata;
        `tag`, `q` and `source` narrow the category as they do the photo list; `similar=sharpest` keeps only
        the sharpest of each group of similar shots among them; `sort` orders the entries as the photo list."""
        only = PhotoFilter.of(parse_source(source), tag, q)
        wanted = ExportQuery(filter, only, similar, parse_order(sort))
        return await export_response(caller(request), container, wanted, names, strip)

    @get(
        "/export/csv",
        summary="A category's photos as a CSV list: verdict, source and where to find each",
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types
        responses=errors(422),
    )
    async def export_csv(
        self,
        request: Request[Any, Any, Any],
        container: ContainerDep,
        filter: TabQuery = "not_blurred",
        tag: str | None = None,
        q: str | None = None,
        source: SourceQuery = None,
        similar: SimilarQuery = "all",
        sort: SortQuery = "newest",
    ) -> Stream:
        """The photos the ZIP of the same query would hold, a row each in the same order (columns in the header:
        `filename`, `category`, `blur_score`, `blur_kind`, `your_call`, `taken_at`, `added_at`, `source`,
        `source_id`, `source_link`, ...), for a spreadsheet or for deleting the blurred ones at their source."""
        only = PhotoFilter.of(parse_source(source), tag, q)
        wanted = ExportQuery(filter, only, similar, parse_order(sort))
        return await export_list_response(caller(request), container, wanted)


async def settings_out(user: User, container: ContainerDep) -> SettingsOut:
    allowance = await tagging.budget(
        user, uow=container.uow, server_default=container.settings.vision_monthly_limit, now=container.clock()
    )
    found = await photos.threshold_suggestion(user, uow=container.uow)
    suggested = found and ThresholdSuggestionOut(
        found.threshold, found.agree, found.marks, found.agree_now, found.counts and found.counts.as_dict()
    )
    return SettingsOut(user.blur_threshold, allowance.limit, allowance.used, container.vision.configured, suggested)


async def image_response(user: User, container: ContainerDep, photo_id: str, size: str) -> File:
    if size not in SIZES:
        raise InvalidInput("size must be thumb, medium or original.")
    return await photo_file(await photos.get_photo(user.id, parse_uuid(photo_id), uow=container.uow), size, container)


async def photo_file(photo: Photo, size: str, container: ContainerDep) -> File:
    """The photo's original or a rendition (made on first asking), served inline."""
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400"}
    if size == "original":
        path, media_type = container.storage.original_path(photo.storage_key), photo.mime_type
    else:
        path = await photos.rendition_file(
            photo, size, storage=container.storage, images=container.images, uow=container.uow
        )
        media_type = RENDITION_MEDIA_TYPE
    return File(
        path=path,
        media_type=media_type,
        content_disposition_type="inline",
        headers=headers,
        filename=served_name(photo) if size == "original" else f"{photo.id}.{size}.jpg",
    )


HANDLERS = [PhotosController]
