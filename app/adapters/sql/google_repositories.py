"""Rows for the Google features: picker sessions and the albums Classify created."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.sql.models import AlbumRow, PickerSessionRow
from app.domain.ports import AlbumRecord, PickerRecord


def _picker(row: PickerSessionRow) -> PickerRecord:
    return PickerRecord(row.google_session_id, row.user_id, row.picker_uri, row.poll_interval, row.job_id)


class SqlPickerSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user_id: uuid.UUID, session_id: str, picker_uri: str, poll_interval: float) -> PickerRecord:
        row = PickerSessionRow(
            user_id=user_id, google_session_id=session_id, picker_uri=picker_uri, poll_interval=poll_interval
        )
        self.session.add(row)
        await self.session.flush()
        return _picker(row)

    async def get(self, user_id: uuid.UUID, session_id: str) -> PickerRecord | None:
        row = await self.session.scalar(
            select(PickerSessionRow).where(
                PickerSessionRow.user_id == user_id, PickerSessionRow.google_session_id == session_id
            )
        )
        return _picker(row) if row else None

    async def set_job(self, session_id: str, job_id: uuid.UUID) -> bool:
        done = await self.session.execute(
            update(PickerSessionRow)
            .where(PickerSessionRow.google_session_id == session_id, PickerSessionRow.job_id.is_(None))
            .values(job_id=job_id)
        )
        return done.rowcount == 1

    async def remove_unpicked(self, user_id: uuid.UUID, session_id: str) -> bool:
        gone = await self.session.execute(
            delete(PickerSessionRow).where(
                PickerSessionRow.user_id == user_id,
                PickerSessionRow.google_session_id == session_id,
                PickerSessionRow.job_id.is_(None),
            )
        )
        return gone.rowcount == 1


class SqlAlbumRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user_id: uuid.UUID, google_album_id: str, title: str, product_url: str) -> None:
        self.session.add(
            AlbumRow(user_id=user_id, google_album_id=google_album_id, title=title, product_url=product_url)
        )
        await self.session.flush()

    async def set_count(self, google_album_id: str, photo_count: int) -> None:
        await self.session.execute(
            update(AlbumRow).where(AlbumRow.google_album_id == google_album_id).values(photo_count=photo_count)
        )

    async def recent(self, user_id: uuid.UUID, limit: int = 10) -> list[AlbumRecord]:
        rows = await self.session.scalars(
            select(AlbumRow).where(AlbumRow.user_id == user_id).order_by(AlbumRow.created_at.desc()).limit(limit)
        )
        return [AlbumRecord(r.title, r.product_url or "", r.photo_count, r.created_at) for r in rows]
