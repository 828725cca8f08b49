"""CPU work (decoding, scoring) off the event loop, in a bounded pool of worker processes.

Processes rather than threads so that a decoder crash or an out-of-memory costs one task, never the web
process; each worker has an address-space limit and OpenCV is kept to one thread per worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import os
import resource
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class WorkerCrashed(RuntimeError):
    """A worker process died (a crash, or it ran out of its memory limit) while running a task."""


CRASHED = "The image worker crashed or ran out of memory on this photo."
OUT_OF_MEMORY = "This photo needs more memory than an image worker may use."


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
# A phone photo's bytes (3-8 MB) and its reduced decodes come from the heap and are reused photo after
# photo; anything bigger (a large decode) from mmap. A 256 KB threshold mapped and faulted in every buffer
# afresh: 13 % more CPU per photo, for 5 MB less RSS.
MMAP_THRESHOLD = 8 * 1024 * 1024
TRIM_THRESHOLD = 32 * 1024 * 1024


def tune_allocator() -> None:
    """Photo-sized buffers from the heap, reused; big ones (large decodes) from mmap, given back when freed.

    glibc raises its mmap threshold after the first big free, to up to 32 MB, and from then on serves images
    from the heap, which keeps a worker's RSS near its largest photo so far between tasks. A fixed
    threshold stops that; free heap beyond TRIM_THRESHOLD is given back too. The web process, which holds
    each upload's bytes, gets the same, so that its buffers are not mapped and faulted in afresh either.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: leave the allocator alone
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def _init_worker(memory_limit_bytes: int) -> None:
    _end_with_parent()
    if memory_limit_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    tune_allocator()
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - cv2 is a dependency
        pass


def _end_with_parent() -> None:
    """End this pool process when the process that made it dies.

    A pool's processes end when their parent shuts the pool down, but a parent killed outright (kill -9, the
    out-of-memory killer) shuts nothing down: each of its scoring processes (about 120 MB) stayed, orphaned,
    until someone ended it by hand, and a worker restarted under a supervisor left one more every time.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's sentinel closes: it has exited, however it ended
        os._exit(0)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


# Measured over rounds of 320 uploads of 12 MP photos (outside review): the web process levels off near 212 MB
# and peaks at 276 MB, each scoring process adds about 120 MB. A process per core on a 512 MB VM peaked at 513 MB.
WEB_PROCESS_MB, SCORING_PROCESS_MB = 280, 160
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def default_workers() -> int:
    """A scoring process per core, as many as the machine's memory holds beside the web process."""
    return workers_for(max(1, len(os.sched_getaffinity(0))), memory_mb())


def workers_for(cores: int, memory: int | None) -> int:
    if memory is None:
        return cores
    return max(1, min(cores, (memory - WEB_PROCESS_MB) // SCORING_PROCESS_MB))


def memory_mb() -> int | None:
    """The memory this process may use: a container's limit, or the machine's."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None
    limits = [physical]
    for path in CGROUP_LIMITS:
        with contextlib.suppress(OSError, ValueError):
            limits.append(int(Path(path).read_text().strip()))  # "max": no limit, and no int
    return min(limits) // 2**20


class _PoolBroken(Exception):
    """A worker of the shared pool died: every task then in flight fails with it, not only its own."""


class ProcessOffload:
    """At most `workers` tasks at once in a pool of worker processes.

    When a worker dies, the pool fails every task then in flight, whichever of them killed it. Each such
    task runs once more on its own, in a one-worker pool, one at a time: the one that crashes again there
    is reported (WorkerCrashed), the others return their results. So a hostile file costs its own task only.
    """

    def __init__(self, workers: int = 0, memory_limit_mb: int = 2048) -> None:
        self.workers = workers or default_workers()
        self._memory_limit = memory_limit_mb * 1024 * 1024
        self._pool: ProcessPoolExecutor | None = None
        self._slots = asyncio.Semaphore(self.workers)
        self._alone = asyncio.Lock()

    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of a process that runs threads
            initializer=_init_worker,
            initargs=(self._memory_limit,),
            # A fresh worker bounds any slow leak in the decoders, but costs ~0.5 s of CPU to import
            # OpenCV, NumPy and Pillow: every 500 tasks that was ~1 ms a photo, every 2000 a quarter of it.
            max_tasks_per_child=2000,
        )

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            async with self._slots:
                return await self._run_shared(fn, *args)
        except _PoolBroken:
            async with self._alone:
                return await self._run_alone(fn, *args)

    async def _run_shared(self, fn: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            self._pool = self._new_pool(self.workers)
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            if self._pool is pool:  # the first task to see the crash replaces the pool for everyone
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise _PoolBroken from None
        except MemoryError:
            raise WorkerCrashed(OUT_OF_MEMORY) from None

    async def _run_alone(self, fn: Callable[..., T], *args: Any) -> T:
        pool = self._new_pool(1)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            raise WorkerCrashed(CRASHED) from None
        except MemoryError:
            raise WorkerCrashed(OUT_OF_MEMORY) from None
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        # Waited for (a task in hand takes well under a second): left running, the workers' semaphores were
        # reported at exit by multiprocessing's resource tracker, a warning that is not a JSON log line.
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


async def run_inline(fn: Callable[..., T], *args: Any) -> T:
    """An offload for tests and tiny tools: run in a thread of this process."""
    return await asyncio.to_thread(fn, *args)
