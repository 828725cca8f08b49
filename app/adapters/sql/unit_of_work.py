"""One transaction over every repository; routes and jobs share this code path."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.adapters.crypto import TokenCipher
from app.adapters.sql.google_repositories import SqlAlbumRepository, SqlPickerSessionRepository
from app.adapters.sql.repositories import (
    SqlApiSessionRepository,
    SqlJobRepository,
    SqlOAuthTokenRepository,
    SqlPhotoRepository,
    SqlUserRepository,
)
from app.adapters.sql.similar_repositories import SqlSimilarRepository
from app.adapters.sql.vision_repositories import SqlVisionRepository


class SqlUnitOfWork:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], cipher: TokenCipher) -> None:
        self._session_factory = session_factory
        self._cipher = cipher

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        self.users = SqlUserRepository(self.session)
        self.api_sessions = SqlApiSessionRepository(self.session)
        self.photos = SqlPhotoRepository(self.session)
        self.jobs = SqlJobRepository(self.session)
        self.oauth = SqlOAuthTokenRepository(self.session, self._cipher)
        self.pickers = SqlPickerSessionRepository(self.session)
        self.albums = SqlAlbumRepository(self.session)
        self.vision = SqlVisionRepository(self.session)
        self.similar = SqlSimilarRepository(self.session)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.rollback()  # a no-op after commit; undoes whatever a failure left behind
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()
