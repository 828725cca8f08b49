"""Photos Picker, media bytes and Photos Library endpoints of the Google fake (CONTRACTS.md §3, §4)."""

from __future__ import annotations

import base64
import html
import io
import re
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageOps

from tests.fakes.google_http import Request, Response, html_response, json_response
from tests.fakes.google_models import (
    APPENDONLY_SCOPE,
    PICKER_SCOPE,
    BaseUrlGrant,
    FakeAlbum,
    FakePhoto,
    LibraryItem,
    PickingSession,
    Upload,
    duration,
    image_size,
    new_id,
    rfc3339,
)

if TYPE_CHECKING:
    from tests.fakes.google import FakeGoogle

MEDIA_PATH = re.compile(r"^/media/(?P<item>[A-Za-z0-9_-]+)/(?P<key>[A-Za-z0-9_-]+)(?P<params>=[^/]*)?$")
FAILED_ITEM = "Failed: There was an error while trying to create this media item."


# --------------------------------------------------------------------------------------------- Picker


def session_json(fake: FakeGoogle, session: PickingSession) -> dict[str, Any]:
    body: dict[str, Any] = {"id": session.id, "pickerUri": f"{fake.base_url}/pick/{session.id}"}
    if session.picked is None:
        remaining = session.created + fake.picking_timeout - fake.now()
        body["pollingConfig"] = {"pollInterval": fake.poll_interval, "timeoutIn": duration(round(remaining, 3))}
    body["expireTime"] = rfc3339(session.expire_time)
    if session.max_item_count is not None:
        body["pickingConfig"] = {"maxItemCount": session.max_item_count}
    body["mediaItemsSet"] = session.picked is not None
    return body


def create_session(fake: FakeGoogle, req: Request) -> Response:
    access = fake.check_bearer(req, PICKER_SCOPE)
    if isinstance(access, Response):
        return access
    try:
        body = req.json() or {}
        max_items = (body.get("pickingConfig") or {}).get("maxItemCount")
        max_items = None if max_items is None else str(int(max_items))
    except (ValueError, AttributeError, TypeError):
        return fake.api_error(400, "Invalid JSON payload received.")
    now = fake.now()
    session = PickingSession(new_id(), access.grant.user, now, now + fake.session_ttl, max_items)
    fake.sessions[session.id] = session
    return json_response(session_json(fake, session))


def _live_session(fake: FakeGoogle, session_id: str, user_sub: str) -> PickingSession | None:
    session = fake.sessions.get(session_id)
    if session is None or session.deleted or fake.now() >= session.expire_time or session.user.sub != user_sub:
        return None
    return session


def session_resource(fake: FakeGoogle, req: Request, session_id: str) -> Response:
    access = fake.check_bearer(req, PICKER_SCOPE)
    if isinstance(access, Response):
        return access
    session = _live_session(fake, session_id, access.grant.user.sub)
    if session is None:
        return fake.api_error(404, "Requested entity was not found.")
    if req.method == "DELETE":
        session.deleted = True
        return json_response({})
    return json_response(session_json(fake, session))


def list_media_items(fake: FakeGoogle, req: Request) -> Response:
    access = fake.check_bearer(req, PICKER_SCOPE)
    if isinstance(access, Response):
        return access
    q = req.query
    if not q.get("sessionId"):
        return fake.api_error(400, "sessionId is required.")
    session = _live_session(fake, q["sessionId"], access.grant.user.sub)
    if session is None:
        return fake.api_error(404, "Requested entity was not found.")
    if session.picked is None:
        return fake.api_error(400, "User has not finished picking media items.", rpc_status="FAILED_PRECONDITION")
    try:
        size = int(q.get("pageSize") or 0)
    except ValueError:
        return fake.api_error(400, f"Invalid value at 'page_size' (TYPE_INT32), \"{q['pageSize']}\"")
    if size < 0:
        return fake.api_error(400, "Page size must be non-negative.")
    size = min(size or 50, 100)
    start = 0
    if q.get("pageToken"):
        try:
            sid, _, offset = base64.urlsafe_b64decode(q["pageToken"].encode()).decode().partition(":")
            start = int(offset)
        except ValueError:
            sid = ""
        if sid != session.id:
            return fake.api_error(400, "Invalid page token.")
    photos = [p for p in (fake.photo(i) for i in session.picked) if p is not None]
    page = photos[start : start + size]
    body: dict[str, Any] = {"mediaItems": [picked_item_json(fake, p, access.grant.user.sub) for p in page]}
    if start + size < len(photos):
        body["nextPageToken"] = base64.urlsafe_b64encode(f"{session.id}:{start + size}".encode()).decode()
    return json_response(body)


