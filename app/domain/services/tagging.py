"""Describing photos with a vision model: once per image, within each person's monthly budget."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from app.domain.categories import Category, TabAsShown
from app.domain.errors import Conflict, InvalidInput, NotFound, PayloadRejected
from app.domain.model import NO_FILTER, Job, JobStatus, Photo, PhotoFilter, User
from app.domain.ports import TaskQueue, UowFactory
from app.domain.services.photos import chosen_photos
from app.domain.vision import VisionResult, month_start, next_month

__all__ = ["VisionResult"]

TAG_BATCH = "tag_photos"
TAG_TASK = "tag_photo"


class Describer(Protocol):
    model: str
    configured: bool

    async def describe(self, jpeg: bytes) -> VisionResult: ...


class BudgetExhausted(PayloadRejected):
    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(429, detail)
        self.retry_after = retry_after  # seconds until the month's allowance starts again


class AiOff(Conflict):
    """AI tagging is not set up on this server, or turned off for this person (a limit of 0).

    A 409, not a 503: nothing is down, the request conflicts with how this server or account is set up.
    """


@dataclass(frozen=True)
class Budget:
    limit: int
    used: int
    resets_on: dt.date

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


def limit_for(user: User, server_default: int) -> int:
    return server_default if user.vision_monthly_limit is None else user.vision_monthly_limit


async def budget(user: User, *, uow: UowFactory, server_default: int, now: dt.datetime) -> Budget:
    async with uow() as tx:
        used = await tx.vision.calls_since(user.id, month_start(now))
    return Budget(limit_for(user, server_default), used, next_month(now))


MAX_MONTHLY_LIMIT = 100_000


async def set_monthly_limit(user: User, limit: int, *, uow: UowFactory) -> int:
    if not 0 <= limit <= MAX_MONTHLY_LIMIT:
        raise InvalidInput(f"The monthly AI limit must be between 0 (AI off) and {MAX_MONTHLY_LIMIT}.")
    async with uow() as tx:
        await tx.vision.set_monthly_limit(user.id, limit)
        await tx.commit()
    return limit


async def tag_photo(
    user: User,
    photo_id: uuid.UUID,
    *,
    uow: UowFactory,
    describer: Describer,
    preview: Callable[[Photo], Awaitable[bytes]],
    server_default: int,
    now: dt.datetime,
    again: bool = False,
) -> VisionResult:
    """Tags, caption and name for one photo. A cached answer for the same image costs nothing, unless the
    person asks `again`: then the model describes this photo afresh, a call from the budget, and the new
    answer replaces the cached one for copies of the image described later (not for those described
    already: they keep what their owners saw)."""
    async with uow() as tx:
        photo = await tx.photos.get(user.id, photo_id)
        if photo is None:
            raise NotFound("No such photo.")
        if not describer.configured:
            raise AiOff("AI tagging is not set up on this server.")
        cached = None if again else await tx.vision.cached(photo.sha256, describer.model)
        if cached is not None:
            await tx.vision.describe_photo(photo.id, cached)
            await tx.commit()
            return cached
    call = await _reserve_call(user, photo, uow=uow, server_default=server_default, now=now)
    try:
        result = await describer.describe(await preview(photo))
    except Exception:
        async with uow() as tx:  # no answer, no charge: the reserved call goes
            await tx.vision.forget_call(call)
            await tx.commit()
        raise
    async with uow() as tx:
        await tx.vision.remember(photo.sha256, describer.model, result, replace=again)
        await tx.vision.describe_photo(photo.id, result)
        await tx.commit()
    return result


async def _reserve_call(
    user: User, photo: Photo, *, uow: UowFactory, server_default: int, now: dt.datetime
) -> uuid.UUID:
    """Count the call before it is made, one at a time per account, so that a batch's tasks running side by
    side cannot all see the last call left and go past the limit (a limit of 12 used to end at 14)."""
    limit = limit_for(user, server_default)
    _refuse_when_spent(limit, 0, now)
    async with uow() as tx:
        # The account's row first (PostgreSQL: the reservations of one account wait for each other), as its
        # deletion does; then the call's row, which on SQLite takes the write lock before the count.
        await tx.users.lock(user.id)
        call = await tx.vision.record_call(user.id, photo.id)
        # the count holds this call too; a refusal rolls the transaction back, so nothing stays reserved
        _refuse_when_spent(limit, await tx.vision.calls_since(user.id, month_start(now)) - 1, now)
        await tx.commit()
    return call


def _refuse_when_spent(limit: int, used: int, now: dt.datetime) -> None:
    if limit == 0:
        raise AiOff("AI tagging is turned off for your account (monthly limit 0); change it in Settings.")
    if used >= limit:
        renewed = dt.datetime.combine(next_month(now), dt.time(), tzinfo=dt.UTC)
        raise BudgetExhausted(
            f"You have used all {limit} AI descriptions for this month; "
            f"more from {next_month(now).isoformat()}, or raise your limit in Settings.",
            retry_after=max(1.0, (renewed - now).total_seconds()),
        )


async def start_tag_batch(
    user: User,
    photo_ids: list[uuid.UUID] | None,
    *,
    uow: UowFactory,
    queue: TaskQueue,
    describer: Describer,
    server_default: int,
    now: dt.datetime,
    only: PhotoFilter = NO_FILTER,
    as_shown: TabAsShown | None = None,
) -> Job:
    """Tag the chosen photos, or by default the keepers (scored and not blurred at the person's threshold)
    that `only` lets through: the ones a filtered gallery shows (and, with `as_shown`, as many as it showed:
    each call spends the person's AI budget). Refused at once when no call is left this month; a batch bigger
    than what is left tags that many and skips the rest, each saying why."""
    if not describer.configured:
        raise AiOff("AI tagging is not set up on this server.")
    allowance = await budget(user, uow=uow, server_default=server_default, now=now)
    _refuse_when_spent(allowance.limit, allowance.used, now)
    async with uow() as tx:
        if photo_ids is None:
            chosen = list(await tx.photos.calls_in_category(user.id, Category.NOT_BLURRED, user.blur_threshold, only))
            if as_shown is not None:
                nothing = "Nothing was tagged; reload the page, then tag."
                as_shown.check(Category.NOT_BLURRED, user.blur_threshold, len(chosen), nothing, "your keepers")
        else:
            chosen = await chosen_photos(tx, user.id, photo_ids)
        keys = [str(p) for p in chosen]
        job = await tx.jobs.add(user.id, TAG_BATCH, len(keys), {}, keys)
        if not keys:
            job = await tx.jobs.set_status(job.id, JobStatus.DONE, job.created_at)
        await tx.commit()
    for key in keys:
        await queue.enqueue(TAG_TASK, str(job.id), key, job_id=f"job:{job.id}:{key}")
    return job
