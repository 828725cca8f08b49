"""The one place that picks adapters: settings in, a Container of wired ports out."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.adapters.arq_queue import ArqQueue
from app.adapters.crypto import TokenCipher
from app.adapters.drive import GoogleDrive
from app.adapters.dropbox import DropboxSharedLinks
from app.adapters.folders import LocalFolders
from app.adapters.google import GoogleApi
from app.adapters.imaging import ImageLimits
from app.adapters.login_attempts import LoggedLoginAttempts, RedisLoginAttempts
from app.adapters.offload import ProcessOffload
from app.adapters.passwords import Argon2Passwords
from app.adapters.photo_processing import PillowImageInspector, ProcessBlurScorer, VisionPreviews
from app.adapters.queue import InProcessQueue
from app.adapters.sql.unit_of_work import SqlUnitOfWork
from app.adapters.storage import LocalPhotoStorage
from app.adapters.tokens import JwtAccessTokens
from app.adapters.vision import OpenAIVision
from app.domain.ports import (
    AccessTokens,
    BlurScorer,
    ImageInspector,
    LoginAttempts,
    PasswordHasher,
    PhotoStorage,
    TaskQueue,
    UowFactory,
)
from app.domain.services.imports import FolderReader
from app.domain.throttle import ACCOUNT_LIMIT, LoginThrottle
from app.jobs.tasks import FUNCTIONS
from app.settings import Settings


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    uow: UowFactory
    passwords: PasswordHasher
    tokens: AccessTokens
    storage: PhotoStorage
    images: ImageInspector
    scorer: BlurScorer
    queue: TaskQueue
    folders: FolderReader
    google: GoogleApi
    vision: OpenAIVision
    drive: GoogleDrive
    dropbox: DropboxSharedLinks
    previews: Any
    offload: Any
    clock: Callable[[], dt.datetime] = utc_now
    logins: LoginAttempts = field(default_factory=LoginThrottle)
    account_logins: LoginAttempts = field(default_factory=lambda: LoginThrottle(ACCOUNT_LIMIT))
    # Set when the server is told to stop: open progress streams end, so the stop does not wait on them.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Whether the first-run page may create the owner: only on a server listening on its own machine, as
    # on a public address the first visitor, anyone, would take the server (the CLI makes it there).
    first_run_page: bool = True

    async def close(self) -> None:
        if isinstance(self.queue, InProcessQueue):
            await self.queue.stop()
        elif hasattr(self.queue, "close"):
            await self.queue.close()
        await self.google.aclose()
        await self.vision.aclose()
        await self.drive.aclose()
        await self.dropbox.aclose()
        if hasattr(self.offload, "close"):  # waits for the scoring in hand: off the event loop
            await asyncio.to_thread(self.offload.close)
        await self.engine.dispose()


def make_engine(settings: Settings) -> AsyncEngine:
    # JSON kept as written ("café", not "caf\u00e9"): a tag is looked for in the JSON's text (_narrowed)
    as_written = functools.partial(json.dumps, ensure_ascii=False)
    if not settings.is_sqlite:
        return create_async_engine(settings.database_url, pool_pre_ping=True, pool_size=10, json_serializer=as_written)
    engine = create_async_engine(settings.database_url, connect_args={"timeout": 30}, json_serializer=as_written)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def bootstrap(settings: Settings, **overrides: Any) -> Container:
    engine = overrides.pop("engine", None) or make_engine(settings)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    cipher = TokenCipher(settings.secret_key)
    offload = overrides.pop("offload", None) or ProcessOffload(settings.score_workers)
    limits = ImageLimits(
        max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels, max_side=settings.max_side
    )
    parts: dict[str, Any] = {
        "uow": lambda: SqlUnitOfWork(sessions, cipher),
        "passwords": Argon2Passwords(),
        "tokens": JwtAccessTokens(settings.secret_key),
        "storage": LocalPhotoStorage(settings.data_dir, reserve_bytes=settings.min_free_bytes),
        "images": PillowImageInspector(limits, offload, score_on_intake=settings.run_worker),
        "scorer": ProcessBlurScorer(offload),
        "folders": LocalFolders(settings.import_root),
        "google": GoogleApi(settings),
        "drive": GoogleDrive(settings.root("google_drive_api"), settings.google_api_key),
        "dropbox": DropboxSharedLinks(
            settings.root("dropbox_api"),
            settings.root("dropbox_content_api"),
            settings.dropbox_app_key,
            settings.dropbox_app_secret,
        ),
        "vision": OpenAIVision(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            model=settings.vision_model,
            timeout=settings.vision_timeout,
        ),
    }
    if settings.redis_url:
        parts["queue"] = ArqQueue(settings.redis_url)
        queue = parts["queue"]  # counted across every web process, in the queue's Redis
        parts["logins"] = RedisLoginAttempts(queue.pool, away=queue.unreachable)
        parts["account_logins"] = RedisLoginAttempts(queue.pool, ACCOUNT_LIMIT, away=queue.unreachable)
    else:
        parts["queue"] = InProcessQueue(FUNCTIONS, concurrency=max(2, getattr(offload, "workers", 2) * 2))
    parts["logins"] = LoggedLoginAttempts(parts.get("logins") or LoginThrottle())
    parts["account_logins"] = LoggedLoginAttempts(
        parts.get("account_logins") or LoginThrottle(ACCOUNT_LIMIT), log_failures=False
    )
    parts.update(overrides)
    parts.setdefault("previews", VisionPreviews(parts["storage"], parts["images"], offload, parts["uow"]))
    return Container(settings=settings, engine=engine, offload=offload, **parts)
