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


PARENT = """
import asyncio, os, sys
from app.adapters.offload import ProcessOffload

async def main():
    offload = ProcessOffload(workers=1, memory_limit_mb=1024)
    print(await offload(os.getpid), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_the_pool_process_ends_when_its_parent_is_killed():
    """kill -9 of a worker or web process used to leave its scoring processes running, orphaned, for good."""
    import signal
    import subprocess
    import sys
    import time

    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        os.kill(child, 0)  # alive
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the pool process outlived its killed parent")
    finally:
        if parent.poll() is None:
            parent.kill()


def test_scoring_processes_are_as_many_as_the_memory_holds_beside_the_web_process():
    """A process per core on a 512 MB VM peaked at 513 MB with the web process (outside review)."""
    from app.adapters.offload import workers_for

    assert workers_for(2, 512) == 1  # a 512 MB VM
    assert workers_for(2, 1024) == 2 and workers_for(8, 1024) == 4  # fly.toml's 1 GB: what it holds
    assert workers_for(1, 256) == 1  # never none
    assert workers_for(4, None) == 4  # memory unknown: one per core, as before
