"""Repositories over one AsyncSession; the unit of work decides when to commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Select, and_, case, delete, exists, func, literal_column, or_, select, tuple_, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.crypto import TokenCipher
from app.adapters.sql.mapping import to_job, to_photo, to_user
from app.adapters.sql.models import (
    ApiSessionRow,
    JobItemRow,
    JobRow,
    OAuthTokenRow,
    PhotoRow,
    RemovedPhotoRow,
    UserRow,
)
from app.adapters.sql.unless_there import insert_unless_there
from app.domain.categories import Category, CategoryCounts, Order
from app.domain.cursors import decode_cursor, decode_score_cursor, encode_cursor, encode_score_cursor
from app.domain.errors import Conflict
from app.domain.google import TokenSet
from app.domain.model import NO_FILTER, Job, NewPhoto, Photo, PhotoFilter, User
from app.domain.ports import PhotoPage, ScoreOutcome, StoredTokens

log = structlog.get_logger("classify.db")
FIRST_RUN_LOCK = 0x636C617373696679  # "classify": the advisory lock key of the first-run form


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        row = await self.session.get(UserRow, user_id)
        return to_user(row) if row else None

    async def by_email(self, email: str) -> User | None:
        row = await self.session.scalar(select(UserRow).where(UserRow.email == email.strip().lower()))
        return to_user(row) if row else None

    async def hold(self, user_id: uuid.UUID) -> None:
        # PostgreSQL: the user's row stays locked until this transaction ends. SQLite has no row locks and
        # needs none: it runs one writing transaction at a time.
        await self.session.execute(select(UserRow.id).where(UserRow.id == user_id).with_for_update())

    async def add(self, email: str, password_hash: str | None, name: str | None) -> User:
        row = UserRow(email=email.strip().lower(), password_hash=password_hash, name=name)
        self.session.add(row)
        await self.session.flush()
        return to_user(row)

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(UserRow)) or 0)

    async def hold_first_run(self) -> None:
        if self.session.get_bind().dialect.name == "postgresql":
            # READ COMMITTED lets two transactions both count no account; this lock makes the second wait
            await self.session.execute(select(func.pg_advisory_xact_lock(FIRST_RUN_LOCK)))
        else:
            # SQLite reads outside a transaction until the first write; an empty write opens it first
            await self.session.execute(update(UserRow).where(UserRow.id.is_(None)).values(name=None))

    async def set_threshold(self, user_id: uuid.UUID, threshold: float) -> None:
        await self.session.execute(update(UserRow).where(UserRow.id == user_id).values(blur_threshold=threshold))

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self.session.execute(update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash))

    async def end_browser_sessions(self, user_id: uuid.UUID) -> None:
        epoch = UserRow.session_epoch
        await self.session.execute(update(UserRow).where(UserRow.id == user_id).values(session_epoch=epoch + 1))

    async def lock(self, user_id: uuid.UUID) -> bool:
        """Hold the account's row until the transaction ends (new rows that refer to it wait); False when
        there is no such account."""
        query = select(UserRow.id).where(UserRow.id == user_id).with_for_update()
        return await self.session.scalar(query) is not None

    async def delete(self, user_id: uuid.UUID) -> None:
        # the foreign keys cascade (SQLite with PRAGMA foreign_keys=ON, set in bootstrap)
        await self.session.execute(delete(UserRow).where(UserRow.id == user_id))

    async def by_google_sub(self, sub: str) -> User | None:
        row = await self.session.scalar(select(UserRow).where(UserRow.google_sub == sub))
        return to_user(row) if row else None

    async def link_google(self, user_id: uuid.UUID, sub: str, name: str | None, picture: str | None) -> None:
        row = await self.session.get(UserRow, user_id)
        assert row is not None
        row.google_sub, row.picture_url = sub, picture
        row.name = row.name or name
        await self.session.flush()

    async def touch_login(self, user_id: uuid.UUID, now: dt.datetime) -> None:
        await self.session.execute(update(UserRow).where(UserRow.id == user_id).values(last_login_at=now))


class SqlApiSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user_id: uuid.UUID, refresh_token_hash: str, expires_at: dt.datetime) -> uuid.UUID:
        row = ApiSessionRow(user_id=user_id, refresh_token_hash=refresh_token_hash, expires_at=expires_at)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def by_refresh_hash(self, refresh_token_hash: str) -> tuple[uuid.UUID, uuid.UUID, dt.datetime] | None:
        row = await self.session.scalar(
            select(ApiSessionRow).where(
                ApiSessionRow.refresh_token_hash == refresh_token_hash, ApiSessionRow.revoked_at.is_(None)
            )
        )
        return (row.id, row.user_id, row.expires_at) if row else None

    async def rotate(self, session_id: uuid.UUID, refresh_token_hash: str, expires_at: dt.datetime) -> None:
        await self.session.execute(
            update(ApiSessionRow)
            .where(ApiSessionRow.id == session_id)
            .values(refresh_token_hash=refresh_token_hash, expires_at=expires_at)
        )

    async def is_live(self, session_id: uuid.UUID, now: dt.datetime) -> bool:
        found = await self.session.scalar(
            select(ApiSessionRow.id).where(
                ApiSessionRow.id == session_id,
                ApiSessionRow.revoked_at.is_(None),
                ApiSessionRow.expires_at > now,
            )
        )
        return found is not None

    async def revoke(self, session_id: uuid.UUID, now: dt.datetime) -> None:
        await self.session.execute(update(ApiSessionRow).where(ApiSessionRow.id == session_id).values(revoked_at=now))

    async def revoke_all(self, user_id: uuid.UUID, now: dt.datetime, keep: uuid.UUID | None = None) -> int:
        live = _live_sessions(user_id, now)
        if keep is not None:
            live &= ApiSessionRow.id != keep
        ended = await self.session.execute(update(ApiSessionRow).where(live).values(revoked_at=now))
        return ended.rowcount or 0

    async def count_live(self, user_id: uuid.UUID, now: dt.datetime) -> int:
        return int(await self.session.scalar(select(func.count()).where(_live_sessions(user_id, now))) or 0)


def _live_sessions(user_id: uuid.UUID, now: dt.datetime) -> Any:
    return (ApiSessionRow.user_id == user_id) & ApiSessionRow.revoked_at.is_(None) & (ApiSessionRow.expires_at > now)


def _not_through(job_id: uuid.UUID) -> Any:
    return (JobItemRow.job_id == job_id) & JobItemRow.status.in_(("failed", "skipped"))


ID_CHUNK = 1000  # ids a query: under SQLite's and asyncpg's limits on bound parameters


def _mine(user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]) -> Any:
    return (PhotoRow.user_id == user_id) & PhotoRow.id.in_(photo_ids)


@dataclass(frozen=True)
class _Ordering:
    """A gallery order as SQL: a key (arrival time, or the blur score with unscored photos last) and the id,
    compared as a row value so that a page seeks to its cursor (with a range on the key in front, for SQLite)."""

    order: Order

    @property
    def descending(self) -> bool:
        return self.order is not Order.SHARPEST

    @property
    def key(self) -> Any:
        if self.order is Order.NEWEST:
            return PhotoRow.created_at
        # the unscored value as a literal, not a bound parameter, so the databases see the indexed expression
        return func.coalesce(PhotoRow.blur_score, literal_column(repr(self._unscored)))

    @property
    def _unscored(self) -> float:
        return -1.0 if self.descending else 2.0  # past either end of [0, 1], so unscored photos come last

    def key_of(self, created_at: dt.datetime, blur_score: float | None) -> Any:
        if self.order is Order.NEWEST:
            return created_at
        return self._unscored if blur_score is None else blur_score

    def after(self, key: Any, photo_id: uuid.UUID) -> Any:
        """What comes after (key, id) in this order."""
        return self._beyond(key, photo_id, down=self.descending)

    def before(self, key: Any, photo_id: uuid.UUID) -> Any:
        return self._beyond(key, photo_id, down=not self.descending)

    def _beyond(self, key: Any, photo_id: uuid.UUID, *, down: bool) -> Any:
        row = tuple_(self.key, PhotoRow.id)
        if self.order is Order.NEWEST:
            return row < (key, photo_id) if down else row > (key, photo_id)
        # SQLite seeks an expression index (the score orders) only on a plain range of the expression: with the
        # row value alone it walked the person's photos from the start (0.5 s a step at 100,000 photos)
        return and_(self.key <= key, row < (key, photo_id)) if down else and_(self.key >= key, row > (key, photo_id))

    def sorted(self, stmt: Select, *, reverse: bool = False) -> Select:
        down = self.descending != reverse
        return stmt.order_by(*(c.desc() if down else c.asc() for c in (self.key, PhotoRow.id)))

    def encode(self, row: PhotoRow) -> str:
        if self.order is Order.NEWEST:
            return encode_cursor(row.created_at, row.id)
        return encode_score_cursor(self.key_of(row.created_at, row.blur_score), row.id)

    def decode(self, cursor: str) -> tuple[Any, uuid.UUID]:
        return decode_cursor(cursor) if self.order is Order.NEWEST else decode_score_cursor(cursor)


def _tab(stmt: Select, user_id: uuid.UUID, category: Category, threshold: float, only: PhotoFilter) -> Select:
    """`stmt` over the photos a gallery tab shows: the user's, of `category` at `threshold`, as filtered."""
    return _narrowed(stmt.where(PhotoRow.user_id == user_id, _category_clause(category, threshold)), only)


