"""Live job progress for the browser, as Server-Sent Events (the htmx SSE extension swaps them in).

The stream reads the job row, which is the source of truth in both the in-process and the arq mode, so
progress made by any worker process shows up without a pub/sub channel.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, get
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from app.adapters.sql.outage import is_outage
from app.domain.model import Job, JobStatus
from app.domain.progress import describe_eta, eta_seconds
from app.domain.services import jobs
from app.logs import log
from app.routes.deps import ContainerDep, caller, parse_uuid
from app.routes.security import requires_page_user

POLL_SECONDS = 0.4
MAX_STREAM_SECONDS = 3600  # the browser reconnects by itself if a stream is cut
# A cancel stops the items not started; those under way (an AI call, a download) finish and are counted.
# The card follows them this long after the cancel, so that it does not stop at a count that then moves.
SETTLING_SECONDS = 20.0


def settling(job: Job, now: dt.datetime) -> bool:
    """Cancelled a moment ago: items that were under way may still finish."""
    if job.status is not JobStatus.CANCELLED or job.finished_at is None:
        return False
    return (now - job.finished_at).total_seconds() < SETTLING_SECONDS


def job_context(job: Job, now: dt.datetime) -> dict[str, Any]:
    return {
        "job": job,
        "eta": describe_eta(eta_seconds(job, now)),
        "waiting": job.waiting_at(now),
        "go_on": jobs.can_go_on(job),
        "settling": settling(job, now),
    }


async def _progress(request: Request[Any, Any, Any], container: ContainerDep, job_id: uuid.UUID) -> AsyncIterator:
    template = request.app.template_engine.get_template("_job_progress.html")
    owner = caller(request).id
    last: tuple | None = None
    for _ in range(int(MAX_STREAM_SECONDS / POLL_SECONDS)):
        if container.stopping.is_set():  # the browser reconnects, to this server restarted or another
            return
        try:
            job = await jobs.get_job(owner, job_id, uow=container.uow)
        except Exception as exc:
            if is_outage(exc):  # the answer has started: no error page now, the browser reconnects instead
                log.info("progress stream ended: the database is away", job_id=str(job_id))
                return
            raise
        now = container.clock()
        state = (job.status, job.done, job.failed, job.skipped, job.total, job.waiting_at(now), settling(job, now))
        if state != last:
            last = state
            html = template.render(**job_context(job, now))
            yield ServerSentEventMessage(data=html.replace("\n", " "), event="progress")
        if job.status.finished and not settling(job, now):
            yield ServerSentEventMessage(data=job.status.value, event="done")
            return
        await asyncio.sleep(POLL_SECONDS)


@get("/jobs/{job_id:str}/events", guards=[requires_page_user], include_in_schema=False)
async def job_events(request: Request[Any, Any, Any], container: ContainerDep, job_id: str) -> ServerSentEvent:
    job = await jobs.get_job(caller(request).id, parse_uuid(job_id, "job"), uow=container.uow)  # 404 before streaming
    return ServerSentEvent(_progress(request, container, job.id), headers={"Cache-Control": "no-store"})


HANDLERS = [job_events]
