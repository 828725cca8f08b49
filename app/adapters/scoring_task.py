"""The scoring task a pool worker runs, in a module of its own.

A worker imports the module that holds a task's function when it unpickles the call. Kept here rather than in
`photo_processing` (which imports the vision adapter, hence openai, pydantic and anyio) so that a worker loads
only what decoding and scoring need: about 50 MB less in each pool process.
"""

from __future__ import annotations

from typing import Any

from app.domain.services.scoring import Undecodable


def score_path(path: str, name: str | None = None) -> tuple[dict[str, Any], float]:
    """Runs in a worker process: decode at the analysis size and score with the domain core; a refusal names
    the file `name`."""
    from app.adapters.decode import UndecodableImage
    from app.adapters.scorer import score_file_timed

    try:
        analysis, elapsed_ms = score_file_timed(path, name)
    except UndecodableImage as exc:
        raise Undecodable(str(exc)) from None
    return analysis.to_dict(), elapsed_ms
