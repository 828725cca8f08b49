"""The JSON API's query parameters as its OpenAPI document describes them: their values and ranges.

Described, not enforced by Litestar: the services check them and answer a 422 that names the value, where
Litestar's own check would answer a bare 400 (as `schemas.documented` does for the bodies' fields).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar.params import Parameter

from app.adapters.imaging import RENDITION_SIZES
from app.domain.categories import Category, Order
from app.domain.errors import InvalidInput
from app.domain.model import PhotoSource
from app.domain.services.export import NAMINGS
from app.domain.services.jobs import MAX_RECENT
from app.domain.services.photos import MAX_PAGE
from app.domain.services.similar import CHOICES, MAX_LIMIT


def described(description: str, **schema: Any) -> Any:
    return Parameter(description=description, required=False, schema_extra=schema)


TabQuery = Annotated[
    str, described("The tab: all, blurred, not_blurred or unprocessed.", enum=[c.value for c in Category])
]
SortQuery = Annotated[
    str,
    described(
        "newest (by arrival), blurriest or sharpest (by blur score; unscored last).", enum=[o.value for o in Order]
    ),
]
PageLimit = Annotated[int, described(f"How many on a page, 1 to {MAX_PAGE}.", minimum=1, maximum=MAX_PAGE)]
JobsLimit = Annotated[int, described(f"How many jobs, 1 to {MAX_RECENT}.", minimum=1, maximum=MAX_RECENT)]
GroupsLimit = Annotated[int, described(f"How many groups, 1 to {MAX_LIMIT}.", minimum=1, maximum=MAX_LIMIT)]
SourceQuery = Annotated[str | None, described("Only the photos from this source.", enum=[s.value for s in PhotoSource])]
NamesQuery = Annotated[
    str, described("original file names, or names from the AI descriptions (date first).", enum=list(NAMINGS))
]
SimilarQuery = Annotated[
    str, described("all photos, or only the sharpest of each group of similar shots.", enum=list(CHOICES))
]
SizeQuery = Annotated[
    str, described("A rendition (thumb, medium) or the original file.", enum=[*RENDITION_SIZES, "original"])
]


def parse_category(value: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        raise InvalidInput("filter must be one of all, blurred, not_blurred, unprocessed.") from None


def parse_order(value: str) -> Order:
    try:
        return Order(value)
    except ValueError:
        raise InvalidInput("sort must be one of newest, blurriest, sharpest.") from None


def parse_source(value: str | None) -> str | None:
    """A source to narrow to, or None; a blank one is no filter, as `PhotoFilter.of` reads it."""
    if value is None or not value.strip() or value.strip() in set(PhotoSource):
        return value
    raise InvalidInput(f"source must be one of {', '.join(s.value for s in PhotoSource)}.")
