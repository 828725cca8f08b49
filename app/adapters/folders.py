"""Server-side folders that may be imported: only below CLASSIFY_IMPORT_ROOT, never through a symlink out."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from app.domain.errors import InvalidInput, NotFound
from app.domain.services.imports import NotAFile

MAX_FILES = 100_000


class LocalFolders:
    def __init__(self, root: Path | None) -> None:
        self.root = root.resolve() if root else None

    def resolve(self, path: str) -> Path:
        if self.root is None:
            raise InvalidInput("Folder import is off: the server has no CLASSIFY_IMPORT_ROOT.")
        try:
            candidate = (self.root / path).resolve() if not os.path.isabs(path) else Path(path).resolve()
            inside = candidate == self.root or self.root in candidate.parents
            found = inside and candidate.is_dir()
        except (OSError, RuntimeError, ValueError):  # a name too long, a symlink loop, a NUL
            raise InvalidInput("That is not a folder path Classify can read: check its spelling.") from None
        if not inside:
            # the root is the server's own layout: name it to the person who set it (README), not to every user
            raise InvalidInput("Only folders inside the server's import root can be imported: give a path within it.")
        if not found:
            raise NotFound(f"There is no folder {path!r} under the import root.")
        return candidate

    def list_files(self, folder: Path) -> list[str]:
        """Every entry below `folder` but folders, recursively, as paths relative to the import root: regular
        files, and links, pipes and devices, which `read` refuses, so that the import names them as skipped."""
        assert self.root is not None
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                found.append(str((Path(dirpath) / name).relative_to(self.root)))
                if len(found) >= MAX_FILES:
                    return found
        return found

    def read(self, relative: str, max_bytes: int) -> bytes:
        assert self.root is not None
        name = relative.rsplit("/", 1)[-1]
        # asked before opening: opening a pipe waits for a writer
        kind = os.lstat(self.root / relative).st_mode
        if stat.S_ISLNK(kind):
            raise NotAFile(f"{name} is a link; links are not followed, the file it points to can be imported itself.")
        if not stat.S_ISREG(kind):
            raise NotAFile(f"{name} is not a regular file (a pipe, socket or device); skipped.")
        path = (self.root / relative).resolve()
        if self.root not in path.parents:  # a folder on the way swapped for a link since the listing
            raise InvalidInput("That file is outside the import root.")
        with path.open("rb") as source:
            return source.read(max_bytes + 1)
