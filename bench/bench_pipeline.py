#!/usr/bin/env python
"""End-to-end pipeline bench on the embedded default: N 12 MP photos uploaded over HTTP and scored.

    .venv/bin/python bench/bench_pipeline.py                         # 1,000 photos
    .venv/bin/python bench/bench_pipeline.py --count 200 --profile py-spy --py-spy /tmp/pyspy/bin/py-spy

What it does:
  * makes `--count` distinct 12 MP JPEGs from the eight real photos in /work/shared/data/blur-dev/speed by
    inserting a JPEG comment segment (COM, 0xFFFE) "classify-bench N" after the APPn segments. The pixels,
    the EXIF block and the entropy-coded data are byte-for-byte the original's, so decoding, renditions
    and scoring cost exactly what the real photo costs; only the SHA-256 differs, so the server's
    same-bytes de-duplication does not short-cut any upload. (Cropping or re-encoding would change the
    JPEG's size and quality, i.e. the work measured; a COM segment changes nothing the server decodes.)
    Variants are made on the fly in the client (a bytes concat, ~1 ms), nothing is written to disk.
  * starts `classify serve` (SQLite, in-process queue and process pool, fresh data dir), creates a user,
    and uploads from `--concurrency` client threads, `--files-per-request` files a request;
  * samples the server's RSS every 0.2 s with psutil: the web process alone and the process tree (web +
    scoring pool workers + multiprocessing's resource tracker), and each process's CPU time;
  * stops when counts.all == N and counts.unprocessed == 0: photos/s end to end = N / (last scored - first
    upload sent); also the upload phase alone;
  * a baseline in the same run, before and after (median): the decode-only floor, cv2.imread with
    IMREAD_REDUCED_GRAYSCALE_8 over the 8 originals on one core, and the in-process per-stage costs of
    one photo (SHA-256, header probe, the thumb and medium renditions, scoring decode+analysis), so the
    figure can be compared across noisy machines as a ratio;
  * optionally profiles the server tree with py-spy (`--profile py-spy`, sampling the web process and its
    pool workers) and prints where the samples go: renditions, scoring, hashing, DB, disk, HTTP/multipart.
Bounded by --count and --time-limit (seconds; default 1200).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psutil  # noqa: E402

from tests.support.live_server import APP_CLI, LiveServer  # noqa: E402

SPEED_DIR = Path("/work/shared/data/blur-dev/speed")
EMAIL = "bench@example.com"
PASSWORD = "bench horse battery staple"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------------------ the photos


def comment_offset(data: bytes) -> int:
    """Where a COM segment can go: after SOI and every APPn segment (EXIF stays first, as cameras write it)."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    pos = 2
    while data[pos] == 0xFF and 0xE0 <= data[pos + 1] <= 0xEF:
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return pos


class Variants:
    def __init__(self, sources: list[Path]) -> None:
        self.originals = [p.read_bytes() for p in sources]
        self.names = [p.stem for p in sources]
        self.offsets = [comment_offset(d) for d in self.originals]

    def get(self, n: int) -> tuple[str, bytes]:
        k = n % len(self.originals)
        data, at = self.originals[k], self.offsets[k]
        text = f"classify-bench variant {n}".encode()
        segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
        return f"{self.names[k]}-{n:05d}.jpg", data[:at] + segment + data[at:]


# ------------------------------------------------------------------------------------------- baseline


def baseline(sources: list[Path], rounds: int = 3) -> dict[str, float]:
    """Per-photo costs on one core in this process (ms, median of `rounds` passes over the sources)."""
    import cv2

    from app.adapters.imaging_probe import probe
    from app.adapters.imaging_render import make_rendition
    from app.adapters.imaging_types import ImageLimits
    from app.adapters.intake_task import thumb_and_score
    from app.adapters.scorer import score_file_timed

    cv2.setNumThreads(1)
    limits = ImageLimits(max_bytes=50 << 20, max_pixels=100_000_000, max_side=30000)
    datas = [p.read_bytes() for p in sources]
    stages = {
        "decode_floor_reduced8": lambda p, d: cv2.imread(str(p), cv2.IMREAD_REDUCED_GRAYSCALE_8),
        "sha256": lambda p, d: hashlib.sha256(d).hexdigest(),
        "probe": lambda p, d: probe(d, p.name, limits),
        "intake": lambda p, d: thumb_and_score(d, limits),  # what an upload makes: thumb and score, one decode
        "thumb": lambda p, d: make_rendition(d, limits, "thumb"),  # the thumb alone (a web process with arq workers)
        "medium": lambda p, d: make_rendition(d, limits, "medium"),  # made on a photo's first view, not here
        "score": lambda p, d: score_file_timed(str(p)),  # the queued task's decode and analysis
    }
    out: dict[str, float] = {}
    for name, fn in stages.items():
        fn(sources[0], datas[0])  # warm up (imports, caches)
        passes = []
        for _ in range(rounds):
            t = time.perf_counter()
            for p, d in zip(sources, datas, strict=True):
                fn(p, d)
            passes.append((time.perf_counter() - t) / len(sources) * 1000)
        out[name] = round(statistics.median(passes), 2)
    return out


