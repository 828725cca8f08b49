"""Rows as CSV for spreadsheets, streamed a block of rows at a time.

UTF-8 with a byte-order mark, since Excel reads a file as UTF-8 only with one, and no cell that a
spreadsheet would run as a formula: file names and captions come from people and from a model, and a name
such as `=HYPERLINK(...)` would otherwise be a live formula when the list is opened (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BLOCK = 500  # rows a chunk


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # shown as typed, never evaluated
    return value


async def csv_stream(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(columns)
    for start in range(0, len(rows), BLOCK):
        writer.writerows([_cell(value) for value in row] for row in rows[start : start + BLOCK])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # no rows: the header alone
        yield buffer.getvalue().encode()
