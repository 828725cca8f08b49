"""Rows as CSV for spreadsheets, streamed as the blocks of rows come.

UTF-8 with a byte-order mark, since Excel reads a file as UTF-8 only with one, and no cell that a
spreadsheet would run as a formula: file names and captions come from people and from a model, and a name
such as `=HYPERLINK(...)` would otherwise be a live formula when the list is opened (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Sequence

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # shown as typed, never evaluated
    return value


async def csv_stream(columns: Sequence[str], blocks: AsyncIterable[Sequence[Sequence[object]]]) -> AsyncIterator[bytes]:
    """The header, then each block of rows as it comes: a chunk a block."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(columns)
    async for rows in blocks:
        writer.writerows([_cell(value) for value in row] for row in rows)
        yield _drain(buffer)
    if buffer.tell():  # no rows: the header alone
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data