# ------------------------------------------------------------------------------------------ RSS sampler


class TreeSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak_web = 0
        self.peak_tree = 0
        self.peak_procs = 0
        # last seen (user, system) seconds per pid (pool workers come and go), and at the first sample:
        # start-up (imports, migrations) is not work
        self.cpu: dict[int, tuple[float, float]] = {}
        self.cpu_at_start: dict[int, tuple[float, float]] = {}
        self.role: dict[int, str] = {}
        self.peak_by_pid: dict[int, tuple[int, str]] = {}  # peak RSS and a short name per pid
        self.samples = 0
        # the web process's minor page faults and context switches (voluntary: waits, e.g. thread hand-offs)
        self.web_events: dict[str, int] = {}
        self.web_events_at_start: dict[str, int] = {}

    def run(self) -> None:
        while not self.stop_event.is_set():
            with contextlib.suppress(psutil.Error):
                procs = [self.root, *self.root.children(recursive=True)]
                total = 0
                for proc in procs:
                    with contextlib.suppress(psutil.Error):
                        with proc.oneshot():
                            rss = proc.memory_info().rss
                            times = proc.cpu_times()
                        total += rss
                        if rss > self.peak_by_pid.get(proc.pid, (0, ""))[0]:
                            name = "web" if proc.pid == self.root.pid else _role(proc)
                            self.peak_by_pid[proc.pid] = (rss, name)
                        self.cpu[proc.pid] = (times.user, times.system)
                        self.cpu_at_start.setdefault(proc.pid, self.cpu[proc.pid])
                        self.role.setdefault(proc.pid, "web" if proc.pid == self.root.pid else _role(proc))
                        if proc.pid == self.root.pid:
                            self.peak_web = max(self.peak_web, rss)
                            self.web_events = _events(proc)
                            self.web_events_at_start = self.web_events_at_start or self.web_events
                self.peak_tree = max(self.peak_tree, total)
                self.peak_procs = max(self.peak_procs, len(procs))
                self.samples += 1
            self.stop_event.wait(self.interval)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)

    def work_cpu_by_role(self, kind: str = "both") -> dict[str, float]:
        """CPU seconds spent since the first sample, summed per role (web, pool worker, ...); `kind` is
        "user", "system" (the kernel's share: socket reads, page-cache writes) or "both"."""
        picks = {"user": (0,), "system": (1,), "both": (0, 1)}[kind]
        spent: collections.Counter[str] = collections.Counter()
        for pid, seconds in self.cpu.items():
            spent[self.role[pid]] += sum(seconds[i] - self.cpu_at_start[pid][i] for i in picks)
        return dict(spent)


def _events(proc: psutil.Process) -> dict[str, int]:
    fields = Path(f"/proc/{proc.pid}/stat").read_text().rpartition(")")[2].split()
    switches = proc.num_ctx_switches()
    return {"minor_faults": int(fields[7]), "voluntary_switches": switches.voluntary,
            "involuntary_switches": switches.involuntary}  # fmt: skip


def _role(proc: psutil.Process) -> str:
    with contextlib.suppress(psutil.Error):
        cmd = " ".join(proc.cmdline())
        if "resource_tracker" in cmd:
            return "resource tracker"
        if "spawn_main" in cmd:
            return "pool worker"
        return cmd[:40]
    return "?"


# ------------------------------------------------------------------------------------------ profiling

CATEGORIES = [  # first match from the leaf up decides; order = precedence among frames of one stack
    ("scoring on arrival (analysis of the shared decode's Y plane)", ("score_gray",)),
    (
        "intake decode + thumb (decode 1/8 + resize + JPEG)",
        ("thumb_and_score", "make_rendition", "decode_reduced", "render_decoded", "encode_jpeg", "shrink"),
    ),
    ("queued scoring (reduced decode + analysis)", ("score_path", "score_file_timed", "score_image", "load_gray")),
    ("header probe", ("imaging_probe.py",)),
    ("sha256", ("sha256", "hexdigest")),
    ("disk writes (originals/renditions)", ("put_original", "put_rendition", "storage.py")),
    ("database (SQLAlchemy/aiosqlite)", ("sqlalchemy", "aiosqlite", "sqlite3")),
    ("multipart parsing / upload read", ("multipart", "_form", "UploadFile", "form_data", "parse_content_header")),
    (
        "pool IPC (pickling bytes to workers)",
        ("multiprocessing/connection.py", "multiprocessing/queues.py", "_send_bytes", "ForkingPickler"),
    ),
    ("HTTP server / ASGI", ("uvicorn", "h11", "httptools", "litestar")),
    ("event loop / asyncio", ("asyncio",)),
]


