"""A ZIP of stored originals, streamed as it is written: nothing is built in memory or on disk first."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path

import anyio.to_thread

CHUNK = 1024 * 1024


class _Sink:
    """A write-only, unseekable stream; zipfile then writes data descriptors instead of seeking back."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


async def zip_stream(
    entries: AsyncIterable[tuple[str, Path]], transform: Callable[[Path], bytes] | None = None
) -> AsyncIterator[bytes]:
    """(name in the archive, file on disk) pairs to ZIP bytes. Files gone meanwhile are left out.

    `transform` (run in a thread) replaces each file's bytes, e.g. with a copy that has no metadata.
    """
    if transform is not None:
        async for data in _zip_transformed(entries, transform):
            yield data
        return
    sink = _Sink()
    # Photos are compressed already; storing them keeps the CPU free and the archive as fast as the disk.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[arg-type]
        async for name, path in entries:
            try:
                source = await anyio.to_thread.run_sync(path.open, "rb")
            except FileNotFoundError:
                continue
            try:
                with archive.open(name, "w", force_zip64=True) as member:
                    while chunk := await anyio.to_thread.run_sync(source.read, CHUNK):
                        member.write(chunk)
                        if data := sink.drain():
                            yield data
            finally:
                source.close()
            if data := sink.drain():
                yield data
    if data := sink.drain():
        yield data


async def _zip_transformed(
    entries: AsyncIterable[tuple[str, Path]], transform: Callable[[Path], bytes]
) -> AsyncIterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[arg-type]
        async for name, path in entries:
            try:
                data = await anyio.to_thread.run_sync(transform, path)
            except FileNotFoundError:
                continue
            with archive.open(name, "w", force_zip64=True) as member:
                member.write(data)
            if chunk := sink.drain():
                yield chunk
    if chunk := sink.drain():
        yield chunk
