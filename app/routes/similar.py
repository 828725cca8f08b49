"""Similar shots: the groups of near-copies taken moments apart, with the sharpest of each marked (API and page)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from app.domain.services import similar
from app.routes.deps import ContainerDep, caller, form_ids, parse_uuid
from app.routes.openapi_docs import errors
from app.routes.query_params import GroupsLimit
from app.routes.schemas import PhotoOut
from app.routes.security import BEARER, requires_api_user, requires_page_user
from app.routes.views import photo_out

PAGE_GROUPS = 20
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class SimilarGroupOut(msgspec.Struct):
    best_id: uuid.UUID | None  # the one to keep: a shot marked sharp, else the sharpest; null while none is scored
    photos: list[PhotoOut]  # in the order they were taken


class SimilarList(msgspec.Struct):
    items: list[SimilarGroupOut]
    next_cursor: str | None
    total: int  # groups in all
    pending: int  # photos still being compared (their fingerprint is not taken yet)


@get(
    "/api/v1/similar",
    guards=[requires_api_user],
    security=BEARER,
    tags=["photos"],
    summary="Groups of similar shots, the sharpest of each marked",
    description="Photos taken at most 30 seconds apart (or, without a capture time, one after the other) that "
    "look alike; the most recent group first. `best_id` is the one to keep: a shot you marked sharp "
    "(`PATCH /api/v1/photos/{id}`), else the lowest blur score, and one you marked blurred only if all are.",
    responses=errors(422),
)
async def api_similar(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    limit: GroupsLimit = PAGE_GROUPS,
    cursor: str | None = None,
) -> SimilarList:
    user = caller(request)
    page = await similar.similar_page(user, uow=container.uow, limit=limit, cursor=cursor)
    items = [
        SimilarGroupOut(group.best_id, [photo_out(p, user.blur_threshold) for p in group.photos])
        for group in page.groups
    ]
    return SimilarList(items, page.next_cursor, page.total_groups, page.pending)


@get("/similar", guards=[requires_page_user], include_in_schema=False)
async def similar_page(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    cursor: str | None = None,
    removed: int | None = None,
    at: str | None = None,
    gone: str | None = None,
    restored: int | None = None,
) -> Template:
    """`removed` says how many shots a keep took, in a note before the group `at` (the one after the group acted
    on, where the page comes back to), or at the top when that was the last."""
    user = caller(request)
    page = await similar.similar_page(user, uow=container.uow, limit=PAGE_GROUPS, cursor=cursor)
    context = {
        "user": user,
        "page": page,
        "cursor": cursor,
        "removed": removed,
        "at": at if removed is not None else None,
        "gone": form_ids([value for value in (gone or "").split(",") if value]) if removed else [],
        "restored": restored,
        "threshold": user.blur_threshold,
        "active": "similar",
    }
    if request.headers.get("hx-request") and cursor:
        return Template("_similar_groups.html", context=context)
    return Template("similar.html", context=context)


@post("/similar/keep-best", guards=[requires_page_user], include_in_schema=False, status_code=303)
async def keep_best(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Redirect:
    """The group's "Keep the sharpest": the other shots it showed are removed from Classify. Back to the page
    of groups it was on, at the group after it, saying how many went."""
    keep = parse_uuid(data.get("keep", ""))
    others = [parse_uuid(value) for value in data.get("remove", "").split(",") if value.strip()]
    owner = caller(request).id
    gone = await similar.remove_others(owner, keep, others, uow=container.uow, clock=container.clock)
    removed = len(gone)
    after = data.get("next", "") if re.fullmatch(r"group-[0-9a-f-]{36}", data.get("next", "")) else ""
    shown = {"at": after} if after else {}
    # what went, for the note's Undo (a group's shots: a URL of a few hundred characters)
    query = urlencode(
        {"cursor": data.get("cursor") or "", "removed": removed, **shown, "gone": ",".join(map(str, gone))}
    )
    anchor = "#removed-note" if after else ""  # the note stands before that group: in view, and focused
    return Redirect(f"/similar?{query.removeprefix('cursor=&')}{anchor}", status_code=303)


@get("/similar/of/{photo_id:str}", guards=[requires_page_user], include_in_schema=False, status_code=303)
async def group_page(request: Request[Any, Any, Any], container: ContainerDep, photo_id: str) -> Redirect:
    """A photo page's "N taken together": the page of groups that opens with this photo's group."""
    found = await similar.page_of(caller(request), parse_uuid(photo_id), uow=container.uow)
    if found is None:  # regrouped since the photo page was shown
        return Redirect("/similar", status_code=303)
    cursor, first = found
    query = f"?{urlencode({'cursor': cursor})}" if cursor else ""
    return Redirect(f"/similar{query}#group-{first}", status_code=303)


HANDLERS = [api_similar, similar_page, keep_best, group_page]
