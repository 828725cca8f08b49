"""Run the app (or any HTTP server command) as a subprocess on a free loopback port.

    with live_server({"CLASSIFY_DATABASE_URL": url}) as server:
        httpx.get(server.url + "/health")
        server.kill()       # SIGKILL, for crash tests
        server.restart()    # same port, same env

The default command is ``classify serve --host 127.0.0.1 --port PORT`` (``app.cli.main`` run with
``sys.executable``) from the repository root. In ``command`` and in the values of ``env``, the text
``{port}`` is replaced by the chosen port. stdout and stderr go to ``server.log_path``; its tail is
part of the error when startup fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

from tests.support.servers import ServerStartError, free_port, process_exited, tail, wait_for

__all__ = ["REPO_ROOT", "LiveServer", "live_server"]

REPO_ROOT = Path(__file__).resolve().parents[2]


# Same as `classify serve ...` / `python -m app.cli serve ...`, but also works while app/cli has no
# __main__.py (`python -m <package>` needs one; an `if __name__ == "__main__"` in __init__.py is not enough).
APP_CLI = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"


def default_command(port: int) -> list[str]:
    """``classify serve --host 127.0.0.1 --port PORT`` with the running interpreter."""
    return [sys.executable, "-c", APP_CLI, "serve", "--host", "127.0.0.1", "--port", str(port)]


class LiveServer:
    """A server subprocess; use :func:`live_server` rather than constructing this directly."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        command: Sequence[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        ready_path: str = "/health",
        timeout: float = 60.0,
        port: int | None = None,
        log_dir: str | os.PathLike[str] | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.url = f"http://{self.host}:{self.port}"
        self.ready_path = ready_path
        self.timeout = timeout
        self.stop_timeout = stop_timeout
        self.cwd = Path(cwd) if cwd is not None else REPO_ROOT
        raw = list(command) if command is not None else default_command(self.port)
        self.command = [arg.replace("{port}", str(self.port)) for arg in raw]
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            **{k: v.replace("{port}", str(self.port)) for k, v in env.items()},
        }
        self._own_log_dir = log_dir is None
        self._log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="classify-live-"))
        self.log_path = self._log_dir / f"server-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    # ------------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the process and wait until GET ``ready_path`` answers 200."""
        if self.running:
            raise RuntimeError(f"live server on {self.url} is already running")
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"=== start #{self.starts}: {' '.join(self.command)} (cwd {self.cwd})\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # own process group: teardown also reaches its children
            )
        try:
            wait_for(
                self._ready,
                self.timeout,
                f"live server {self.command!r} (GET {self.url}{self.ready_path} -> 200)",
                interval=0.1,
                process=self.process,
                details=lambda: tail(self.log_path, 60),
            )
        except (TimeoutError, ServerStartError):
            self.stop()
            raise

    def _ready(self) -> bool:
        response = httpx.get(f"{self.url}{self.ready_path}", timeout=2.0)
        return response.status_code == 200

    @property
    def running(self) -> bool:
        return self.process is not None and not self._exited()

    def _exited(self) -> bool:
        return self.process is None or process_exited(self.process)

    def _wait_exited(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._exited():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM the process group, wait up to ``timeout`` (default ``stop_timeout``), then SIGKILL.

        Returns the exit code (negative signal number when killed by a signal)."""
        timeout = self.stop_timeout if timeout is None else timeout
        proc = self.process
        if proc is None:
            return None
        if proc.returncode is None:
            self._signal(signal.SIGTERM)
            if not self._wait_exited(timeout):
                self._signal(signal.SIGKILL)
                self._wait_exited(10)
            # Children that ignored SIGTERM (e.g. worker processes) must not outlive the test.
            self._signal(signal.SIGKILL)
        return proc.wait(timeout=10)

    def kill(self) -> int | None:
        """SIGKILL the server (and its process group) at once, as in a crash. Returns the exit code."""
        proc = self.process
        if proc is None:
            return None
        self._signal(signal.SIGKILL)
        return proc.wait(timeout=10)

    def restart(self) -> None:
        """Stop the server if it still runs, then start it again on the same port with the same env."""
        self.stop()
        self.start()

    def _signal(self, sig: signal.Signals) -> None:
        proc = self.process
        # Only while our child is not reaped: its pid is then still taken, so the group id
        # (= its pid, start_new_session=True) cannot belong to anybody else.
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def read_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def close(self) -> None:
        self.stop()
        if self._own_log_dir:
            shutil.rmtree(self._log_dir, ignore_errors=True)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LiveServer {self.url} {state} log={self.log_path}>"


@contextlib.contextmanager
def live_server(
    env: Mapping[str, str],
    *,
    command: Sequence[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    ready_path: str = "/health",
    timeout: float = 60.0,
    port: int | None = None,
    log_dir: str | os.PathLike[str] | None = None,
    stop_timeout: float = 10.0,
) -> Iterator[LiveServer]:
    """Start a server subprocess on a free 127.0.0.1 port and wait until it answers 200 on ``ready_path``.

    ``env`` is layered over ``os.environ``. Teardown sends SIGTERM, waits, then SIGKILL, and removes the
    log unless ``log_dir`` was given. On a failed start the error contains the tail of the log.
    """
    server = LiveServer(
        env,
        command=command,
        cwd=cwd,
        ready_path=ready_path,
        timeout=timeout,
        port=port,
        log_dir=log_dir,
        stop_timeout=stop_timeout,
    )
    try:
        server.start()
        yield server
    finally:
        server.close()
