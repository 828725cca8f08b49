"""The vision cache (by image hash and model) and the log of paid calls that the budget counts."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.sql.models import PhotoRow, UserRow, VisionCallRow, VisionResultRow
from app.adapters.sql.unless_there import insert_unless_there
from app.domain.vision import VisionResult


class SqlVisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def cached(self, sha256: str, model: str) -> VisionResult | None:
        row = await self.session.scalar(
            select(VisionResultRow).where(VisionResultRow.sha256 == sha256, VisionResultRow.model == model)
        )
        if row is None:
            return None
        return VisionResult(tuple(row.tags), row.caption, row.proposed_name, row.subject)

    async def remember(self, sha256: str, model: str, result: VisionResult, *, replace: bool = False) -> None:
        """Keep the answer for every copy of the image; `replace` puts it in place of an earlier one."""
        answer = {"tags": list(result.tags), "caption": result.caption, "proposed_name": result.proposed_name,
                  "subject": result.subject}  # fmt: skip
        key = (VisionResultRow.sha256 == sha256, VisionResultRow.model == model)
        if replace and (await self.session.execute(update(VisionResultRow).where(*key).values(**answer))).rowcount:
            return
        # the same image described concurrently: the first answer stays
        await self.session.execute(
            insert_unless_there(self.session, VisionResultRow, {"sha256": sha256, "model": model, **answer})
        )

    async def record_call(self, user_id: uuid.UUID, photo_id: uuid.UUID) -> uuid.UUID:
        row = VisionCallRow(user_id=user_id, photo_id=photo_id)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def forget_call(self, call_id: uuid.UUID) -> None:
        await self.session.execute(delete(VisionCallRow).where(VisionCallRow.id == call_id))

    async def calls_since(self, user_id: uuid.UUID, since: dt.datetime) -> int:
        count = await self.session.scalar(
            select(func.count()).where(VisionCallRow.user_id == user_id, VisionCallRow.created_at >= since)
        )
        return int(count or 0)

    async def describe_photo(self, photo_id: uuid.UUID, result: VisionResult) -> None:
        await self.session.execute(
            update(PhotoRow)
            .where(PhotoRow.id == photo_id)
            .values(tags=list(result.tags), caption=result.caption, proposed_name=result.proposed_name)
        )

    async def set_monthly_limit(self, user_id: uuid.UUID, limit: int | None) -> None:
        await self.session.execute(update(UserRow).where(UserRow.id == user_id).values(vision_monthly_limit=limit))
