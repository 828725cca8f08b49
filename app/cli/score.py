"""`classify score PATH... [--json] [--files-from FILE] [--threshold T] [--jobs N]`.

Scores files (folders recursively) with the domain core in a process pool, printing each result as
soon as it is ready. Undecodable files print an error line; only usage errors give a non-zero exit.
Imports stay cheap here: the dispatcher imports this module to build its parser.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from functools import partial

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".heic", ".heif", ".avif", ".gif", ".bmp",
                    ".tif", ".tiff"}  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="image files or folders (recursive)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    parser.add_argument("--files-from", metavar="FILE", help="read paths from FILE, one per line ('-': stdin)")
    parser.add_argument("--threshold", type=_threshold, default=None, help="blurred at or above T (default 0.5)")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (default: every core)")


def _threshold(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("threshold must be between 0 and 1")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        paths = list(args.paths)
        if args.files_from:
            paths += _read_list(args.files_from)
    except OSError as exc:
        print(f"classify score: cannot read --files-from {args.files_from}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if not paths:
        print("classify score: give at least one PATH or --files-from FILE", file=sys.stderr)
        return 2
    if args.jobs < 0:
        print("classify score: --jobs must be 0 (every core) or more", file=sys.stderr)
        return 2
    from app.domain.blur import DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    files = list(_expand(paths))
    show = _json_line if args.json else _text_line
    for result in _score_all(files, threshold, args.jobs or os.cpu_count() or 1):
        print(show(result), flush=True)
    return 0


def _read_list(name: str) -> list[str]:
    if name == "-":
        return [line.strip() for line in sys.stdin if line.strip()]
    with open(name, encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


def _expand(paths: list[str]) -> Iterator[str]:
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                        yield os.path.join(root, name)
        else:
            yield path


def _score_all(files: list[str], threshold: float, jobs: int) -> Iterator[dict]:
    work = partial(score_one, threshold=threshold)
    jobs = min(jobs, len(files))
    if jobs <= 1:
        _init_worker()
        yield from map(work, files)
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(jobs, initializer=_init_worker) as pool:
        yield from pool.imap_unordered(work, files, chunksize=max(1, min(8, len(files) // (jobs * 8))))


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)


def score_one(path: str, threshold: float) -> dict:
    """Score one file into the JSON-ready dict printed by the CLI (runs in a worker process)."""
    from app.adapters.decode import UndecodableImage
    from app.adapters.scorer import score_file_timed
    from app.domain.blur import is_blurred, kind_at

    try:
        analysis, ms = score_file_timed(path)
    except (UndecodableImage, OSError) as exc:
        return {"path": path, "error": str(exc)}
    except Exception as exc:  # one bad file must not stop a batch
        return {"path": path, "error": f"{type(exc).__name__}: {exc}"}
    data = analysis.to_dict()
    kind = kind_at(analysis, threshold)
    # the shake's direction and path only where this threshold calls the photo shaken
    angle, shake_path, shaken = data.pop("motion_angle"), data.pop("shake_path"), kind == "motion"
    return {
        "path": path,
        "blur_score": data.pop("blur_score"),
        "is_blurred": is_blurred(analysis.blur_score, threshold),
        "blur_kind": kind,
        "motion_angle": angle if shaken else None,
        "shake_path": shake_path if shaken else None,
        **{k: v for k, v in data.items() if k != "blur_kind"},
        "processing_time_ms": round(ms, 2),
    }


def _json_line(result: dict) -> str:
    return json.dumps(result, separators=(",", ":"))


def _text_line(result: dict) -> str:
    if "error" in result:
        return f"{result['path']}: error: {result['error']}"
    verdict = "BLURRED" if result["is_blurred"] else "sharp  "
    return f"{result['path']}: {verdict} {result['blur_score']:.2f}  {'; '.join(result['reasons'])}"
