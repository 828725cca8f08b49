"""Server-side folders that may be imported: only below CLASSIFY_IMPORT_ROOT, never through a symlink out."""

from __future__ import annotations

import os
from pathlib import Path

from app.domain.errors import InvalidInput, NotFound

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
        """Every regular file below `folder`, recursively, as paths relative to the import root."""
        assert self.root is not None
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                full = Path(dirpath) / name
                if name.startswith(".") or not full.is_file() or full.is_symlink():
                    continue
                found.append(str(full.relative_to(self.root)))
                if len(found) >= MAX_FILES:
                    return found
        return found

    def read(self, relative: str, max_bytes: int) -> bytes:
        assert self.root is not None
        path = (self.root / relative).resolve()
        if self.root not in path.parents:
            raise InvalidInput("That file is outside the import root.")
        with path.open("rb") as source:
            return source.read(max_bytes + 1)
