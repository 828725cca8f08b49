"""Similar shots: a person's groups a page at a time, and fingerprints for photos that came in before them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.domain.cursors import decode_cursor, encode_cursor
from app.domain.errors import InvalidInput, NotFound
from app.domain.grouping import SimilarGroup, similar_groups
from app.domain.model import Photo, User
from app.domain.ports import ImageInspector, PhotoStorage, UowFactory

MAX_LIMIT = 100
BACKLOG_BATCH = 200
NEAR = dt.timedelta(minutes=10)  # how far from a photo its group is looked for (see group_of)
Call = tuple[float | None, str | None]  # a photo's blur score and the person's mark on it
CHOICES = ("all", "sharpest")  # what an export or album takes of similar shots: all of them, or the sharpest


@dataclass(frozen=True)
class GroupView:
    photos: list[Photo]  # in the order they were taken
    best_id: uuid.UUID | None  # the one to keep (grouping.SimilarGroup.best); None while none of them is scored

    @property
    def settled(self) -> bool:
        """Every shot scored: only then is the best one sure to be the sharpest of them all."""
        return all(photo.blur_score is not None for photo in self.photos)

    @property
    def picks(self) -> list[Photo]:
        """The shots the person marked sharp: never removed by a keep-one action."""
        return [photo for photo in self.photos if photo.marked_as == "sharp"]

    @property
    def picked(self) -> bool:
        """The one to keep is the person's own pick (a shot they marked sharp), not only the lowest score."""
        return any(photo.id == self.best_id for photo in self.picks)

    @property
    def removable(self) -> list[Photo]:
        """What "keep the one to keep" removes: every other shot but the person's picks."""
        return [photo for photo in self.photos if photo.id != self.best_id and photo.marked_as != "sharp"]

    def best_name(self, threshold: float) -> str:
        """What the one to keep is called: the person's pick, the sharpest, or when every shot is blurred at the
        threshold, the least blurred (calling a blurred shot "the sharpest" read as if it were sharp)."""
        if self.picked:
            return "your pick"
        best = next((photo for photo in self.photos if photo.id == self.best_id), None)
        return "the least blurred" if best is not None and best.is_blurred_at(threshold) else "the sharpest"

    def blurred_at(self, threshold: float) -> list[Photo]:
        """The shots blurred at this threshold, or marked blurred by the person, less the one to keep."""
        return [photo for photo in self.photos if photo.id != self.best_id and photo.is_blurred_at(threshold)]


@dataclass(frozen=True)
class SimilarPage:
    groups: list[GroupView]
    next_cursor: str | None
    total_groups: int
    pending: int  # the person's photos whose fingerprint is still to be taken


async def similar_page(user: User, *, uow: UowFactory, limit: int = 20, cursor: str | None = None) -> SimilarPage:
    """One page of the person's groups of similar shots, the most recent first.

    The repository makes the groups again whenever a photo is added, removed or fingerprinted, so it moves
    them at once, and keeps them otherwise (reading ten thousand shots and grouping them costs about 100 ms,
    bench/bench_similar.py), through scores, marks and tags: each page's best shots go by the scores and
    marks its photos have now. A page goes on after the last group of the one before (by its first
    shot), so photos that arrive while someone pages neither repeat a group nor skip one.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.")
    after = decode_cursor(cursor) if cursor else None
    async with uow() as tx:
        groups = await tx.similar.groups(user.id)
        rest = groups if after is None else [group for group in groups if group.key < after]
        page = rest[:limit]
        wanted = [shot.id for group in page for shot in group.shots]
        found = {photo.id: photo for photo in await tx.similar.photos(user.id, wanted)}
        pending = await tx.similar.pending(user.id)
    views = [_view(group, found) for group in page]
    next_cursor = encode_cursor(*page[-1].key) if len(rest) > limit else None
    return SimilarPage(views, next_cursor, len(groups), pending)


async def page_of(user: User, photo_id: uuid.UUID, *, uow: UowFactory) -> tuple[str | None, uuid.UUID] | None:
    """Where the group holding `photo_id` is on the Similar shots page: the cursor of the page it opens
    (None: the first page) and the id of its first shot, which names its heading; None when the photo is in
    no group now. Someone else's photo is NotFound."""
    async with uow() as tx:
        if await tx.photos.get(user.id, photo_id) is None:
            raise NotFound("No such photo.")
        groups = await tx.similar.groups(user.id)
    for i, group in enumerate(groups):
        if any(shot.id == photo_id for shot in group.shots):
            return (encode_cursor(*groups[i - 1].key) if i else None), group.shots[0].id
    return None


