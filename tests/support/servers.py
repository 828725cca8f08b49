"""Throwaway PostgreSQL and Redis servers for tests.

Plain Python (no pytest import): context managers that start a server on a free loopback port with its
data in a temporary directory, wait for it with a bounded timeout and always tear it down again.

    with postgres_server() as url:      # postgresql+asyncpg://postgres@127.0.0.1:PORT/classify_test
        other = create_database(url, "some_module")
    with redis_server() as url:         # redis://127.0.0.1:PORT/0
        ...

The binaries come from Debian's packages (``postgresql``, ``redis-server``); ``.ci/install-system-deps``
installs them. PostgreSQL refuses to run as root, so as root the cluster is created and run as the
``postgres`` system user (made by the Debian package) in a temporary directory owned by that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "MissingBinaryError",
    "ServerStartError",
    "create_database",
    "drop_database",
    "find_postgres_bindir",
    "free_port",
    "postgres_server",
    "process_exited",
    "redis_server",
    "wait_for",
]

INSTALL_HINT = "run `.ci/install-system-deps` (as root) to install it"
PG_USER = "postgres"
PG_DATABASE = "classify_test"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class MissingBinaryError(RuntimeError):
    """A server binary is not installed."""


class ServerStartError(RuntimeError):
    """A server did not come up (the message carries the tail of its log)."""


# --------------------------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it; small race until it is bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    predicate: Callable[[], object],
    timeout: float,
    what: str,
    *,
    interval: float = 0.05,
    process: subprocess.Popen | None = None,
    details: Callable[[], str] | None = None,
) -> None:
    """Poll ``predicate`` until it returns something truthy, for at most ``timeout`` seconds.

    Exceptions from the predicate count as "not yet". Raises :class:`TimeoutError` naming ``what``
    (plus ``details()``, e.g. a log tail) on timeout, or :class:`ServerStartError` at once when
    ``process`` exits first.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            if predicate():
                return
        except Exception as exc:
            last_error = exc
        if process is not None and process_exited(process):
            raise ServerStartError(
                f"{what}: the process exited with code {process.wait()} before it was ready" + _details(details)
            )
        if time.monotonic() >= deadline:
            cause = f" (last error: {last_error!r})" if last_error else ""
            raise TimeoutError(f"{what} did not come up within {timeout:g}s{cause}" + _details(details))
        time.sleep(interval)


def process_exited(proc: subprocess.Popen) -> bool:
    """Has ``proc`` exited? Unlike ``poll()`` this does not reap it, so its pid (and process group id)
    cannot be reused by another process until ``wait()`` is called."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _details(details: Callable[[], str] | None) -> str:
    if details is None:
        return ""
    try:
        text = details()
    except Exception as exc:
        text = f"<could not read details: {exc!r}>"
    return f"\n{text}" if text else ""


def tail(path: str | os.PathLike[str], lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, with a header, or a note if it does not exist."""
    p = Path(path)
    try:
        content = p.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return f"--- {p}: (no log file) ---"
    return f"--- last {min(lines, len(content))} lines of {p} ---\n" + "\n".join(content[-lines:])


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM, wait up to ``timeout``, then SIGKILL."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(timeout=10)


# -------------------------------------------------------------------------------------------- postgres


