"""Fingerprints of photos, for similar shots: what the grouping reads, and the backlog of photos without one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.sql.mapping import to_photo
from app.adapters.sql.models import PhotoRow
from app.domain.grouping import Shot
from app.domain.model import Photo

UNREADABLE = ""  # a thumb that could not be read: no fingerprint, and not asked again


class SqlSimilarRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def shots(self, user_id: uuid.UUID) -> list[Shot]:
        """Every photo of the user that has a fingerprint, as the grouping needs it (no details, no tags)."""
        stmt = select(PhotoRow.id, PhotoRow.fingerprint, PhotoRow.taken_at, PhotoRow.created_at, PhotoRow.blur_score)
        stmt = stmt.where(PhotoRow.user_id == user_id, PhotoRow.fingerprint.is_not(None))
        rows = await self.session.execute(stmt.where(PhotoRow.fingerprint != UNREADABLE))
        return [Shot(*row) for row in rows]

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
