"""The retry policy's count for a task that walks a job's items: its runs in a row that got nothing further."""

from __future__ import annotations

from app.domain.services.waiting import UPLOADS, tries_since_progress


def test_tries_count_from_the_last_item_done_or_photo_sent(client, api):
    """A long import or album meets a service's limit many times: counted over the whole task, the sixth gave
    up a job that had got past each of the five before. An album adds its photos fifty at a time, so a photo
    sent to Google and not yet added is progress too (a review's album gave up while every run sent one)."""
    container = client.app.state.container
    owner = api.get("/api/v1/auth/me").json()["id"]

    async def scenario() -> list[int]:
        async with container.uow() as tx:
            job = await tx.jobs.add(owner, "google_album", 3, {"title": "t"}, ["a", "b", "c"])
            await tx.commit()
        counts = [await tries_since_progress(job.id, 1, uow=container.uow)]
        counts.append(await tries_since_progress(job.id, 2, uow=container.uow))  # nothing moved
        async with container.uow() as tx:
            current = await tx.jobs.get_any(job.id)
            await tx.jobs.set_payload(job.id, {**current.payload, UPLOADS: {"a": {"token": "x", "at": "t"}}})
            await tx.commit()
        counts.append(await tries_since_progress(job.id, 3, uow=container.uow))  # a photo sent
        counts.append(await tries_since_progress(job.id, 4, uow=container.uow))
        async with container.uow() as tx:  # added to the album: its token goes as it is counted done
            current = await tx.jobs.get_any(job.id)
            await tx.jobs.set_payload(job.id, {**current.payload, UPLOADS: {}})
            await tx.jobs.mark_item(job.id, "a", "done", None, container.clock())
            await tx.commit()
        counts.append(await tries_since_progress(job.id, 5, uow=container.uow))  # not further: sent became done
        counts.append(await tries_since_progress(job.id, 1, uow=container.uow))  # queued afresh (Retry, Go on)
        return counts

    assert client.blocking_portal.call(scenario) == [1, 2, 1, 2, 3, 1]