def find_postgres_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<ver>/bin`` that has initdb, pg_ctl and postgres."""
    candidates = []
    for bindir in glob.glob("/usr/lib/postgresql/*/bin"):
        version = Path(bindir).parent.name
        if all(os.access(os.path.join(bindir, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            key = tuple(int(x) for x in re.findall(r"\d+", version)) or (0,)
            candidates.append((key, Path(bindir)))
    if not candidates:
        raise MissingBinaryError(
            f"PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; {INSTALL_HINT}"
        )
    return max(candidates)[1]


def _as_postgres_user() -> tuple[list[str], int | None, int | None]:
    """Command prefix (and uid/gid to chown to) for running PostgreSQL programs.

    PostgreSQL refuses to run as root; as root we drop to the ``postgres`` system user.
    """
    if os.geteuid() != 0:
        return [], None, None
    try:
        pw = pwd.getpwnam(PG_USER)
    except KeyError:
        raise MissingBinaryError(
            f"running as root, but there is no '{PG_USER}' system user to run PostgreSQL as; {INSTALL_HINT}"
        ) from None
    if shutil.which("runuser"):
        return ["runuser", "-u", PG_USER, "--"], pw.pw_uid, pw.pw_gid
    if shutil.which("setpriv"):
        return (
            ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--"],
            pw.pw_uid,
            pw.pw_gid,
        )
    raise MissingBinaryError("running as root, but neither runuser nor setpriv is available to drop to postgres")


def _tempdir_base_for(uid: int | None) -> str | None:
    """A base for mkdtemp that user ``uid`` can reach (TMPDIR may point into /root)."""
    base = tempfile.gettempdir()
    if uid is None:
        return None
    path = Path(base).resolve()
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:  # others may not traverse it
            return "/tmp"
    return base


@contextlib.contextmanager
def postgres_server(
    *,
    database: str = PG_DATABASE,
    timeout: float = 60.0,
    settings: dict[str, str] | None = None,
) -> Iterator[str]:
    """Start a throwaway PostgreSQL cluster on a free 127.0.0.1 port; yield an asyncpg SQLAlchemy URL.

    The URL is ``postgresql+asyncpg://postgres@127.0.0.1:PORT/<database>`` (trust auth, no password).
    Durability is off (fsync, synchronous_commit, full_page_writes) for speed. The cluster and its
    data directory are removed on exit, also when the body raises.
    """
    if not _IDENTIFIER.match(database):
        raise ValueError(f"bad database name {database!r}")
    bindir = find_postgres_bindir()
    prefix, uid, gid = _as_postgres_user()
    tmp = Path(tempfile.mkdtemp(prefix="classify-pg-", dir=_tempdir_base_for(uid)))
    datadir, sockdir, logfile = tmp / "data", tmp / "sock", tmp / "postgres.log"
    started = False
    try:
        sockdir.mkdir()
        if uid is not None:
            os.chown(tmp, uid, gid)
            os.chown(sockdir, uid, gid)
        initdb = subprocess.run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(datadir),
                "-U",
                PG_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if initdb.returncode != 0:
            raise ServerStartError(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}")
        # Only loopback TCP and the private unix socket, no password.
        (datadir / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8")

        for attempt in range(3):  # the free port can be taken between free_port() and bind()
            port = free_port()
            conf = {
                "listen_addresses": "'127.0.0.1'",
                "port": str(port),
                "unix_socket_directories": f"'{sockdir}'",
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "jit": "off",
                "max_connections": "200",
                "logging_collector": "off",
                **(settings or {}),
            }
            # postgresql.auto.conf is read last, so these override postgresql.conf; rewritten per attempt.
            (datadir / "postgresql.auto.conf").write_text(
                "".join(f"{k} = {v}\n" for k, v in conf.items()), encoding="utf-8"
            )
            start = subprocess.run(
                [
                    *prefix,
                    str(bindir / "pg_ctl"),
                    "start",
                    "-D",
                    str(datadir),
                    "-l",
                    str(logfile),
                    "-w",
                    "-t",
                    str(int(timeout)),
                ],
                capture_output=True,
                text=True,
                timeout=timeout + 10,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            if start.returncode == 0:
                started = True
                break
            log = tail(logfile)
            if "already in use" in log and attempt < 2:
                continue
            raise ServerStartError(
                f"PostgreSQL did not start (pg_ctl exit {start.returncode}):\n{start.stdout}\n{start.stderr}\n{log}"
            )
        wait_for(lambda: _port_open(port), 10, f"PostgreSQL on 127.0.0.1:{port}", details=lambda: tail(logfile))
        url = f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{port}/postgres"
        yield create_database(url, database)
    finally:
        if started:
            _stop_postgres(prefix, bindir, datadir)
        shutil.rmtree(tmp, ignore_errors=True)


def _stop_postgres(prefix: list[str], bindir: Path, datadir: Path) -> None:
    stop = subprocess.run(
        [*prefix, str(bindir / "pg_ctl"), "stop", "-D", str(datadir), "-m", "fast", "-w", "-t", "15"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if stop.returncode == 0:
        return
    # Last resort: SIGKILL the postmaster (its children exit when it is gone).
    with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        pid = int((datadir / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)


def _psql(url: str, sql: str, *, timeout: float = 30.0) -> None:
    parts = urlsplit(url)
    cmd = [
        str(find_postgres_bindir() / "psql"),
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or PG_USER,
        "-d",
        "postgres",
        "-c",
        sql,
    ]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"psql {sql!r} failed ({result.returncode}): {result.stderr.strip()}")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def create_database(url: str, name: str, template: str = "template0") -> str:
    """Create a fresh database ``name`` on the server of ``url``, a copy of ``template`` (empty by default),
    and return a URL for it.

    An existing database of that name is dropped first (connections to it are terminated).
    Synchronous (runs psql), so it can be called from sync and async code alike; takes ~0.1 s.
    """
    if not _IDENTIFIER.match(name):
        raise ValueError(f"bad database name {name!r}: use letters, digits and _ (max 63)")
    _psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if not _IDENTIFIER.match(template):
        raise ValueError(f"bad template name {template!r}")
    _psql(url, f'CREATE DATABASE "{name}" TEMPLATE "{template}" ENCODING \'UTF8\'')
    return _with_database(url, name)


def drop_database(url: str, name: str | None = None) -> None:
    """Drop database ``name`` (default: the one ``url`` points at), terminating its connections."""
    name = name or urlsplit(url).path.lstrip("/")
    if not _IDENTIFIER.match(name) or name == "postgres":
        raise ValueError(f"refusing to drop database {name!r}")
    _psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ----------------------------------------------------------------------------------------------- redis


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")


@contextlib.contextmanager
def redis_server(
    *, timeout: float = 20.0, extra_args: list[str] | None = None, port: int | None = None
) -> Iterator[str]:
    """Start a throwaway redis-server on a free 127.0.0.1 port, or on `port` (to start one again where another
    was), with no persistence; yield its URL.

    The URL is ``redis://127.0.0.1:PORT/0``. The server is stopped (SIGTERM, then SIGKILL) and its
    directory removed on exit, also when the body raises.
    """
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None
    )
    if binary is None:
        raise MissingBinaryError(f"redis-server not found; {INSTALL_HINT}")
    tmp = Path(tempfile.mkdtemp(prefix="classify-redis-"))
    logfile = tmp / "redis.log"
    proc: subprocess.Popen | None = None
    try:
        wanted = port
        for attempt in range(3):  # the free port can be taken between free_port() and bind()
            port = wanted or free_port()
            with open(logfile, "ab") as log:
                proc = subprocess.Popen(
                    [
                        binary,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(tmp),
                        "--daemonize",
                        "no",
                        *(extra_args or []),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            try:
                wait_for(
                    lambda port=port: _redis_ping(port),
                    timeout,
                    f"redis-server on 127.0.0.1:{port}",
                    process=proc,
                    details=lambda: tail(logfile),
                )
                break
            except ServerStartError:
                if attempt < 2 and "already in use" in tail(logfile):
                    continue
                raise
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if proc is not None:
            _stop_process(proc)
        shutil.rmtree(tmp, ignore_errors=True)
