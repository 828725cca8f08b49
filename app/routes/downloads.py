"""Downloads of a gallery tab, for the pages and the API alike: a ZIP of the originals, or a CSV list."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from litestar.response import Stream

from app.adapters.csv_export import csv_stream
from app.adapters.export_copies import without_metadata
from app.adapters.zip_export import zip_stream
from app.domain.categories import Order
from app.domain.model import NO_FILTER, PhotoFilter, User
from app.domain.services import export
from app.routes.deps import ContainerDep
from app.routes.query_params import parse_category


@dataclass(frozen=True)
class ExportQuery:
    """What an export takes, as the gallery tab it comes from shows it."""

    filter: str
    only: PhotoFilter = NO_FILTER
    similar: str = "all"
    order: Order = Order.NEWEST

    def download_name(self, extension: str) -> str:
        """The tab, what narrowed it and the day, so that two downloads of different filters do not collide."""
        only, sharpest = self.only, "sharpest" if self.similar == "sharpest" else None
        narrowed = [f"tag {only.tag}" if only.tag else None, f"search {only.query}" if only.query else None]
        words = " ".join(w for w in (*narrowed, only.source, sharpest) if w)
        slug = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")[:60].rstrip("-")  # a header's name is ASCII
        return f"classify-{self.filter}{'-' + slug if slug else ''}-{dt.date.today().isoformat()}.{extension}"


async def export_response(
    user: User, container: ContainerDep, wanted: ExportQuery, names: str = "original", strip: bool = False
) -> Stream:
    entries = await export.export_entries(
        user,
        parse_category(wanted.filter),
        names,
        uow=container.uow,
        storage=container.storage,
        only=wanted.only,
        similar=wanted.similar,
        order=wanted.order,
    )
    return Stream(
        zip_stream(entries, without_metadata if strip else None),
        media_type="application/zip",
        headers=_download_headers(wanted.download_name("zip")),
    )


async def export_list_response(user: User, container: ContainerDep, wanted: ExportQuery) -> Stream:
    category = parse_category(wanted.filter)
    rows = await export.list_rows(
        user, category, uow=container.uow, only=wanted.only, similar=wanted.similar, order=wanted.order
    )
    return Stream(
        csv_stream(export.LIST_COLUMNS, rows),
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types
        headers=_download_headers(wanted.download_name("csv")),
    )


def _download_headers(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"}
