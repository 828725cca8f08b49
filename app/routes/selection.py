"""The photos ticked in the gallery's grid: remove them (as a removal job) or make the same call on all of them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Response, Template

from app.domain.errors import InvalidInput
from app.domain.services import photos, removal
from app.domain.units import plural
from app.routes.deps import ContainerDep, caller, form_ids
from app.routes.events import job_context
from app.routes.security import requires_page_user

# The form sends a photo_ids field for each ticked photo: one is a string, several a list.
SelectionForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
CALLS = {"sharp": "sharp", "blurred": "blurred", "": "back to their scores"}


def _ticked(data: dict[str, Any], doing: str) -> list[uuid.UUID]:
    ids = form_ids(data.get("photo_ids"))
    if not ids:
        raise InvalidInput(f"Tick the photos to {doing} first.")
    return ids


@post("/jobs/remove-selected", guards=[requires_page_user], include_in_schema=False, status_code=200)
async def remove_selected(request: Request[Any, Any, Any], container: ContainerDep, data: SelectionForm) -> Template:
    ids = _ticked(data, "remove")
    job = await removal.start_removal(caller(request), None, uow=container.uow, queue=container.queue, photo_ids=ids)
    return Template("_job.html", context=job_context(job, container.clock()))


@post("/photos/mark-selected", guards=[requires_page_user], include_in_schema=False, status_code=200)
async def mark_selected(request: Request[Any, Any, Any], container: ContainerDep, data: SelectionForm) -> Response:
    """Says what was done where jobs show, and has the gallery reload (the photos may have changed tab)."""
    call = str(data.get("marked_as") or "")
    ids = _ticked(data, "mark")
    marked = await photos.mark_photos(caller(request).id, ids, call or None, uow=container.uow)
    # `call` is one of CALLS here: mark_photos refused anything else. No role: #job-area, where it goes, is the
    # live region, and one inside another is read out twice
    said = f'<p class="marked-note">Marked {marked} {plural("photo", marked)} {CALLS[call]}.</p>'
    return Response(said, media_type="text/html", headers={"HX-Trigger": "photos-scored"})


HANDLERS = [remove_selected, mark_selected]