def _narrowed(stmt: Select, only: PhotoFilter) -> Select:
    """Only the photos from `only.source`, carrying `only.tag`, whose caption or file name contains `only.query`."""
    if only.source:
        stmt = stmt.where(PhotoRow.source == only.source)
    if only.tag:
        # Tags are stored as a JSON list of lowercase words; match the quoted word in its text form.
        tags = func.lower(func.cast(PhotoRow.tags, _text_type()))
        stmt = stmt.where(tags.contains(f'"{only.tag.lower()}"', autoescape=True))
    if only.query:
        # autoescape: a % or _ typed in the search box is that character, not LIKE's wildcard
        words = only.query.lower()
        stmt = stmt.where(
            or_(
                func.lower(PhotoRow.caption).contains(words, autoescape=True),
                func.lower(PhotoRow.filename).contains(words, autoescape=True),
            )
        )
    return stmt


def _category_clause(category: Category, threshold: float) -> Any:
    """Where a photo belongs (categories.category_of): the person's mark decides, and the score where none."""
    unmarked = PhotoRow.marked_as.is_(None)
    return {
        Category.ALL: True,
        Category.BLURRED: or_(PhotoRow.marked_as == "blurred", unmarked & (PhotoRow.blur_score >= threshold)),
        Category.NOT_BLURRED: or_(PhotoRow.marked_as == "sharp", unmarked & (PhotoRow.blur_score < threshold)),
        Category.UNPROCESSED: unmarked & PhotoRow.blur_score.is_(None),
    }[category]


class SqlPhotoRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID, photo_id: uuid.UUID) -> Photo | None:
        row = await self.session.scalar(select(PhotoRow).where(PhotoRow.id == photo_id, PhotoRow.user_id == user_id))
        return to_photo(row) if row else None

    async def get_any(self, photo_id: uuid.UUID) -> Photo | None:
        row = await self.session.get(PhotoRow, photo_id)
        return to_photo(row) if row else None

    async def by_sha256(self, user_id: uuid.UUID, sha256: str) -> Photo | None:
        row = await self.session.scalar(select(PhotoRow).where(PhotoRow.user_id == user_id, PhotoRow.sha256 == sha256))
        return to_photo(row) if row else None

    async def by_content_hash(self, user_id: uuid.UUID, content_hash: str) -> Photo | None:
        stmt = select(PhotoRow).where(PhotoRow.user_id == user_id, PhotoRow.content_hash == content_hash)
        row = await self.session.scalar(stmt.limit(1))
        return to_photo(row) if row else None

    async def unhashed_of_size(self, user_id: uuid.UUID, size: int) -> list[Photo]:
        """The user's photos of `size` bytes whose content hash is not kept yet."""
        stmt = select(PhotoRow).where(
            PhotoRow.user_id == user_id, PhotoRow.file_size == size, PhotoRow.content_hash.is_(None)
        )
        return [to_photo(row) for row in await self.session.scalars(stmt)]

    async def set_content_hash(self, photo_id: uuid.UUID, content_hash: str) -> None:
        await self.session.execute(update(PhotoRow).where(PhotoRow.id == photo_id).values(content_hash=content_hash))

    async def by_source_id(self, user_id: uuid.UUID, source: str, source_id: str) -> Photo | None:
        row = await self.session.scalar(
            select(PhotoRow).where(
                PhotoRow.user_id == user_id, PhotoRow.source == source, PhotoRow.source_id == source_id
            )
        )
        return to_photo(row) if row else None

    async def add(self, photo: NewPhoto, score: ScoreOutcome | None = None, now: dt.datetime | None = None) -> Photo:
        scored = {} if score is None else _score_values(score, now)
        values = {
            "user_id": photo.user_id,
            "source": photo.source,
            "source_id": photo.source_id,
            "filename": photo.filename,
            "mime_type": photo.mime_type,
            "width": photo.width,
            "height": photo.height,
            "file_size": photo.file_size,
            "sha256": photo.sha256,
            "storage_key": photo.storage_key,
            "taken_at": photo.taken_at,
            "flags": list(photo.flags),
            "fingerprint": photo.fingerprint,
            "tags": [],
            **scored,
        }
        added = insert_unless_there(self.session, PhotoRow, values).returning(PhotoRow)
        row = (await self.session.execute(added)).scalar_one_or_none()
        if row is None:
            raise Conflict("This photo is already in Classify.")
        return to_photo(row)

    async def owned(self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        found: set[uuid.UUID] = set()
        for start in range(0, len(photo_ids), ID_CHUNK):
            chunk = photo_ids[start : start + ID_CHUNK]
            found.update(await self.session.scalars(select(PhotoRow.id).where(_mine(user_id, chunk))))
        return found

    async def filenames(self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        named: dict[uuid.UUID, str] = {}
        for start in range(0, len(photo_ids), ID_CHUNK):
            chunk = photo_ids[start : start + ID_CHUNK]
            rows = await self.session.execute(select(PhotoRow.id, PhotoRow.filename).where(_mine(user_id, chunk)))
            named.update((photo_id, name) for photo_id, name in rows)
        return named

    async def set_marks(self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID], marked_as: str | None) -> None:
        for start in range(0, len(photo_ids), ID_CHUNK):
            chunk = photo_ids[start : start + ID_CHUNK]
            await self.session.execute(update(PhotoRow).where(_mine(user_id, chunk)).values(marked_as=marked_as))

    async def page(
        self,
        user_id: uuid.UUID,
        category: Category,
        threshold: float,
        limit: int,
        cursor: str | None,
        only: PhotoFilter = NO_FILTER,
        order: Order = Order.NEWEST,
    ) -> PhotoPage:
        stmt = _tab(select(PhotoRow), user_id, category, threshold, only)
        ordering = _Ordering(order)
        if cursor:
            stmt = stmt.where(ordering.after(*ordering.decode(cursor)))
        rows = list(await self.session.scalars(ordering.sorted(stmt).limit(limit + 1)))
        next_cursor = ordering.encode(rows[limit - 1]) if len(rows) > limit else None
        return PhotoPage([to_photo(r) for r in rows[:limit]], next_cursor)

    async def neighbours(
        self,
        user_id: uuid.UUID,
        photo: Photo,
        category: Category,
        threshold: float,
        order: Order = Order.NEWEST,
        only: PhotoFilter = NO_FILTER,
    ) -> tuple[uuid.UUID | None, uuid.UUID | None]:
        """The photos just before and after `photo` in the gallery's order of `category`, as filtered."""
        base = _tab(select(PhotoRow.id), user_id, category, threshold, only)
        ordering = _Ordering(order)
        here = ordering.key_of(photo.created_at, photo.blur_score), photo.id
        before = await self.session.scalar(ordering.sorted(base.where(ordering.before(*here)), reverse=True).limit(1))
        after = await self.session.scalar(ordering.sorted(base.where(ordering.after(*here))).limit(1))
        return before, after

    async def place(
        self,
        user_id: uuid.UUID,
        photo: Photo,
        category: Category,
        threshold: float,
        order: Order = Order.NEWEST,
        only: PhotoFilter = NO_FILTER,
    ) -> tuple[int, int] | None:
        """Where `photo` stands in the gallery's order of `category`, as filtered: (its place from 1, how many);
        None when it is not one of them (marked into another tab since it was opened)."""
        base = _tab(select(func.count()), user_id, category, threshold, only)
        if not await self.session.scalar(base.where(PhotoRow.id == photo.id)):
            return None
        ordering = _Ordering(order)
        here = ordering.key_of(photo.created_at, photo.blur_score), photo.id
        ahead = await self.session.scalar(base.where(ordering.before(*here)))
        return int(ahead or 0) + 1, int(await self.session.scalar(base) or 0)

    async def counts(
        self,
        user_id: uuid.UUID,
        threshold: float,
        only: PhotoFilter = NO_FILTER,
    ) -> CategoryCounts:
        def tally(category: Category) -> Any:
            return func.coalesce(func.sum(case((_category_clause(category, threshold), 1), else_=0)), 0)

        stmt = select(func.count(), tally(Category.BLURRED), tally(Category.UNPROCESSED))
        stmt = _narrowed(stmt.where(PhotoRow.user_id == user_id), only)
        total, n_blurred, n_unprocessed = (await self.session.execute(stmt)).one()
        total, n_blurred, n_unprocessed = int(total), int(n_blurred), int(n_unprocessed)
        return CategoryCounts(total, n_blurred, total - n_blurred - n_unprocessed, n_unprocessed)

    async def marked_scores(self, user_id: uuid.UUID) -> list[tuple[float, bool]]:
        """(score, marked blurred) of each scored photo the person marked."""
        stmt = select(PhotoRow.blur_score, PhotoRow.marked_as).where(
            PhotoRow.user_id == user_id, PhotoRow.marked_as.is_not(None), PhotoRow.blur_score.is_not(None)
        )
        return [(float(score), mark == "blurred") for score, mark in await self.session.execute(stmt)]

    async def scores(self, user_id: uuid.UUID) -> list[float]:
        rows = await self.session.scalars(
            select(PhotoRow.blur_score).where(PhotoRow.user_id == user_id, PhotoRow.blur_score.is_not(None))
        )
        return [float(s) for s in rows]

    async def in_category(
        self,
        user_id: uuid.UUID,
        category: Category,
        threshold: float,
        only: PhotoFilter = NO_FILTER,
    ) -> list[Photo]:
        stmt = _tab(select(PhotoRow), user_id, category, threshold, only).order_by(PhotoRow.created_at, PhotoRow.id)
        return [to_photo(r) for r in await self.session.scalars(stmt)]

    async def calls_in_category(
        self, user_id: uuid.UUID, category: Category, threshold: float, only: PhotoFilter = NO_FILTER
    ) -> dict[uuid.UUID, tuple[float | None, str | None]]:
        stmt = _tab(select(PhotoRow.id, PhotoRow.blur_score, PhotoRow.marked_as), user_id, category, threshold, only)
        connection = await self.session.connection()  # plain columns: no ORM rows
        return {row.id: (row.blur_score, row.marked_as) for row in await connection.execute(stmt)}

    # The library and Recently removed are read in one statement, which sees both as of one moment: read one
    # after the other, a photo put back (or removed) between the two reads was in neither, and its files went.

    async def storage_keys(self, user_id: uuid.UUID) -> list[str]:
        keys = union_all(*(select(t.storage_key).where(t.user_id == user_id) for t in (PhotoRow, RemovedPhotoRow)))
        return list(await self.session.scalars(keys))

    async def all_storage_keys(self) -> set[str]:
        return set(
            await self.session.scalars(union_all(select(PhotoRow.storage_key), select(RemovedPhotoRow.storage_key)))
        )

    async def is_kept(self, user_id: uuid.UUID, photo_id: uuid.UUID) -> bool:
        kept = [exists().where(t.id == photo_id, t.user_id == user_id) for t in (PhotoRow, RemovedPhotoRow)]
        return bool(await self.session.scalar(select(or_(*kept))))

    async def unprocessed_ids(self, user_id: uuid.UUID | None = None, *, with_errors: bool = False) -> list[uuid.UUID]:
        stmt = select(PhotoRow.id).where(PhotoRow.blur_score.is_(None))
        if user_id is not None:
            stmt = stmt.where(PhotoRow.user_id == user_id)
        if not with_errors:
            stmt = stmt.where(PhotoRow.error.is_(None))
        return list(await self.session.scalars(stmt.order_by(PhotoRow.created_at)))

    async def bytes_stored(self, user_id: uuid.UUID) -> int:
        # Recently removed's files are on the disk still: they count until they go (one statement, one moment)
        sizes = (
            select(func.coalesce(func.sum(t.file_size), 0)).where(t.user_id == user_id)
            for t in (PhotoRow, RemovedPhotoRow)
        )
        library, removed = (q.scalar_subquery() for q in sizes)
        return int(await self.session.scalar(select(library + removed)) or 0)

    async def save_score(self, photo_id: uuid.UUID, outcome: ScoreOutcome, now: dt.datetime) -> None:
        # Only the first result is kept: a task that runs twice cannot overwrite a score with another one.
        await self.session.execute(
            update(PhotoRow)
            .where(PhotoRow.id == photo_id, PhotoRow.blur_score.is_(None))
            .values(**_score_values(outcome, now))
        )

    async def save_error(self, photo_id: uuid.UUID, error: str) -> None:
        await self.session.execute(
            update(PhotoRow).where(PhotoRow.id == photo_id, PhotoRow.blur_score.is_(None)).values(error=error)
        )

    async def stats(self, user_id: uuid.UUID, since: dt.datetime) -> dict[str, float | int | None]:
        """Each figure from its own index (one aggregate over all four read every row of the library: half a
        second at 100,000 photos); an error is kept only on a photo not scored (save_error)."""
        mine = PhotoRow.user_id == user_id
        scored_since = select(func.count()).where(mine, PhotoRow.scored_at >= since)
        failed = select(func.count()).where(mine, PhotoRow.blur_score.is_(None), PhotoRow.error.is_not(None))
        average_ms = select(func.avg(PhotoRow.processing_ms)).where(mine)
        total_bytes = select(func.sum(PhotoRow.file_size)).where(mine)
        row = (
            await self.session.execute(
                select(*(q.scalar_subquery() for q in (scored_since, average_ms, failed, total_bytes)))
            )
        ).one()
        return {
            "scored_today": int(row[0] or 0),
            "average_processing_ms": float(row[1]) if row[1] is not None else None,
            "errors": int(row[2] or 0),
            "total_bytes": int(row[3] or 0),
        }


def _text_type() -> Any:
    from sqlalchemy import Text

    return Text()


class SqlJobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, user_id: uuid.UUID, kind: str, total: int, payload: dict[str, Any], item_keys: Sequence[str]
    ) -> Job:
        row = JobRow(user_id=user_id, kind=kind, total=total, payload=payload, result={})
        self.session.add(row)
        await self.session.flush()
        self.session.add_all(JobItemRow(job_id=row.id, item_key=key) for key in item_keys)
        await self.session.flush()
        return to_job(row)

    async def get(self, user_id: uuid.UUID, job_id: uuid.UUID) -> Job | None:
        row = await self.session.scalar(select(JobRow).where(JobRow.id == job_id, JobRow.user_id == user_id))
        return to_job(row) if row else None

    async def get_any(self, job_id: uuid.UUID) -> Job | None:
        row = await self.session.get(JobRow, job_id, populate_existing=True)
        return to_job(row) if row else None

    async def recent(self, user_id: uuid.UUID, limit: int, before: Job | None = None) -> list[Job]:
        stmt = select(JobRow).where(JobRow.user_id == user_id)
        if before is not None:
            stmt = stmt.where(tuple_(JobRow.created_at, JobRow.id) < (before.created_at, before.id))
        rows = await self.session.scalars(stmt.order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit))
        return [to_job(r) for r in rows]

    async def pending_items(self, job_id: uuid.UUID) -> list[str]:
        rows = await self.session.scalars(
            select(JobItemRow.item_key).where(JobItemRow.job_id == job_id, JobItemRow.status == "queued")
        )
        return list(rows)

    async def waiting_for(self, item_key: str, kind: str) -> list[uuid.UUID]:
        """The unfinished jobs of this kind with this item still to do."""
        rows = await self.session.scalars(
            select(JobItemRow.job_id)
            .join(JobRow, JobRow.id == JobItemRow.job_id)
            .where(JobItemRow.item_key == item_key, JobItemRow.status == "queued", JobRow.kind == kind)
            .where(JobRow.status.in_(("queued", "running")))
        )
        return list(rows)

    async def is_pending(self, job_id: uuid.UUID, item_key: str) -> bool:
        query = select(JobItemRow.id).where(
            JobItemRow.job_id == job_id, JobItemRow.item_key == item_key, JobItemRow.status == "queued"
        )
        return await self.session.scalar(query) is not None

    async def failed_items(self, job_id: uuid.UUID, limit: int | None = None) -> list[tuple[str, str, str | None]]:
        """(item, "failed" or "skipped", why) for the items that did not go through, the first `limit` of them."""
        rows = await self.session.execute(
            select(JobItemRow.item_key, JobItemRow.status, JobItemRow.error)
            .where(_not_through(job_id))
            .order_by(JobItemRow.item_key)
            .limit(limit)
        )
        return [(key, status, error) for key, status, error in rows]

    async def count_failed_items(self, job_id: uuid.UUID) -> int:
        return int(await self.session.scalar(select(func.count()).where(_not_through(job_id))) or 0)

    async def mark_item(
        self, job_id: uuid.UUID, item_key: str, status: str, error: str | None, now: dt.datetime
    ) -> Job | None:
        """Record one item's outcome once; the job's counters follow from the items, so a repeat changes nothing.
        None when the job is gone (its account was deleted, say)."""
        return await self.mark_items(job_id, [item_key], status, error, now)

    async def mark_items(
        self, job_id: uuid.UUID, item_keys: Sequence[str], status: str, error: str | None, now: dt.datetime
    ) -> Job | None:
        if not await self._lock(job_id):
            return None
        # an item done is a job under way, whichever task did it (a photo's own scoring task, for a batch);
        # set here, after the lock: a status written before it made a deletion and this deadlock on PostgreSQL
        running = {JobRow.status: "running", JobRow.started_at: func.coalesce(JobRow.started_at, now)}
        await self.session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == "queued").values(running))
        changed = await self.session.execute(
            update(JobItemRow)
            .where(JobItemRow.job_id == job_id, JobItemRow.item_key.in_(item_keys), JobItemRow.status == "queued")
            .values(status=status, error=error)
        )
        if changed.rowcount:
            # counted by the database: SQLite takes no row lock, and two tasks must not both write the same sum
            count = changed.rowcount
            if status == "failed":
                counts = {JobRow.failed: JobRow.failed + count}
            else:  # a skipped item is handled too: done + failed still reach the total
                counts = {JobRow.done: JobRow.done + count}
                if status == "skipped":
                    counts[JobRow.skipped] = JobRow.skipped + count
            await self.session.execute(update(JobRow).where(JobRow.id == job_id).values(counts))
        return await self._finish_if_complete(job_id, now)

    async def _lock(self, job_id: uuid.UUID) -> bool:
        """Lock the job's row before any of its items (False when the job is gone): a deletion, of the job or
        of its account through the foreign keys, takes the job and then its items, and PostgreSQL stops one of
        two transactions that take them in opposite orders as a deadlock. SQLite writes one at a time."""
        query = select(JobRow.id).where(JobRow.id == job_id).with_for_update()
        return await self.session.scalar(query) is not None

    async def _finish_if_complete(self, job_id: uuid.UUID, now: dt.datetime) -> Job | None:
        row = await self.session.get(JobRow, job_id, populate_existing=True)
        if row is None:  # deleted since it was locked: SQLite's lock is no lock (an account deleted mid-import)
            return None
        if row.status in ("queued", "running") and row.done + row.failed >= row.total:
            row.status = "done"
            row.finished_at = now
            await self.session.flush()
        return to_job(row)

    async def set_status(self, job_id: uuid.UUID, status: str, now: dt.datetime, error: str | None = None) -> Job:
        row = await self.session.get(JobRow, job_id, populate_existing=True)
        assert row is not None
        if row.status == "paused" and status in ("queued", "running"):
            row.error = None  # why it paused (Google to reconnect) is no longer so
        row.status = status
        if status == "running" and row.started_at is None:
            row.started_at = now
        if status in ("done", "failed", "cancelled"):
            row.finished_at = now
        if error is not None:
            row.error = error
        await self.session.flush()
        return to_job(row)

    async def set_waiting(self, job_id: uuid.UUID, until: dt.datetime, reason: str) -> None:
        await self.session.execute(
            update(JobRow).where(JobRow.id == job_id).values(waiting_until=until, waiting_reason=reason)
        )

    async def requeue_failed(self, job_id: uuid.UUID) -> int:
        """The job's failed items queued again, and the job with them (its error and end gone), also when none
        failed: a job that stopped part-way goes on with the items it never reached. How many were requeued."""
        if not await self._lock(job_id):
            return 0
        changed = await self.session.execute(
            update(JobItemRow)
            .where(JobItemRow.job_id == job_id, JobItemRow.status == "failed")
            .values(status="queued", error=None)
        )
        count = changed.rowcount or 0
        await self.session.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(failed=JobRow.failed - count, status="queued", finished_at=None, error=None)
        )
        return count

    async def set_items(self, job_id: uuid.UUID, item_keys: Sequence[str]) -> None:
        """Add the items not there yet (a re-run lists them again) and make the total match."""
        if not await self._lock(job_id):
            return
        known = set(await self.session.scalars(select(JobItemRow.item_key).where(JobItemRow.job_id == job_id)))
        self.session.add_all(JobItemRow(job_id=job_id, item_key=k) for k in dict.fromkeys(item_keys) if k not in known)
        await self.session.flush()
        total = await self.session.scalar(select(func.count()).where(JobItemRow.job_id == job_id))
        await self.session.execute(update(JobRow).where(JobRow.id == job_id).values(total=total))

    async def set_result(self, job_id: uuid.UUID, result: dict[str, Any]) -> None:
        await self.session.execute(update(JobRow).where(JobRow.id == job_id).values(result=result))

    async def set_payload(self, job_id: uuid.UUID, payload: dict[str, Any]) -> None:
        await self.session.execute(update(JobRow).where(JobRow.id == job_id).values(payload=payload))

    async def paused_for(self, user_id: uuid.UUID) -> list[Job]:
        rows = await self.session.scalars(select(JobRow).where(JobRow.user_id == user_id, JobRow.status == "paused"))
        return [to_job(r) for r in rows]

    async def unfinished(self) -> list[Job]:
        rows = await self.session.scalars(select(JobRow).where(JobRow.status.in_(("queued", "running"))))
        return [to_job(r) for r in rows]


