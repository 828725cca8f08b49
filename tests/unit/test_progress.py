import dataclasses
import datetime as dt
import uuid

from app.domain.model import Job, JobStatus
from app.domain.progress import describe_eta, eta_seconds

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def job(done: int, failed: int = 0, total: int = 100, status: JobStatus = JobStatus.RUNNING) -> Job:
    return Job(uuid.uuid4(), uuid.uuid4(), "score_batch", status, total, done, failed, T0, started_at=T0)


def test_eta_follows_the_rate_so_far():
    assert eta_seconds(job(25), T0 + dt.timedelta(seconds=10)) == 30
    assert eta_seconds(job(20, failed=5), T0 + dt.timedelta(seconds=10)) == 30


def test_no_eta_before_a_rate_or_after_the_end():
    assert eta_seconds(job(0), T0 + dt.timedelta(seconds=10)) is None
    assert eta_seconds(job(100, status=JobStatus.DONE), T0 + dt.timedelta(seconds=10)) is None


def test_eta_in_words():
    assert describe_eta(None) == ""
    assert describe_eta(0.2) == "about 1 s left"
    assert describe_eta(150) == "about 2 min left"
    assert describe_eta(7200) == "about 2.0 h left"


def test_no_eta_while_a_service_makes_the_job_wait_and_the_rate_again_after():
    waiting = dataclasses.replace(job(25), waiting_until=T0 + dt.timedelta(seconds=40), waiting_reason="Busy")
    assert waiting.waiting_at(T0 + dt.timedelta(seconds=10)) == "Busy"
    assert eta_seconds(waiting, T0 + dt.timedelta(seconds=10)) is None
    assert waiting.waiting_at(T0 + dt.timedelta(seconds=40)) is None
    assert eta_seconds(waiting, T0 + dt.timedelta(seconds=40)) == 120


def test_jobs_are_named_for_what_they_work_on():
    def titled(kind: str, **payload: str) -> str:
        return dataclasses.replace(job(0), kind=kind, payload=payload).title

    assert titled("link_import", source="dropbox", folder_name="Trip") == "Import from Dropbox: Trip"
    assert titled("link_import", source="google_drive") == "Import from Google Drive"
    assert titled("import_folder", path="2024/summer") == "Import of the server folder 2024/summer"
    assert titled("score_batch") == "Blur scoring" and titled("something_new") == "Something new"