def picked_item_json(fake: FakeGoogle, photo: FakePhoto, user_sub: str) -> dict[str, Any]:
    key = new_id(nbytes=24)
    fake.base_urls[key] = BaseUrlGrant(photo.id, user_sub, fake.now())
    metadata: dict[str, Any] = {"width": photo.width, "height": photo.height}
    if photo.camera_make:
        metadata["cameraMake"] = photo.camera_make
    if photo.camera_model:
        metadata["cameraModel"] = photo.camera_model
    if photo.kind == "VIDEO":
        metadata["videoMetadata"] = {"fps": 30, "processingStatus": "READY"}
    else:
        metadata["photoMetadata"] = {"focalLength": 6.9, "apertureFNumber": 1.7, "isoEquivalent": 50}
    return {
        "id": photo.id,
        "createTime": rfc3339(photo.create_time.timestamp()),
        "type": photo.kind,
        "mediaFile": {
            "baseUrl": f"{fake.base_url}/media/{photo.id}/{key}",
            "mimeType": photo.mime_type,
            "filename": photo.filename,
            "mediaFileMetadata": metadata,
        },
    }


def picker_page(fake: FakeGoogle, req: Request, session_id: str) -> Response:
    """/pick/{id}: the picking UI a user opens in a browser (no bearer; the Google session cookie's job)."""
    session = fake.sessions.get(session_id)
    if session is None or session.deleted or fake.now() >= session.expire_time:
        return html_response("<!doctype html><title>Not found</title><h1>Session not found</h1>", 404)
    if session.picked is not None:
        return html_response("<!doctype html><title>Done</title><h1 id='done-already'>Already picked</h1>", 410)
    if req.method == "POST":
        from urllib.parse import parse_qs

        ticked = parse_qs(req.body.decode()).get("item", [])
        fake.pick(session_id, ticked[: int(session.max_item_count)] if session.max_item_count else ticked)
        return html_response("<!doctype html><title>Done</title><h1 id='finished'>Done. Close this tab.</h1>")
    rows = "".join(
        f"<li><label><input type='checkbox' name='item' value='{html.escape(p.id)}'> {html.escape(p.filename)}"
        f"</label></li>"
        for p in fake.library
    )
    return html_response(
        "<!doctype html><html><head><title>Google Photos</title></head><body><h1>Select photos</h1>"
        f"<form method='post' action='/pick/{session_id}'><ul id='library'>{rows}</ul>"
        "<button id='done' type='submit'>Done</button></form></body></html>"
    )


# ---------------------------------------------------------------------------------------------- media


def media(fake: FakeGoogle, req: Request) -> Response:
    match = MEDIA_PATH.match(req.path)
    if match is None:
        return fake.api_error(404)
    access = fake.check_bearer(req, PICKER_SCOPE)
    if isinstance(access, Response):
        return access
    grant = fake.base_urls.get(match["key"])
    photo = fake.photo(match["item"])
    if grant is None or grant.item_id != match["item"] or photo is None:
        return fake.api_error(404)
    if grant.expired or fake.now() > grant.issued + fake.base_url_ttl or grant.user_sub != access.grant.user.sub:
        return fake.api_error(403, "The base URL has expired or does not belong to this user.")
    options = (match["params"] or "").lstrip("=").split("-") if match["params"] else []
    if "d" in options or "dv" in options:
        return Response(200, photo.data, photo.mime_type)
    width = height = None
    for option in options:
        if m := re.fullmatch(r"([whs])(\d+)", option):
            value = int(m[2])
            if m[1] in "ws":
                width = value
            if m[1] in "hs":
                height = value
    if width is None and height is None:
        width = height = fake.default_rendition
    return Response(200, rendition(photo.data, width, height, crop="c" in options), "image/jpeg")


def rendition(data: bytes, width: int | None, height: int | None, *, crop: bool = False) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    with Image.open(io.BytesIO(data)) as original:
        image = ImageOps.exif_transpose(original).convert("RGB")
    box = (width or image.width * 100, height or image.height * 100)
    if crop and width and height:
        image = ImageOps.fit(image, (width, height))
    else:
        image.thumbnail(box)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# -------------------------------------------------------------------------------------------- Library


def upload(fake: FakeGoogle, req: Request) -> Response:
    access = fake.check_bearer(req, APPENDONLY_SCOPE)
    if isinstance(access, Response):
        return access
    if req.content_type != "application/octet-stream":
        return fake.api_error(400, "Content-Type must be application/octet-stream.")
    if req.headers.get("x-goog-upload-protocol", "").lower() != "raw":
        return fake.api_error(400, "X-Goog-Upload-Protocol must be raw (or resumable, not supported here).")
    if not req.body:
        return fake.api_error(400, "The upload is empty.")
    token = new_id("CAIS", 60)
    content_type, name = req.headers.get("x-goog-upload-content-type"), req.headers.get("x-goog-upload-file-name")
    fake.uploads[token] = Upload(token, req.body, content_type, name, access.grant.user.sub, fake.now())
    return Response(200, token.encode(), "text/plain; charset=UTF-8")


