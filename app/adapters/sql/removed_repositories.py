"""Recently removed: a photo's row moves between `photos` and `removed_photos` whole, in one statement pair."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.sql.mapping import to_photo
from app.adapters.sql.models import PhotoRow, RemovedPhotoRow, UserRow
from app.adapters.sql.repositories import ID_CHUNK
from app.domain.cursors import decode_cursor, encode_cursor
from app.domain.errors import Conflict
from app.domain.model import Photo, RemovedPhoto
from app.domain.ports import RemovedPage, Restored

PHOTO_COLUMNS = tuple(PhotoRow.__table__.columns.keys())


class SqlRemovedPhotoRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(
        self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID], removed_at: dt.datetime, job_id: uuid.UUID | None
    ) -> list[uuid.UUID]:
        if not await self._hold_account(user_id):
            return []
        moved: list[uuid.UUID] = []
        for start in range(0, len(photo_ids), ID_CHUNK):
            # the delete comes first and says what it took: a photo two removals reach at once moves once
            chunk = photo_ids[start : start + ID_CHUNK]
            taken = delete(PhotoRow).where(PhotoRow.user_id == user_id, PhotoRow.id.in_(chunk))
            rows = (await self.session.execute(taken.returning(*PhotoRow.__table__.columns))).mappings().all()
            if rows:
                extra = {"removed_at": removed_at, "removal_job_id": job_id}
                await self.session.execute(insert(RemovedPhotoRow), [{**row, **extra} for row in rows])
            moved.extend(row["id"] for row in rows)
        return moved

    async def wanted(
        self,
        user_id: uuid.UUID,
        photo_ids: Sequence[uuid.UUID] | None = None,
        job_id: uuid.UUID | None = None,
        up_to: dt.datetime | None = None,
    ) -> list[uuid.UUID]:
        chosen = None if photo_ids is None else set(photo_ids)
        mine = select(RemovedPhotoRow.id).where(RemovedPhotoRow.user_id == user_id)
        if job_id is not None:
            mine = mine.where(RemovedPhotoRow.removal_job_id == job_id)
        if up_to is not None:
            mine = mine.where(RemovedPhotoRow.removed_at <= up_to)
        ordered = await self.session.scalars(mine.order_by(RemovedPhotoRow.removed_at.desc(), RemovedPhotoRow.id))
        return [photo_id for photo_id in ordered if chosen is None or photo_id in chosen]

    async def restore(self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]) -> Restored:
        if not await self._hold_account(user_id) or not photo_ids:
            return Restored([], [])
        free, clashing = await self._free(user_id, photo_ids)
        left: list[Photo] = []
        if clashing:
            stay = select(RemovedPhotoRow).where(RemovedPhotoRow.id.in_(clashing))
            left = [to_photo(row) for row in await self.session.scalars(stay)]
        taken = delete(RemovedPhotoRow).where(RemovedPhotoRow.user_id == user_id, RemovedPhotoRow.id.in_(free))
        rows = (await self.session.execute(taken.returning(*_photo_columns(RemovedPhotoRow)))).mappings().all()
        if not rows:
            return Restored([], left)
        try:
            await self.session.execute(insert(PhotoRow), [dict(row) for row in rows])
        except IntegrityError:  # the same picture imported as it was being put back
            raise Conflict("A photo being put back was imported again meanwhile; try again.") from None
        returned = select(PhotoRow).where(PhotoRow.id.in_([row["id"] for row in rows]))
        return Restored([to_photo(row) for row in await self.session.scalars(returned)], left)

    async def _free(
        self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]
    ) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        """Those of the removed photos that can go back, and those that cannot: their picture or source item is
        in the library again, or in a photo put back before them (the most recently removed goes back)."""
        in_library = await self._clashing(user_id, photo_ids)
        candidates = select(
            RemovedPhotoRow.id, RemovedPhotoRow.sha256, RemovedPhotoRow.source, RemovedPhotoRow.source_id
        )
        candidates = candidates.where(RemovedPhotoRow.id.in_(photo_ids))
        ordered = await self.session.execute(candidates.order_by(RemovedPhotoRow.removed_at.desc(), RemovedPhotoRow.id))
        free, clashing, pictures, items = [], [], set(), set()
        for photo_id, sha256, source, source_id in ordered:
            item = (source, source_id) if source_id else None
            if photo_id in in_library or sha256 in pictures or (item is not None and item in items):
                clashing.append(photo_id)
                continue
            free.append(photo_id)
            pictures.add(sha256)
            if item is not None:
                items.add(item)
        return free, clashing

    async def _hold_account(self, user_id: uuid.UUID) -> bool:
        """Hold the account's row, shared, before moving photos: the row the moved photos will refer to is
        then taken before any photo's, as deleting the account takes them (otherwise, on PostgreSQL, the two
        could each wait for the other). False when the account is gone."""
        mine = select(UserRow.id).where(UserRow.id == user_id).with_for_update(key_share=True)
        return await self.session.scalar(mine) is not None

    async def _clashing(self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of the removed photos whose picture or source item is in the library again (imported since)."""
        library = PhotoRow.__table__.alias("library")
        same = or_(
            library.c.sha256 == RemovedPhotoRow.sha256,
            and_(library.c.source == RemovedPhotoRow.source, library.c.source_id == RemovedPhotoRow.source_id),
        )
        query = (
            select(RemovedPhotoRow.id)
            .join(library, and_(library.c.user_id == RemovedPhotoRow.user_id, same))
            .where(RemovedPhotoRow.user_id == user_id, RemovedPhotoRow.id.in_(photo_ids))
        )
        return set(await self.session.scalars(query))

    async def page(self, user_id: uuid.UUID, limit: int, cursor: str | None) -> RemovedPage:
        query = select(RemovedPhotoRow).where(RemovedPhotoRow.user_id == user_id)
        if cursor:
            at, after_id = decode_cursor(cursor)
            # a plain tuple on the right, so each value is bound as its column's type (on SQLite, the id as
            # the 16 bytes it is stored as: bound as text, it never compared, and a batch's photos, removed at
            # one instant, were cut off after the first page)
            query = query.where(tuple_(RemovedPhotoRow.removed_at, RemovedPhotoRow.id) < (at, after_id))
        query = query.order_by(RemovedPhotoRow.removed_at.desc(), RemovedPhotoRow.id.desc()).limit(limit + 1)
        rows = list(await self.session.scalars(query))
        next_cursor = encode_cursor(rows[limit - 1].removed_at, rows[limit - 1].id) if len(rows) > limit else None
        return RemovedPage([_removed(row) for row in rows[:limit]], next_cursor)

    async def get(self, user_id: uuid.UUID, photo_id: uuid.UUID) -> RemovedPhoto | None:
        row = await self.session.get(RemovedPhotoRow, photo_id)
        return _removed(row) if row is not None and row.user_id == user_id else None

    async def summary(self, user_id: uuid.UUID) -> tuple[int, int]:
        query = select(func.count(), func.coalesce(func.sum(RemovedPhotoRow.file_size), 0))
        count, size = (await self.session.execute(query.where(RemovedPhotoRow.user_id == user_id))).one()
        return int(count), int(size)

    async def removals_in_bin(self, user_id: uuid.UUID, job_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        query = select(RemovedPhotoRow.removal_job_id).distinct()
        query = query.where(RemovedPhotoRow.user_id == user_id, RemovedPhotoRow.removal_job_id.in_(job_ids))
        return set(await self.session.scalars(query))

    async def newest_removal(self, user_id: uuid.UUID) -> dt.datetime | None:
        newest = select(func.max(RemovedPhotoRow.removed_at)).where(RemovedPhotoRow.user_id == user_id)
        return await self.session.scalar(newest)

    async def discard(
        self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID] | None = None, up_to: dt.datetime | None = None
    ) -> list[str]:
        if photo_ids is None:
            mine = RemovedPhotoRow.user_id == user_id
            return await self._discard(mine if up_to is None else and_(mine, RemovedPhotoRow.removed_at <= up_to))
        keys: list[str] = []
        for start in range(0, len(photo_ids), ID_CHUNK):
            chunk = photo_ids[start : start + ID_CHUNK]
            keys += await self._discard(and_(RemovedPhotoRow.user_id == user_id, RemovedPhotoRow.id.in_(chunk)))
        return keys

    async def discard_expired(self, before: dt.datetime, limit: int) -> list[str]:
        oldest = select(RemovedPhotoRow.id).where(RemovedPhotoRow.removed_at < before).limit(limit)
        return await self._discard(RemovedPhotoRow.id.in_(oldest.scalar_subquery()))

    async def _discard(self, condition: Any) -> list[str]:
        taken = delete(RemovedPhotoRow).where(condition).returning(RemovedPhotoRow.storage_key)
        return list(await self.session.scalars(taken))


def _photo_columns(table: Any) -> list[Any]:
    return [table.__table__.c[name] for name in PHOTO_COLUMNS]


def _removed(row: RemovedPhotoRow) -> RemovedPhoto:
    return RemovedPhoto(to_photo(row), row.removed_at, row.removal_job_id)
