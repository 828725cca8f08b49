"""uvicorn's server, which also tells the app when it is asked to stop."""

from __future__ import annotations

import asyncio
from types import FrameType

import uvicorn


class StoppableServer(uvicorn.Server):
    """On SIGTERM or Ctrl-C, `stopping` is set before uvicorn waits for open answers: a progress stream, which
    would otherwise last until its job ends, closes at once and its browser reconnects."""

    def __init__(self, config: uvicorn.Config, stopping: asyncio.Event) -> None:
        super().__init__(config)
        self.stopping = stopping

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopping.set()
        super().handle_exit(sig, frame)
