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


def _pid_after(seconds: float) -> int:
    import time

    time.sleep(seconds)
    return os.getpid()


async def test_a_crash_costs_only_the_task_that_crashed_not_the_ones_beside_it():
    import asyncio

    offload = ProcessOffload(workers=2, memory_limit_mb=1024)
    try:
        # Both workers up, so the pool watches both when one of them dies.
        assert len(set(await asyncio.gather(offload(_pid_after, 0.5), offload(_pid_after, 0.5)))) == 2
        innocent = asyncio.create_task(offload(_pid_after, 2.0))
        await asyncio.sleep(0.3)
        with pytest.raises(WorkerCrashed):
            await offload(_crash)
        assert await innocent > 0  # failed with the pool, then ran again on its own and answered
        assert await offload(sum, [1, 2, 3]) == 6
    finally:
        offload.close()
