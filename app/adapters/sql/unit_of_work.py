"""One transaction over every repository; routes and jobs share this code path."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.adapters.crypto import TokenCipher
from app.adapters.sql.google_repositories import SqlAlbumRepository, SqlPickerSessionRepository
from app.adapters.sql.outage import is_disk_full
from app.adapters.sql.removed_repositories import SqlRemovedPhotoRepository
from app.adapters.sql.repositories import (
    SqlApiSessionRepository,
    SqlJobRepository,
    SqlOAuthTokenRepository,
    SqlPhotoRepository,
    SqlUserRepository,
)
from app.adapters.sql.similar_repositories import SqlSimilarRepository
from app.adapters.sql.vision_repositories import SqlVisionRepository
from app.domain.errors import Contention, StorageFull

# PostgreSQL's deadlock_detected and serialization_failure: the transaction was stopped, not refused
CONTENTION_STATES = frozenset({"40P01", "40001"})


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
        self.removed = SqlRemovedPhotoRepository(self.session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.session.rollback()  # a no-op after commit; undoes whatever a failure left behind
        await self.session.close()
        if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in CONTENTION_STATES:
            raise Contention() from exc
        if exc is not None and is_disk_full(exc):  # what the caller can say and do something about
            raise StorageFull() from exc

    async def commit(self) -> None:
        await self.session.commit()
