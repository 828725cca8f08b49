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
