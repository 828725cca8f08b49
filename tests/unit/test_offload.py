"""CPU work runs in worker processes: a crash costs one task, never the caller, and the pool recovers."""

import os

import pytest

from app.adapters.offload import ProcessOffload, WorkerCrashed


def _crash() -> None:
    os._exit(1)  # what a segfaulting decoder looks like from outside


def _hog() -> int:
    return len(bytearray(3 * 1024**3))  # far over the worker's address-space limit


async def test_a_crashing_task_raises_and_the_next_task_runs():
    offload = ProcessOffload(workers=1, memory_limit_mb=1024)
    try:
        with pytest.raises(WorkerCrashed):
            await offload(_crash)
        assert await offload(sum, [1, 2, 3]) == 6
        with pytest.raises(WorkerCrashed):
            await offload(_hog)
        assert await offload(os.getpid) != os.getpid()
    finally:
        offload.close()
