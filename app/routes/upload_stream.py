"""The photos of an upload request, read from its body as it streams in.

Litestar's form parser gives every file a spooled temporary file that rolls over to disk at 1 MB and then
hands each 64 KB chunk to a thread to write: for a 4 MB phone photo, a file created, written, read back
and deleted, and some fifty thread hand-offs, before the photo is even looked at. Here the parts are
parsed with the same parser (`multipart`), and each file's bytes are kept in memory as they arrive while
the uploads of the whole process hold less than UPLOAD_MEMORY; past it, a file goes to a temporary file,
written in large pieces, in the data dir's `uploading` folder: on the disk whose room the server watches
(CLASSIFY_MIN_FREE_MB), not in the system's /tmp, which may be small, or memory. A file is kept to
`max_bytes + 1` bytes, which is enough to refuse it as too large.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio
from litestar import Request
from litestar._multipart import parse_content_header
from litestar.exceptions import ClientException, ValidationException
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser

from app.adapters.sql.outage import NO_SPACE
from app.domain.errors import PayloadRejected, StorageFull
from app.domain.units import megabytes

SPILL_PIECE = 1024 * 1024  # what is written to a spilled file at once
MULTIPART_SLACK = 1 << 20  # a request's multipart framing and names, beside its files' bytes
FIELD = "files"
NO_FILES = "Send one or more images in the multipart form field 'files'."


class MemoryBudget:
    """Bytes of uploads held in memory by the whole process. One event loop uses it, so no lock is needed."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give_back(self, size: int) -> None:
        self.used -= size


# Three browsers' worth of phone photos at once, or one API batch of a few; the web process's RSS
# stays well under its 300 MB goal with it full.
UPLOAD_MEMORY = MemoryBudget(48 * 1024 * 1024)