def categorise(collapsed: Path) -> dict[str, Any]:
    """py-spy --format raw (collapsed stacks: 'frame;frame;... count') to per-category and top-leaf counts."""
    per_cat: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    per_proc: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        per_proc[frames[0][:60]] += count
        leaves[frames[-1][:110]] += count
        category = "other"
        for frame in reversed(frames):
            hit = next((name for name, keys in CATEGORIES if any(k in frame for k in keys)), None)
            if hit:
                category = hit
                break
        per_cat[category] += count
    return {
        "samples": total,
        "categories": {k: round(100 * v / max(total, 1), 1) for k, v in per_cat.most_common()},
        "top_leaves": [(k, round(100 * v / max(total, 1), 1)) for k, v in leaves.most_common(15)],
        "processes": [(k, round(100 * v / max(total, 1), 1)) for k, v in per_proc.most_common(6)],
    }


# ------------------------------------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> dict[str, Any]:
    deadline = time.monotonic() + args.time_limit
    sources = (
        sorted(SPEED_DIR.glob("*.jpg")) if args.source_dir is None else sorted(Path(args.source_dir).glob("*.jpg"))
    )
    if not sources:
        raise SystemExit(f"no JPEGs in {args.source_dir or SPEED_DIR}")
    variants = Variants(sources)
    report: dict[str, Any] = {"count": args.count, "sources": len(sources), "cores": len(os.sched_getaffinity(0))}
    log("baseline (one core, this process) ...")
    before = baseline(sources)

    workdir = Path(tempfile.mkdtemp(prefix="classify-bench-pipeline-"))
    env = {"CLASSIFY_DATA_DIR": str(workdir / "data"), "CLASSIFY_LOG_LEVEL": "WARNING",
           "CLASSIFY_SECRET_KEY": "bench-secret-" + "b" * 40}  # fmt: skip
    if args.score_workers:
        env["CLASSIFY_SCORE_WORKERS"] = str(args.score_workers)
    create = [sys.executable, "-c", APP_CLI, "users", "create", EMAIL, "--password-stdin"]
    env_all = {**os.environ, **env}
    subprocess.run(create, input=PASSWORD + "\n", text=True, env=env_all, cwd=REPO, check=True, capture_output=True)
    server = LiveServer(env, log_dir=workdir)
    spy: subprocess.Popen | None = None
    try:
        server.start()
        assert server.process is not None
        token = httpx.post(f"{server.url}/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        sampler = TreeSampler(server.process.pid)
        sampler.start()
        if args.profile == "py-spy":
            with open(workdir / "py-spy.log", "wb") as spy_log:
                spy = subprocess.Popen(
                    [args.py_spy, "record", "--pid", str(server.process.pid), "--subprocesses", "--rate", "50",
                     "--format", "raw", "--output", str(workdir / "profile.txt"), "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=spy_log,
                )  # fmt: skip
            time.sleep(1.0)

        counter = iter(range(args.count))
        lock = threading.Lock()
        errors: list[str] = []

        def next_chunk() -> list[int]:
            with lock:
                return [n for _, n in zip(range(args.files_per_request), counter, strict=False)]

        def uploader() -> int:
            sent = 0
            with httpx.Client(base_url=server.url, headers=headers, timeout=300) as http:
                while (chunk := next_chunk()) and time.monotonic() < deadline:
                    files = [("files", (*variants.get(n), "image/jpeg")) for n in chunk]
                    response = http.post("/api/v1/photos", files=files)
                    if response.status_code != 201 or response.json()["created"] != len(chunk):
                        errors.append(f"{response.status_code} {response.text[:300]}")
                    sent += len(chunk)
            return sent

        time.sleep(0.5)  # the sampler's first look at the server: its CPU so far is start-up, not work
        t0 = time.monotonic()
        client_cpu0 = time.process_time()
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            futures = [pool.submit(uploader) for _ in range(args.concurrency)]
            uploaded = sum(f.result() for f in futures)
        t_uploaded = time.monotonic()
        client_cpu_s = time.process_time() - client_cpu0
        rate = uploaded / (t_uploaded - t0)
        log(f"uploaded {uploaded} in {t_uploaded - t0:.1f}s ({rate:.2f}/s); errors {len(errors)}")
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            while True:
                counts = http.get("/api/v1/photos", params={"limit": 1}).json()["counts"]
                if counts["all"] >= args.count and counts["unprocessed"] == 0:
                    break
                if time.monotonic() > deadline:
                    errors.append(f"time limit reached with counts {counts}")
                    break
                time.sleep(0.2)
            stats = http.get("/api/v1/stats").json()
        t_done = time.monotonic()
        sampler.stop()
        if spy is not None:
            spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(timeout=60)
        cpu_s = sum(user + system for user, system in sampler.cpu.values())
        report.update(
            uploaded=uploaded,
            scored=counts["all"] - counts["unprocessed"],
            errors=errors[:5],
            upload_s=round(t_uploaded - t0, 1),
            total_s=round(t_done - t0, 1),
            upload_photos_per_s=round(uploaded / (t_uploaded - t0), 2),
            photos_per_s=round(counts["all"] / (t_done - t0), 2),
            peak_rss_web_mb=round(sampler.peak_web / 2**20, 1),
            peak_rss_tree_mb=round(sampler.peak_tree / 2**20, 1),
            peak_processes=sampler.peak_procs,
            peak_rss_by_process_mb=sorted(
                ((name, round(rss / 2**20, 1)) for rss, name in sampler.peak_by_pid.values()), key=lambda x: -x[1]
            )[:8],
            server_cpu_s_per_photo=round(cpu_s / max(counts["all"], 1), 3),
            work_cpu_ms_per_photo={
                role: round(seconds * 1000 / max(counts["all"], 1), 1)
                for role, seconds in sampler.work_cpu_by_role().items()
            },
            kernel_cpu_ms_per_photo={
                role: round(seconds * 1000 / max(counts["all"], 1), 1)
                for role, seconds in sampler.work_cpu_by_role("system").items()
            },
            client_cpu_ms_per_photo=round(client_cpu_s * 1000 / max(uploaded, 1), 1),
            web_events_per_photo={
                name: round((count - sampler.web_events_at_start.get(name, 0)) / max(counts["all"], 1), 1)
                for name, count in sampler.web_events.items()
            },
            rss_samples=sampler.samples,
            avg_processing_ms=stats.get("avg_processing_ms"),
        )
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        server.stop()

    log("baseline again ...")
    after = baseline(sources)
    report["baseline_ms_before"], report["baseline_ms_after"] = before, after
    floor_ms = statistics.median([before["decode_floor_reduced8"], after["decode_floor_reduced8"]])
    report["decode_floor_photos_per_s_1core"] = round(1000 / floor_ms, 1)
    report["ratio_to_decode_floor_1core"] = round(report["photos_per_s"] / (1000 / floor_ms), 3)
    per_photo = {k: statistics.median([before[k], after[k]]) for k in before}
    ideal = sum(per_photo[k] for k in ("sha256", "probe", "thumb", "score"))
    report["stage_sum_ms_per_photo_1core"] = round(ideal, 1)
    report["stage_bound_photos_per_s_all_cores"] = round(1000 / ideal * report["cores"], 1)
    if args.profile == "py-spy" and (workdir / "profile.txt").exists():
        report["profile"] = categorise(workdir / "profile.txt")
        report["profile_file"] = str(workdir / "profile.txt")
    report["workdir"] = str(workdir)
    if not args.keep:
        import shutil

        for sub in ("data",):
            shutil.rmtree(workdir / sub, ignore_errors=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--time-limit", type=float, default=1200, help="wall-time limit for the run, seconds")
    parser.add_argument("--concurrency", type=int, default=3, help="concurrent upload requests")
    parser.add_argument("--files-per-request", type=int, default=5)
    parser.add_argument("--score-workers", type=int, default=0, help="CLASSIFY_SCORE_WORKERS (default: unset)")
    parser.add_argument("--source-dir", default=None, help=f"JPEGs to vary (default {SPEED_DIR})")
    parser.add_argument("--profile", choices=("none", "py-spy"), default="none")
    parser.add_argument("--py-spy", default="py-spy", help="py-spy binary (pip install py-spy)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    args = parser.parse_args(argv)
    report = run(args)
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print(
        f"{report['photos_per_s']} photos/s end to end (goal >= 40), peak RSS web {report['peak_rss_web_mb']} MB, "
        f"tree {report['peak_rss_tree_mb']} MB (goal <= 300); decode floor {report['decode_floor_photos_per_s_1core']}"
        f"/s on one core, ratio {report['ratio_to_decode_floor_1core']}"
    )
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
