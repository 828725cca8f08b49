"""File names for exports: safe, readable and unique within one archive."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_STEM = 80
MAX_STEM_BYTES = 200  # and bytes in UTF-8: file systems count a name's bytes (255), and unzip made none of 324
_KEPT_PUNCTUATION = "._ -"


def safe_stem(name: str) -> str:
    """Letters and digits of any script (a ZIP names its entries in UTF-8, which unzip tools read), spaces,
    dots, dashes and underscores; no path parts, no leading dots, at most MAX_STEM characters; never empty.
    Symbols and the characters some file system refuses (`<>:"|?*`, controls) become a dash."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    kept = "".join(c if c in _KEPT_PUNCTUATION or unicodedata.category(c)[0] in "LNM" else "-" for c in name)
    stem = kept.strip(" .-_")
    stem = re.sub(r"-{2,}", "-", stem)
    stem = stem[:MAX_STEM]
    while len(stem.encode()) > MAX_STEM_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .-_") or "photo"


def within(name: str, limit: int) -> str:
    """`name` cut to `limit` characters in its stem, so that its extension stays."""
    if len(name) <= limit:
        return name
    stem, ext = split_name(name)
    return stem[: max(1, limit - len(ext))] + ext


def split_name(filename: str) -> tuple[str, str]:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        return base, ""
    return stem, "." + ext.lower()


def unique_names(wanted: Iterable[tuple[str, str]], taken: set[str] | None = None) -> list[str]:
    """(stem, extension) pairs to names that never collide, case-insensitively: a, a-2, a-3...

    `taken` holds the names given before, lowercase (an archive written a batch at a time); it is extended.
    """
    taken = set() if taken is None else taken
    names = []
    for stem, ext in wanted:
        stem = safe_stem(stem)
        candidate, n = f"{stem}{ext}", 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{stem}-{n}{ext}"
        taken.add(candidate.lower())
        names.append(candidate)
    return names
