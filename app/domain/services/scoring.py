"""Scoring a stored photo: the imperative shell around the pure blur core."""

from __future__ import annotations

import datetime as dt
import uuid

from app.domain.ports import BlurScorer, PhotoStorage, UowFactory


class Undecodable(Exception):
    """The photo's bytes cannot be decoded for scoring; the message says why."""


async def score_photo(
    photo_id: uuid.UUID, *, uow: UowFactory, storage: PhotoStorage, scorer: BlurScorer, now: dt.datetime
) -> bool:
    """Score one photo once. Returns False when it could not be scored (the reason is kept on the photo)."""
    async with uow() as tx:
        photo = await tx.photos.get_any(photo_id)
    if photo is None or photo.blur_score is not None:
        return photo is not None  # deleted meanwhile, or already scored by an earlier run: nothing to do
    try:
        outcome = await scorer.score(storage.original_path(photo.storage_key), photo.filename)
    except Undecodable as exc:
        async with uow() as tx:
            await tx.photos.save_error(photo_id, str(exc))
            await tx.commit()
        return False
    async with uow() as tx:
        await tx.photos.save_score(photo_id, outcome, now)
        await tx.commit()
    return True
