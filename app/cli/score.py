"""`classify score PATH... [--json] [--files-from FILE] [--threshold T] [--jobs N]`.

Scores files (folders recursively) with the domain core in a process pool, printing each result as
soon as it is ready. Undecodable files print an error line; only usage errors give a non-zero exit.
Imports stay cheap here: the dispatcher imports this module to build its parser.
"""

from __future__ import annotations

import argparse
import dataclasses
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
    parser.add_argument(
        "--threshold", type=_threshold, default=None, metavar="T", help="blurred at or above T (default 0.5)"
    )
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (default: every core)")


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
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
    if not paths and not args.files_from:  # an empty list is nothing to score, not a usage error
        print("classify score: give at least one PATH or --files-from FILE", file=sys.stderr)
        return 2
    if args.jobs < 0:
        print("classify score: --jobs must be 0 (every core) or more", file=sys.stderr)
        return 2
    from app.domain.blur import DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    files = list(_expand(paths))
    show = _json_line if args.json else _text_line
    if hasattr(sys.stdout, "reconfigure"):  # a file name that is not UTF-8 is printed as its bytes, not a crash
        sys.stdout.reconfigure(errors="surrogateescape")
    try:
        for result in _score_all(files, threshold, args.jobs or os.cpu_count() or 1):
            print(show(result), flush=True)
    except BrokenPipeError:  # `classify score ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush is quiet too
    return 0


def _read_list(name: str) -> list[str]:
    """Paths as the file system has them: bytes decoded the way os does, so any file name comes through."""
    if name == "-":
        lines = sys.stdin.buffer.read().splitlines()
    else:
        with open(name, "rb") as f:
            lines = f.read().splitlines()
    return [os.fsdecode(line) for line in lines if line.strip()]


def _expand(paths: list[str]) -> Iterator[str]:
    for path in paths:
        if os.path.isdir(path):
            yield from _walk(path)
        else:
            yield path


def _walk(top: str) -> Iterator[str]:
    """Image files under `top`, through linked folders too, each real folder once (a link loop ends)."""
    seen: set[str] = set()
    for root, dirs, names in os.walk(top, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs.clear()
            continue
        seen.add(real)
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            # a pipe or a device named like a photo would be read forever
            if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS and os.path.isfile(path):
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
    import signal

    import cv2

    cv2.setNumThreads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the command once, not a traceback per worker


def score_one(path: str, threshold: float) -> dict:
    """Score one file into the JSON-ready dict printed by the CLI (runs in a worker process)."""
    from app.adapters.decode import UndecodableImage
    from app.adapters.scorer import score_file_timed
    from app.domain.blur import is_blurred, kind_at, reasons_at

    if os.path.exists(path) and not os.path.isfile(path):
        return {"path": path, "error": "not a regular file (a folder link, a pipe or a device); nothing was read"}
    try:
        analysis, ms = score_file_timed(path)
    except (UndecodableImage, OSError) as exc:
        return {"path": path, "error": str(exc)}
    except Exception as exc:  # one bad file must not stop a batch
        return {"path": path, "error": f"{type(exc).__name__}: {exc}"}
    data = analysis.to_dict()
    # the verdict is that of the score as printed (and as the app stores it, to 4 places): 0.79996 shows as
    # 0.8, which --threshold 0.8 calls blurred
    printed = dataclasses.replace(analysis, blur_score=data.pop("blur_score"))
    kind = kind_at(printed, threshold)
    # the shake's direction and path only where this threshold calls the photo shaken
    angle, shake_path, shaken = data.pop("motion_angle"), data.pop("shake_path"), kind == "motion"
    data.pop("reasons_by_verdict")
    data["reasons"] = list(reasons_at(printed, threshold))
    return {
        "path": path,
        "blur_score": printed.blur_score,
        "is_blurred": is_blurred(printed.blur_score, threshold),
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
        return f"{result['path']}: error: {result['error'].removeprefix(result['path'] + ': ')}"
    verdict = "BLURRED" if result["is_blurred"] else "sharp  "
    return f"{result['path']}: {verdict} {result['blur_score']:.2f}  {'; '.join(result['reasons'])}"
