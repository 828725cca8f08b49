"""The sharpness map in words: where a photo is sharp and where soft, for those who cannot see its colours."""

from __future__ import annotations

from collections.abc import Sequence

FEATURELESS = 0.5  # what the map holds for a tile with no detail to judge (blur.sharpness_map)
SHARP, SOFT = 0.6, 0.4  # an area's mean from which it reads sharp, up to which soft; between, it says nothing
ROWS, COLS = ("top", "middle", "bottom"), ("left", "centre", "right")


def _area_name(row: int, col: int) -> str:
    if (row, col) == (1, 1):
        return "centre"
    if row == 1:
        return COLS[col]
    if col == 1:
        return ROWS[row]
    return f"{ROWS[row]} {COLS[col]}"


def _third(i: int, n: int) -> int:
    """The third (0, 1, 2) that tile i of n falls in, by its centre: one tile is the middle one."""
    return min(2, int(3 * (i + 0.5) / n))


def map_in_words(grid: Sequence[Sequence[float]]) -> str:
    """'Sharp: centre. Soft: left, bottom left.', from the map's tiles (1 sharp, 0 soft) in a 3×3 of areas."""
    if not grid or not grid[0]:
        return "The map has nothing to show."
    areas: dict[tuple[int, int], list[float]] = {}
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            judged = areas.setdefault((_third(i, len(grid)), _third(j, len(row))), [])
            if value != FEATURELESS:
                judged.append(value)
    sharp, soft = [], []
    for (r, c), values in sorted(areas.items()):
        mean = sum(values) / len(values) if values else FEATURELESS
        (sharp if mean >= SHARP else soft if mean <= SOFT else []).append(_area_name(r, c))
    if len(sharp) == len(areas):
        return "Sharp all over."
    if len(soft) == len(areas):
        return "Soft all over."
    said = [f"{label}: {', '.join(names)}." for label, names in (("Sharp", sharp), ("Soft", soft)) if names]
    return " ".join(said) or "Neither clearly sharp nor clearly soft anywhere."