@dataclass(frozen=True)
class SpillRoom:
    """Where files past UPLOAD_MEMORY go, and the disk space they must leave free there."""

    folder: Path
    reserve_bytes: int = 0

    def new_file(self, size: int) -> Any:
        """A temporary file for up to `size` bytes; StorageFull when the disk has not room for them."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            room = shutil.disk_usage(self.folder).free - self.reserve_bytes
        except OSError as exc:
            raise StorageFull() if exc.errno in NO_SPACE else exc from None
        if room < size:
            raise StorageFull.at_reserve(megabytes(self.reserve_bytes), "this upload was not received")
        return tempfile.TemporaryFile(dir=self.folder)


class IncomingFile(Protocol):
    filename: str

    async def read(self) -> bytes: ...

    async def close(self) -> None: ...


class ReceivedFile:
    """One file of the request: its name, and its bytes (in memory, or in a temporary file)."""

    def __init__(self, filename: str, limit: int, spill_room: SpillRoom) -> None:
        self.filename = filename
        self.limit = limit  # bytes beyond this are dropped
        self.spill_room = spill_room
        self.size = 0
        self.chunks: list[bytes] = []
        self.held = 0  # bytes of `chunks` counted in UPLOAD_MEMORY
        self.spill: Any = None  # the temporary file, once memory ran short

    async def add(self, chunk: bytes | bytearray | memoryview) -> None:
        """Keep `chunk`, up to the limit."""
        piece = bytes(chunk[: self.limit - self.size])
        if not piece:
            return
        self.size += len(piece)
        self.chunks.append(piece)
        if self.spill is None and UPLOAD_MEMORY.take(len(piece)):
            self.held += len(piece)
            return
        if self.spill is None:
            self.spill = await anyio.to_thread.run_sync(self.spill_room.new_file, self.limit)
        if sum(map(len, self.chunks)) >= SPILL_PIECE:
            await self._write_chunks()

    async def _write_chunks(self) -> None:
        data, self.chunks = b"".join(self.chunks), []
        UPLOAD_MEMORY.give_back(self.held)
        self.held = 0
        try:
            await anyio.to_thread.run_sync(self.spill.write, data)
        except OSError as exc:
            raise StorageFull() if exc.errno in NO_SPACE else exc from None

    async def read(self) -> bytes:
        if self.spill is None:
            return b"".join(self.chunks)
        await self._write_chunks()

        def read_all() -> bytes:
            self.spill.seek(0)
            return self.spill.read()

        return await anyio.to_thread.run_sync(read_all)

    async def close(self) -> None:
        UPLOAD_MEMORY.give_back(self.held)
        self.chunks, self.held = [], 0
        if self.spill is not None:
            spill, self.spill = self.spill, None
            await anyio.to_thread.run_sync(spill.close)


async def received_files(
    request: Request[Any, Any, Any], *, max_files: int, max_bytes: int, spill_room: SpillRoom
) -> list[ReceivedFile]:
    """Every file of the multipart field 'files'; raises for a body that is not such a form, or too many.

    The upload routes take bodies past the app's limit for other requests, up to a full batch of the largest
    photos (`upload_limit`), counted here as they arrive."""
    content_type, options = parse_content_header(request.headers.get("content-type", ""))
    boundary = options.get("boundary")
    if content_type != "multipart/form-data" or not boundary:
        raise ValidationException(NO_FILES)
    if (request.content_length or 0) > upload_limit(max_files, max_bytes):
        raise PayloadRejected(413, too_large(max_files, max_bytes))  # said at once, before anything is read
    files: list[ReceivedFile] = []
    try:
        await _parse(request, boundary, files, max_files, max_bytes, spill_room)
    except BaseException:
        for received in files:
            await received.close()
        raise
    if not files:
        raise ValidationException(NO_FILES)
    return files


async def _parse(
    request: Request[Any, Any, Any],
    boundary: str,
    files: list[ReceivedFile],
    max_files: int,
    max_bytes: int,
    spill_room: SpillRoom,
) -> None:
    current: ReceivedFile | None = None  # the file whose bytes are arriving, if the part is one
    left = upload_limit(max_files, max_bytes)
    try:
        with PushMultipartParser(boundary, max_segment_count=4 * max_files + 16) as parser:
            async for chunk in request.stream():
                left -= len(chunk)
                if left < 0:
                    raise PayloadRejected(413, too_large(max_files, max_bytes))
                for part in parser.parse(chunk):
                    if isinstance(part, MultipartSegment):
                        current = _start(part, files, max_files, max_bytes, spill_room)
                    elif part and current is not None:
                        await current.add(part)
                if parser.closed:
                    break
    except ParserError:
        raise ClientException("The multipart form could not be read: it is malformed or cut short.") from None
    except ParserLimitReached as exc:
        if "header" in str(exc):  # the parser's limit on one part's headers, which hold the file's name
            raise ClientException(
                "A file's name is too long to read (a part's headers may hold about 4,000 characters); "
                "nothing was stored."
            ) from None
        raise PayloadRejected(413, f"Too many parts in one request; at most {max_files} files fit.") from None


def upload_limit(max_files: int, max_bytes: int) -> int:
    """The largest upload request: a full batch of the largest photos, and room for the multipart framing.

    Photos are held in memory as they arrive only while the uploads of the whole process stay under
    UPLOAD_MEMORY, and go to temporary files past it: this bounds disk, not memory."""
    return max_bytes * max_files + MULTIPART_SLACK


def too_large(max_files: int, max_bytes: int) -> str:
    return (
        f"The request is too large: at most {max_files} files of {megabytes(max_bytes)} each "
        "fit in one request. Nothing was stored; send the files in smaller batches."
    )


def _start(
    part: MultipartSegment, files: list[ReceivedFile], max_files: int, max_bytes: int, spill_room: SpillRoom
) -> ReceivedFile | None:
    """A new part: a file of the field 'files' is kept; other fields, and a file input left empty, are not."""
    if part.name != FIELD or not part.filename:
        return None
    if len(files) == max_files:
        raise PayloadRejected(413, f"More than {max_files} files in one request; send at most {max_files} at a time.")
    files.append(ReceivedFile(part.filename, max_bytes + 1, spill_room))
    return files[-1]
