"""Fingerprints of photos, for similar shots: what the grouping reads, and the backlog of photos without one."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.sql.mapping import to_photo
from app.adapters.sql.models import PhotoRow, RemovedPhotoRow
from app.domain.grouping import Shot, SimilarGroup, similar_groups
from app.domain.model import Photo

UNREADABLE = ""  # a thumb that could not be read: no fingerprint, and not asked again
CACHED_USERS = 16
_SHOTS: dict[uuid.UUID, tuple[tuple, list[Shot]]] = {}  # user -> (version of their photos, their shots)
_GROUPS: dict[uuid.UUID, tuple[list[Shot], list[SimilarGroup]]] = {}  # user -> (the shots, their groups)


def _version(user_id: uuid.UUID) -> Select:
    """What moves when the groups may change: a photo added, removed, put back or fingerprinted.

    Not a score, a mark, a tag: the groups are made of fingerprints and times alone, and what a page shows of
    a score or a mark is read with its photos (so a batch scoring or tagging does not make them again). A
    photo put back keeps its time, so the library's figures alone read the same after one photo is removed
    and another put back: Recently removed's count and latest removal tell them apart.
    """
    counts = func.count(), func.count(PhotoRow.fingerprint)
    binned = RemovedPhotoRow.user_id == user_id
    in_bin = select(func.count()).where(binned).scalar_subquery()
    last_removed = select(func.max(RemovedPhotoRow.removed_at)).where(binned).scalar_subquery()
    return select(*counts, func.max(PhotoRow.created_at), in_bin, last_removed).where(PhotoRow.user_id == user_id)


def _shots(user_id: uuid.UUID) -> Select:
    stmt = select(
        PhotoRow.id,
        PhotoRow.fingerprint,
        PhotoRow.taken_at,
        PhotoRow.created_at,
        PhotoRow.blur_score,
        PhotoRow.marked_as,
    )
    stmt = stmt.where(PhotoRow.user_id == user_id, PhotoRow.fingerprint.is_not(None))
    return stmt.where(PhotoRow.fingerprint != UNREADABLE)


class SqlSimilarRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def shots(self, user_id: uuid.UUID) -> list[Shot]:
        """Every photo of the user that has a fingerprint, as the grouping needs it (no details, no tags).

        Read through the connection, not the ORM session: these are plain columns, and the ORM's row
        handling doubled the cost (10,000 rows in SQLite: 150 ms through the session, 65 ms without it).
        Kept in this process while the user's photos stay the same ones, since the Similar shots page reads
        them for every page of groups: a kept shot's score and mark are as they were when it was read, and
        the callers take the current ones from the photos they load (`Shot.as_now`). Whether the photos are
        the same ones, one aggregate over the user's rows reads (`_version`).
        """
        version = tuple((await self.session.execute(_version(user_id))).one())
        cached = _SHOTS.get(user_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        shots = await self._read(_shots(user_id))
        _keep(_SHOTS, user_id, (version, shots))
        return shots

    async def groups(self, user_id: uuid.UUID) -> list[SimilarGroup]:
        """The groups of `shots`, made once for each version of them (25 ms for 10,000 shots): paging through
        them then costs one page of photos. Their best shots are as of the read (see `shots`)."""
        shots = await self.shots(user_id)
        cached = _GROUPS.get(user_id)
        if cached is not None and cached[0] is shots:
            return cached[1]
        groups = similar_groups(shots)
        _keep(_GROUPS, user_id, (shots, groups))
        return groups

    async def shots_near(
        self, user_id: uuid.UUID, taken_at: dt.datetime | None, added_at: dt.datetime, window: dt.timedelta
    ) -> list[Shot]:
        """The user's shots taken within `window` of `taken_at`; without it, those without a capture time that
        came in within `window` of `added_at`."""
        if taken_at is not None:
            near = PhotoRow.taken_at.between(taken_at - window, taken_at + window)
        else:
            near = PhotoRow.taken_at.is_(None) & PhotoRow.created_at.between(added_at - window, added_at + window)
        return await self._read(_shots(user_id).where(near))

    async def _read(self, stmt: Select) -> list[Shot]:
        connection = await self.session.connection()
        return [Shot(*row) for row in await connection.execute(stmt)]

    async def photos(self, user_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Photo]:
        if not ids:
            return []
        rows = await self.session.scalars(select(PhotoRow).where(PhotoRow.user_id == user_id, PhotoRow.id.in_(ids)))
        return [to_photo(r) for r in rows]

    async def pending(self, user_id: uuid.UUID) -> int:
        """Photos of the user still waiting for a fingerprint."""
        stmt = select(func.count()).where(PhotoRow.user_id == user_id, PhotoRow.fingerprint.is_(None))
        return int(await self.session.scalar(stmt) or 0)

    async def backlog(self, limit: int) -> list[tuple[uuid.UUID, str]]:
        """(id, storage key) of photos of anyone without a fingerprint, oldest first."""
        stmt = select(PhotoRow.id, PhotoRow.storage_key).where(PhotoRow.fingerprint.is_(None))
        rows = await self.session.execute(stmt.order_by(PhotoRow.created_at, PhotoRow.id).limit(limit))
        return [(row.id, row.storage_key) for row in rows]

    async def set_fingerprint(self, photo_id: uuid.UUID, fingerprint: str | None) -> None:
        value = UNREADABLE if fingerprint is None else fingerprint
        await self.session.execute(update(PhotoRow).where(PhotoRow.id == photo_id).values(fingerprint=value))


def _keep(cache: dict, user_id: uuid.UUID, entry: tuple) -> None:
    """Keep `entry` for the user, and at most CACHED_USERS users: the one kept longest goes first."""
    cache.pop(user_id, None)
    if len(cache) >= CACHED_USERS:
        cache.pop(next(iter(cache)))
    cache[user_id] = entry
