"""How far a job has got and when it should end: pure arithmetic on the job's counters."""

from __future__ import annotations

import datetime as dt

from app.domain.model import Job, JobStatus


def eta_seconds(job: Job, now: dt.datetime) -> float | None:
    """Seconds left at the rate so far; None until there is a rate to go by."""
    processed = job.done + job.failed
    if job.status.finished or job.status is JobStatus.PAUSED or not job.started_at:
        return None  # a paused job waits on the person, not on the clock
    if job.waiting_at(now):
        return None  # a service asked it to wait: the rate so far says nothing about when it ends
    if processed == 0 or processed >= job.total:
        return None
    elapsed = (now - job.started_at).total_seconds()
    if elapsed <= 0:
        return None
    return (job.total - processed) * elapsed / processed


def describe_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"