async def group_of(user: User, photo: Photo, *, uow: UowFactory) -> GroupView | None:
    """The group of similar shots that `photo` is part of, or None, for its photo page.

    Only the shots within NEAR of it are grouped, so a photo page costs the same in any size of library;
    a burst of more than ten minutes on end shows the part of it around this photo.
    """
    async with uow() as tx:
        shots = await tx.similar.shots_near(user.id, photo.taken_at, photo.created_at, NEAR)
        group = next((g for g in similar_groups(shots) if any(shot.id == photo.id for shot in g.shots)), None)
        if group is None:
            return None
        found = {p.id: p for p in await tx.similar.photos(user.id, [shot.id for shot in group.shots])}
    return _view(group, found)


def _view(group: SimilarGroup, found: dict[uuid.UUID, Photo]) -> GroupView:
    """The group's photos as loaded (one removed meanwhile is left out), and its best shot by their scores
    and marks as loaded: the group itself may have been kept from before a photo was scored or marked."""
    shots = (
        shot.as_now(found[shot.id].blur_score, found[shot.id].marked_as) for shot in group.shots if shot.id in found
    )
    now = SimilarGroup(tuple(shots))
    return GroupView([found[shot.id] for shot in now.shots], now.best.id if now.best else None)


def check_similar(similar: str) -> None:
    if similar not in CHOICES:
        raise InvalidInput("similar must be 'all' or 'sharpest'.")


async def narrowed(user: User, photos: list[Photo], similar: str, *, uow: UowFactory) -> list[Photo]:
    """`photos` as an export or album takes them: all, or (`similar="sharpest"`) the sharpest of each moment."""
    check_similar(similar)
    return await sharpest_only(user, photos, uow=uow) if similar == "sharpest" else photos


async def sharpest_only(user: User, photos: list[Photo], *, uow: UowFactory) -> list[Photo]:
    """`photos` less the ones with a sharper similar shot among them: of each moment, only its sharpest."""
    lesser = await lesser_shots(user, {photo.id: (photo.blur_score, photo.marked_as) for photo in photos}, uow=uow)
    return [photo for photo in photos if photo.id not in lesser]


async def lesser_shots(user: User, calls: Mapping[uuid.UUID, Call], *, uow: UowFactory) -> set[uuid.UUID]:
    """Of the photos in `calls` (id -> their score and mark now), the ones that are not a keeper of their group.

    The groups are the library's, as the Similar shots page shows them (grouped within these photos alone, a
    burst whose blurred frame was what linked two sharp ones gave both). A group's keepers among these photos
    are the shots marked sharp (every pick, as "Keep your 2 picks" keeps), else the sharpest of them. A shot not
    scored yet is never lesser: it may be the sharpest.
    """
    async with uow() as tx:
        shots = await tx.similar.shots(user.id)
    lesser: set[uuid.UUID] = set()
    for group in similar_groups(shot.as_now(*calls[shot.id]) if shot.id in calls else shot for shot in shots):
        here = SimilarGroup(tuple(shot for shot in group.shots if shot.id in calls))
        picks = {shot.id for shot in here.shots if shot.marked_as == "sharp"}
        keep = picks or ({here.best.id} if here.best else set())
        lesser |= {shot.id for shot in here.shots if shot.id not in keep and shot.blur_score is not None}
    return lesser


async def remove_others(
    owner: uuid.UUID, keep: uuid.UUID, others: list[uuid.UUID], *, uow: UowFactory, clock: Callable[[], dt.datetime]
) -> list[uuid.UUID]:
    """Keep one shot of a group and remove the others to Recently removed (never at their source); the ones that
    went (their Undo puts them back).

    The ids are the ones the person saw, not the group as it is now: a photo added since is not removed
    unseen. One already gone is passed over, so pressing twice is harmless, and so is one marked sharp since
    (in another window): a pick is never removed by keeping another.
    """
    if keep in others:
        raise InvalidInput("The photo to keep cannot also be one to remove.")
    async with uow() as tx:
        if await tx.photos.get(owner, keep) is None:  # someone else's, or removed itself since
            raise NotFound("No such photo.")
        now = [await tx.photos.get(owner, photo_id) for photo_id in dict.fromkeys(others)]
        going = [photo.id for photo in now if photo is not None and photo.marked_as != "sharp"]
        moved = await tx.removed.put(owner, going, clock(), None)
        await tx.commit()
    return moved


async def fill_fingerprints(*, uow: UowFactory, storage: PhotoStorage, images: ImageInspector) -> int:
    """Take the fingerprints of photos that have none yet, from their thumbs; how many were taken.

    New photos get theirs as they come in; this is for the photos stored before similar shots existed,
    and for any whose fingerprint could not be taken then. A thumb that cannot be read is marked so and
    not tried again.
    """
    filled = 0
    while True:
        async with uow() as tx:
            backlog = await tx.similar.backlog(BACKLOG_BATCH)
        if not backlog:
            return filled
        values = [(pid, await images.fingerprint(storage.rendition_path(key, "thumb"))) for pid, key in backlog]
        async with uow() as tx:
            for photo_id, value in values:
                await tx.similar.set_fingerprint(photo_id, value)
            await tx.commit()
        filled += len(values)