def album_json(fake: FakeGoogle, album: FakeAlbum) -> dict[str, Any]:
    body = {"id": album.id, "title": album.title, "productUrl": f"{fake.base_url}/albums/{album.id}"}
    body |= {"isWriteable": album.app_created, "mediaItemsCount": str(len(album.items))}
    if album.items:
        body["coverPhotoMediaItemId"] = album.items[0].id
    return body


def create_album(fake: FakeGoogle, req: Request) -> Response:
    access = fake.check_bearer(req, APPENDONLY_SCOPE)
    if isinstance(access, Response):
        return access
    try:
        title = (req.json() or {})["album"]["title"]
    except (ValueError, KeyError, TypeError):
        return fake.api_error(400, "Invalid JSON payload received: album.title is required.")
    if not isinstance(title, str) or not title.strip() or len(title) > 500:
        return fake.api_error(400, "Album title must be 1 to 500 characters.")
    album = FakeAlbum(new_id(nbytes=30), title, access.grant.user.sub)
    fake.albums[album.id] = album
    return json_response(album_json(fake, album))


def batch_create(fake: FakeGoogle, req: Request) -> Response:
    access = fake.check_bearer(req, APPENDONLY_SCOPE)
    if isinstance(access, Response):
        return access
    try:
        body = req.json()
        items = body["newMediaItems"]
        assert isinstance(items, list)
    except (ValueError, KeyError, TypeError, AssertionError):
        return fake.api_error(400, "Invalid JSON payload received: newMediaItems is required.")
    if not 1 <= len(items) <= 50:
        return fake.api_error(400, "Request must contain between 1 and 50 newMediaItems.")
    album = None
    if body.get("albumId") is not None:
        album = fake.albums.get(body["albumId"])
        if album is None:
            return fake.api_error(400, "Invalid album ID.")
        if not album.app_created or album.owner_sub != access.grant.user.sub:
            return fake.api_error(403, "No permission to add media items to this album.")
    elif body.get("albumPosition"):
        return fake.api_error(400, "albumPosition requires albumId.")
    first = (body.get("albumPosition") or {}).get("position") == "FIRST_IN_ALBUM"
    results, created = [], []
    for entry in items:
        simple = (entry or {}).get("simpleMediaItem") or {}
        token = simple.get("uploadToken", "")
        up = fake.uploads.get(token)
        description, file_name = entry.get("description"), simple.get("fileName")
        if (description and len(description) > 1000) or (file_name and len(file_name) > 255):
            return fake.api_error(400, "description must be < 1000 characters and fileName <= 255.")
        dead = up is None or up.used or fake.now() > up.created + fake.upload_token_ttl
        if dead or up.user_sub != access.grant.user.sub:
            results.append({"uploadToken": token, "status": {"code": 3, "message": FAILED_ITEM}})
            continue
        up.used = True
        item = _library_item(fake, up, file_name, description)
        created.append(item)
        result = {"uploadToken": token, "status": {"message": "Success"}, "mediaItem": media_item_json(fake, item)}
        results.append(result)
    if album is not None:
        album.items = created + album.items if first else album.items + created
    ok = len(created) == len(items)
    return json_response({"newMediaItemResults": results}, 200 if ok else fake.partial_status)


def _library_item(fake: FakeGoogle, up: Upload, file_name: str | None, description: str | None) -> LibraryItem:
    width, height = image_size(up.data)
    mime = up.content_type or _sniff(up.data)
    item_id = new_id(nbytes=30)
    name = file_name or up.file_name or f"{item_id}.jpg"
    item = LibraryItem(item_id, name, mime, up.data, description, up.content_type, width, height, rfc3339(fake.now()))
    fake.media_items[item.id] = item
    return item


def _sniff(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1"):
        return "image/heif"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    return "application/octet-stream"


def media_item_json(fake: FakeGoogle, item: LibraryItem) -> dict[str, Any]:
    body: dict[str, Any] = {"id": item.id}
    if item.description:
        body["description"] = item.description
    body |= {"productUrl": f"{fake.base_url}/lr/photo/{item.id}", "mimeType": item.mime_type, "filename": item.filename}
    metadata = {"creationTime": item.creation_time, "width": str(item.width), "height": str(item.height)}
    body["mediaMetadata"] = metadata | {"photo": {}}
    return body