class SqlOAuthTokenRepository:
    """Provider tokens, sealed with the cipher before they reach a row and opened only when read."""

    def __init__(self, session: AsyncSession, cipher: TokenCipher) -> None:
        self.session = session
        self.cipher = cipher

    async def get(self, user_id: uuid.UUID, provider: str) -> StoredTokens | None:
        row = await self._row(user_id, provider)
        if row is None:
            return None
        place = _token_place(user_id, provider)
        try:
            access = self.cipher.decrypt(row.access_token, place) if row.access_token else None
            refresh = self.cipher.decrypt(row.refresh_token, place) if row.refresh_token else None
        except ValueError as exc:
            # the server's secret key changed, or the row was altered or copied from another account's:
            # the account connects again rather than failing every call that needs the provider
            log.warning("stored tokens cannot be opened", user_id=str(user_id), provider=provider, reason=str(exc))
            return StoredTokens(None, None, None, row.scope or "", "reconnect")
        return StoredTokens(access, refresh, row.expires_at, row.scope or "", row.status)

    async def save(self, user_id: uuid.UUID, provider: str, tokens: TokenSet) -> None:
        row = await self._row(user_id, provider)
        if row is None:
            row = OAuthTokenRow(user_id=user_id, provider=provider)
            self.session.add(row)
        place = _token_place(user_id, provider)
        row.access_token = self.cipher.encrypt(tokens.access_token, place)
        if tokens.refresh_token:  # Google sends a refresh token only on the first consent: keep the old one
            row.refresh_token = self.cipher.encrypt(tokens.refresh_token, place)
        row.expires_at = tokens.expires_at
        # Google's answer lists every scope the grant holds now (include_granted_scopes): it replaces what was
        # kept, so a permission taken back (a revoked grant, a box unticked at reconnect) is not still claimed
        if tokens.scope.strip():
            row.scope = " ".join(sorted(set(tokens.scope.split())))
        row.status = "connected"
        await self.session.flush()

    async def set_status(self, user_id: uuid.UUID, provider: str, status: str) -> None:
        await self.session.execute(
            update(OAuthTokenRow)
            .where(OAuthTokenRow.user_id == user_id, OAuthTokenRow.provider == provider)
            .values(status=status)
        )

    async def delete(self, user_id: uuid.UUID, provider: str) -> None:
        await self.session.execute(
            delete(OAuthTokenRow).where(OAuthTokenRow.user_id == user_id, OAuthTokenRow.provider == provider)
        )

    async def _row(self, user_id: uuid.UUID, provider: str) -> OAuthTokenRow | None:
        return await self.session.scalar(
            select(OAuthTokenRow).where(OAuthTokenRow.user_id == user_id, OAuthTokenRow.provider == provider)
        )


def _token_place(user_id: uuid.UUID, provider: str) -> str:
    return f"{user_id}:{provider}"


def _score_values(outcome: ScoreOutcome, now: dt.datetime | None) -> dict[str, Any]:
    return {
        "blur_score": outcome.blur_score,
        "blur_kind": outcome.blur_kind,
        "blur_details": outcome.details,
        "processing_ms": outcome.processing_ms,
        "scored_at": now,
        "error": None,
    }
