"""Many jobs: the Jobs page and the API page through them, newest first, and a job with many failed items
shows the first ones and says how to get the rest."""

from __future__ import annotations

import asyncio
import re
import time

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from tests import images
from tests.integration.test_pages import _signed_in
from tests.support.jobs import job_with_items, job_with_items_marked


def _counts(card: str) -> str:
    """A job card's counts line, as it reads."""
    counts = re.search(r'<p class="job-counts">(.*?)</p>', card, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", counts).split()).replace(" ,", ",")


def _jobs(api, n: int) -> list[str]:
    """n finished jobs (a batch with nothing to score is done at once), newest first."""
    made = [api.post("/api/v1/blur/analyze-batch").json()["job_id"] for _ in range(n)]
    return made[::-1]


def test_the_api_pages_through_the_jobs_newest_first(api, other_api):
    made = _jobs(api, 7)
    first = api.get("/api/v1/blur/jobs?limit=3").json()
    assert [job["id"] for job in first] == made[:3]
    seen, before = [], None
    while page := api.get("/api/v1/blur/jobs?limit=3" + (f"&before={before}" if before else "")).json():
        seen += [job["id"] for job in page]
        before = page[-1]["id"]
    assert seen == made
    assert api.get("/api/v1/blur/jobs").json()[0]["id"] == made[0]  # without parameters, as before
    assert api.get("/api/v1/blur/jobs?limit=0").status_code == 422
    theirs = other_api.post("/api/v1/blur/analyze-batch").json()["job_id"]
    assert api.get(f"/api/v1/blur/jobs?before={theirs}").status_code == 404  # not yours: not found
    malformed = api.get("/api/v1/blur/jobs?before=not-a-job")  # bad input, as a malformed cursor of photos is
    assert malformed.status_code == 422 and "before is not a job's id" in malformed.json()["detail"]


def test_the_jobs_page_shows_twenty_then_older_ones(client, api):
    made = _jobs(api, 23)
    _signed_in(client)
    page = client.get("/jobs").text
    shown = re.findall(r'<article class="job" id="job-([0-9a-f-]{36})"', page)
    assert shown == made[:20]
    assert f'href="/jobs?before={made[19]}" rel="next">Older jobs' in page
    older = client.get(f"/jobs?before={made[19]}").text
    assert re.findall(r'<article class="job" id="job-([0-9a-f-]{36})"', older) == made[20:]
    assert "Older jobs" not in older and "← Newest jobs" in older
    oldest = client.get(f"/jobs?before={made[-1]}").text
    assert "No older jobs" in oldest


def test_the_jobs_page_hears_of_jobs_started_elsewhere(client, api, other_api):
    """A job started in another window, by the API or a Picker session, never showed on an open Jobs page."""
    made = _jobs(api, 2)
    _signed_in(client)
    page = client.get("/jobs").text
    assert f'hx-get="/jobs/new?since={made[0]}&amp;told=0"' in page
    asked = f"/jobs/new?since={made[0]}&told=0"
    assert client.get(asked, headers={"hx-request": "true"}).status_code == 204  # nothing new: nothing swapped
    other_api.post("/api/v1/blur/analyze-batch")  # someone else's is not news here
    assert client.get(asked, headers={"hx-request": "true"}).status_code == 204
    _jobs(api, 1)
    news = client.get(asked, headers={"hx-request": "true"})
    assert news.status_code == 200 and "1 new job started since this page was opened." in news.text
    assert 'href="/jobs">Show it</a>' in news.text and "told=1" in news.text
    assert client.get(f"/jobs/new?since={made[0]}&told=1").status_code == 204  # said once
    _jobs(api, 2)
    assert "3 new jobs started" in client.get(f"/jobs/new?since={made[0]}&told=1").text
    empty = client.get("/jobs/new?since=&told=0").text  # from a page that showed no job yet
    assert "5 new jobs started" in empty


def test_a_job_with_many_failed_items_lists_the_first_fifty(client, api, settings):
    keys = [f"folder/file{i:03}.txt" for i in range(60)]
    job_id = job_with_items(settings, "owner@example.com", keys, [(keys, "failed", "not an image")])
    _signed_in(client)
    page = client.get("/jobs").text
    assert "60 items failed or skipped" in page and page.count("(failed): not an image") == 50
    assert 'data-more-items="10"' in page and "… and 10 more (the first 50 are listed here)." in page
    assert len(api.get(f"/api/v1/blur/jobs/{job_id}/items").json()) == 60


def test_a_link_to_one_job_opens_as_a_page_and_says_when_it_ran(client, api, other_api):
    empty = _jobs(api, 1)[0]
    one = api.upload(("one.jpg", images.jpeg(seed=1))).json()["photos"][0]["id"]
    api.wait_scored()
    _signed_in(client)
    alone = client.get(f"/jobs/{empty}")  # typed or followed in the browser, not fetched by htmx
    assert alone.status_code == 200 and "<title>Jobs" in alone.text and "← Newest jobs" in alone.text
    assert re.findall(r'<article class="job" id="job-([0-9a-f-]{36})"', alone.text) == [empty]
    assert "Nothing to do: no photo was waiting to be scored." in alone.text  # a batch that found nothing, not "0 of 0"
    when = r"<time datetime=\"[0-9T:.+-]+\">\d{4}-\d\d-\d\d \d\d:\d\d</time>"
    assert re.search(r"requested " + when + ", ended", alone.text)  # it found nothing to start on
    ran = api.post("/api/v1/blur/analyze-batch", json={"photo_ids": [one]}).json()["job_id"]
    for _ in range(100):
        if api.get(f"/api/v1/blur/jobs/{ran}").json()["status"] == "done":
            break
        time.sleep(0.05)
    assert re.search(r"started " + when + ", ended", client.get(f"/jobs/{ran}").text)
    fragment = client.get(f"/jobs/{empty}", headers={"hx-request": "true"}).text
    assert fragment.lstrip().startswith('<article class="job"')  # htmx still gets the card alone
    theirs = other_api.post("/api/v1/blur/analyze-batch").json()["job_id"]
    assert client.get(f"/jobs/{theirs}").status_code == 404


def test_a_paused_job_resumed_no_longer_says_why_it_paused_nor_when_it_would_end(settings):
    """Paused for Google to be reconnected, a job shows no time left; once it goes on, the reason goes (it stayed
    on the job through to its end: "done, 40 of 40 · Google needs you to reconnect the account")."""
    import datetime as dt

    from app.domain.model import JobStatus
    from app.domain.progress import eta_seconds
    from app.domain.services.google_jobs import RECONNECT

    async def pause_then_resume() -> tuple[object, object]:
        container = bootstrap(settings, offload=run_inline)
        now = dt.datetime.now(dt.UTC)
        try:
            async with container.uow() as tx:
                user = await tx.users.add("owner@example.com", None, None)
                job = await tx.jobs.add(user.id, "google_import", 4, {}, ["a", "b", "c", "d"])
                await tx.jobs.set_status(job.id, JobStatus.RUNNING, now - dt.timedelta(seconds=10))
                await tx.jobs.mark_items(job.id, ["a"], "done", None, now)
                paused = await tx.jobs.set_status(job.id, JobStatus.PAUSED, now, RECONNECT)
                resumed = await tx.jobs.set_status(job.id, JobStatus.QUEUED, now)
                await tx.commit()
            return paused, resumed
        finally:
            await container.close()

    paused, resumed = asyncio.run(pause_then_resume())
    assert paused.error == RECONNECT and eta_seconds(paused, paused.created_at) is None
    assert resumed.error is None and resumed.status is JobStatus.QUEUED


def test_skipped_items_are_counted_apart_from_the_done_ones(client, api, settings):
    keys = ["trip/a.jpg", "trip/b.jpg", "trip/notes.txt", "trip/c.jpg"]
    skipped = (keys[2:3], "skipped", "not an image")
    outcomes = [(keys[:2], "done", None), skipped, skipped, (keys[3:], "failed", "broken")]  # the skip repeated
    job_id = job_with_items(settings, "owner@example.com", keys, outcomes)
    job = api.get(f"/api/v1/blur/jobs/{job_id}").json()
    assert (job["status"], job["done"], job["skipped"], job["failed"], job["total"]) == ("done", 3, 1, 1, 4)
    _signed_in(client)
    assert _counts(client.get(f"/jobs/{job_id}").text) == "2 done, 1 skipped, 1 failed of 4"


def test_the_jobs_page_says_when_nothing_takes_the_queued_jobs(tmp_path, database_url):
    """With CLASSIFY_RUN_WORKER off and no Redis, a batch sat "queued · 0 done" with nothing saying it never
    would run; only the System page named the missing worker."""
    from litestar.testing import TestClient

    from app.main import create_app
    from tests.conftest import create_account, login, make_settings

    for run_worker in (False, True):
        settings = make_settings(tmp_path / f"data-{run_worker}", database_url, run_worker=run_worker)
        with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
            if not run_worker:
                create_account(settings, "owner@example.com")
            api = login(client, "owner@example.com")
            photo = api.upload(("p.jpg", images.jpeg(seed=2 + run_worker))).json()["photos"][0]["id"]
            assert api.post("/api/v1/blur/analyze-batch", json={"photo_ids": [photo]}).status_code == 202
            _signed_in(client)
            page = client.get("/jobs").text
            said = 'id="no-worker"' in page
            assert said is not run_worker, run_worker
            if said:  # in words; what to change is on System, which names the setting
                assert "These jobs are waiting: nothing on this server is running them." in page
                assert "CLASSIFY_RUN_WORKER" not in page and "CLASSIFY_RUN_WORKER" in client.get("/system").text
                gallery = client.get("/photos").text  # and the gallery, whose photo waits for its score
                assert "Photos are not being scored now" in gallery and "waiting to be scored" in gallery
            else:
                assert 'id="no-worker"' not in client.get("/photos").text


def test_a_job_is_retried_once_it_has_ended_not_while_it_runs(client, api, settings):
    """Retry during an import queued its failed item behind the task still walking the job, which never went
    back to it: the job said "queued" with everything done, until the sweep minutes later (scale-out review)."""
    keys = ["trip/a.jpg", "trip/b.jpg", "trip/c.jpg"]
    running = job_with_items(settings, "owner@example.com", keys, [(keys[:1], "failed", "could not be read")])
    refused = api.post(f"/api/v1/blur/jobs/{running}/retry")
    assert refused.status_code == 409 and "not ended yet" in refused.json()["detail"]
    assert api.get(f"/api/v1/blur/jobs/{running}").json()["status"] == "running"  # one item done: under way

    ended = job_with_items(
        settings, "owner@example.com", keys, [(keys[:1], "failed", "gone"), (keys[1:], "done", None)]
    )
    assert api.get(f"/api/v1/blur/jobs/{ended}").json()["status"] == "done"
    assert api.post(f"/api/v1/blur/jobs/{ended}/retry").status_code == 202


def test_the_jobs_page_names_an_imports_files_not_the_services_ids(client, api, settings):
    """A Drive import's skipped file read "1AbC…xyz (skipped): notes.txt is not an image"; an album's failed
    photo was its id. The reasons name the files; a Dropbox path, which reads, stays."""
    _signed_in(client)
    drive_id, path = "1AbCdEfGhIjKlMnOpQrStUvWxYz012345", "/trip/notes.txt"
    said = "notes.txt is not an image (text/plain); skipped."
    keys = [drive_id, path]
    job_with_items(settings, "owner@example.com", keys, [(keys, "skipped", said)], "link_import")
    photo = api.upload(("beach.jpg", images.jpeg(seed=5))).json()["photos"][0]["id"]
    job_with_items(settings, "owner@example.com", [photo], [([photo], "failed", "Not added.")], "google_album")
    page = client.get("/jobs").text
    assert drive_id not in page and f"<li>(skipped): {said}</li>" in page
    assert f"<li><code>{path}</code> (skipped)" in page
    assert photo not in page.split("failed or skipped")[-1]
    assert "<li><code>beach.jpg</code> (failed): Not added.</li>" in page


def test_a_cancelled_card_follows_what_was_under_way_then_lists_what_failed(client, api, settings, monkeypatch):
    """The card said "cancelled · 1 done" and stopped, while the photos already being described went on to
    "5 done"; the failed items showed only after a reload; and "Retry failed" did not say it would also go on
    with the items the cancel left (browser review)."""
    from app.routes import events

    monkeypatch.setattr(events, "SETTLING_SECONDS", 1.5)
    keys = ["trip/a.jpg", "trip/b.jpg", "trip/c.jpg", "trip/d.jpg", "trip/e.jpg"]
    job_id = job_with_items(settings, "owner@example.com", keys, [(keys[:1], "failed", "could not be read")])
    token = _signed_in(client)
    htmx = {"hx-request": "true", "x-csrftoken": token}

    card = client.post(f"/jobs/{job_id}/cancel", headers=htmx).text
    assert 'sse-connect="/jobs/' in card and "what was under way when you cancelled finishes" in card
    job_with_items_marked(settings, job_id, keys[1:2], "done")  # a task that had started before the cancel
    with client.stream("GET", f"/jobs/{job_id}/events") as stream:
        said = "".join(stream.iter_text())
    assert re.search(r"data-done>1<", said) and "event: done" in said  # the count that moved after the cancel

    card = client.get(f"/jobs/{job_id}", headers={"hx-request": "true"}).text
    assert "sse-connect" not in card and "what was under way" not in card
    assert _counts(card) == "1 done, 1 failed of 5, 3 not reached"
    assert "1 item failed or skipped" in card and "(failed): could not be read" in card
    assert "Retry failed, go on with the rest" in card
