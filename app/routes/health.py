"""Liveness, readiness and the state of every dependency, as JSON and as the System page."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.prometheus import PrometheusController
from litestar.response import Response, Template
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text

from app.adapters.arq_queue import WORKER_REPORT_SECONDS
from app.adapters.kept_check import CheckAnswer
from app.bootstrap import Container
from app.routes.deps import server_features
from app.routes.security import requires_page_user

CHECK_SECONDS = 3.0  # a dependency that takes longer to answer is as good as down to the one asking


async def _timed(check: Any) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), CHECK_SECONDS)
        status = "ok"
    except TimeoutError:
        detail, status = f"no answer within {CHECK_SECONDS:g} s", "error"
    except Exception as exc:
        # the reason in words, as the System and Jobs pages show it (not "RuntimeError: …")
        detail, status = (str(exc).strip() or type(exc).__name__)[:300], "error"
    return {"status": status, "latency_ms": round((time.perf_counter() - start) * 1000, 2), "detail": detail}


async def _database(container: Container) -> str:
    async with container.engine.connect() as conn:
        await conn.execute(text("select 1"))
    return "sqlite" if container.settings.is_sqlite else "postgresql"


async def _queue(container: Container) -> str:
    if hasattr(container.queue, "backlog_size"):
        return f"redis, {await container.queue.backlog_size()} waiting"
    return f"in-process, {container.queue.backlog} waiting"


async def _workers(container: Container) -> str:
    """Whether anything takes the queue's tasks: this process, or `classify worker` processes (on Redis)."""
    if not hasattr(container.queue, "worker_report"):
        if container.settings.run_worker:
            return "in this process"
        raise RuntimeError(  # a process of its own only with Redis: without it, no other process sees the tasks
            f"nothing runs the tasks ({container.queue.backlog} waiting): CLASSIFY_RUN_WORKER is off and REDIS_URL is "
            "not set; unset CLASSIFY_RUN_WORKER, or set REDIS_URL and start `classify worker`"
        )
    report, waiting = await container.queue.worker_report(), await container.queue.backlog_size()
    if report is not None:
        return f"a worker reported in the last {WORKER_REPORT_SECONDS} s ({report})"
    if container.settings.run_worker:
        return "this process runs the tasks (CLASSIFY_RUN_WORKER)"
    if waiting:
        raise RuntimeError(
            f"no worker has reported in the last {WORKER_REPORT_SECONDS} s, and {waiting} "
            f"{'task is' if waiting == 1 else 'tasks are'} waiting: "
            "start `classify worker`, or check why the workers stopped"
        )
    return f"no worker has reported in the last {WORKER_REPORT_SECONDS} s; nothing is waiting"


async def workers_missing(container: Container) -> str | None:
    """Why nothing will take a queued job's tasks, or None while something does (the Jobs page says it)."""
    check = await _timed(lambda: _workers(container))
    return check["detail"] if check["status"] == "error" else None


async def _storage(container: Container) -> str:
    usage = shutil.disk_usage(container.settings.data_dir)
    if usage.free < 200 * 1024 * 1024:
        raise RuntimeError(f"only {usage.free // 2**20} MB free in the data dir")
    return f"{usage.free / 2**30:.1f} GB free"


async def _kept(check: Callable[[], Awaitable[CheckAnswer]]) -> dict[str, Any]:
    answer = await check()
    return {"status": "ok" if answer.ok else "error", "latency_ms": answer.latency_ms, "detail": answer.detail}


async def _not_configured(name: str) -> dict[str, Any]:
    return {"status": "not_configured", "latency_ms": 0.0, "detail": f"{name} is not set up; what needs it is off"}


async def service_report(container: Container) -> dict[str, dict[str, Any]]:
    features = server_features(container)
    # the outside services are asked at once, each with its own answer kept a minute (adapters/kept_check.py)
    outside = {
        "google": (container.google.check, container.google.configured, "Google sign-in (GOOGLE_CLIENT_ID)"),
        "google_drive": (container.drive.check, bool(container.drive.api_key), "Public Drive folders (GOOGLE_API_KEY)"),
        "dropbox": (container.dropbox.check, features["dropbox"], "Dropbox (DROPBOX_APP_KEY)"),
        "vision": (container.vision.check, features["ai"], "AI tagging (OPENAI_API_KEY / OPENAI_BASE_URL)"),
    }
    asked = (_kept(check) if on else _not_configured(name) for check, on, name in outside.values())
    answers = await asyncio.gather(*asked)
    return {
        "database": await _timed(lambda: _database(container)),
        "queue": await _timed(lambda: _queue(container)),
        "workers": await _timed(lambda: _workers(container)),
        "storage": await _timed(lambda: _storage(container)),
        **dict(zip(outside, answers, strict=True)),
    }


@get("/health", include_in_schema=True, tags=["health"], summary="The process is up")
async def liveness() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/health/ready",
    tags=["health"],
    summary="The database and the queue answer",
    responses={
        503: ResponseSpec(
            dict[str, Any], description="A check failed: the same report, with its error.", generate_examples=False
        )
    },
)
async def readiness(request: Request) -> Response[dict[str, Any]]:
    container: Container = request.app.state.container
    checks = {"database": await _timed(lambda: _database(container)), "queue": await _timed(lambda: _queue(container))}
    ready = all(c["status"] == "ok" for c in checks.values())
    return Response({"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503)


@get("/health/services", tags=["health"], summary="Each external service: set up, answering, how fast")
async def services(request: Request) -> dict[str, Any]:
    report = await service_report(request.app.state.container)
    overall = "ok" if all(v["status"] in ("ok", "not_configured") for v in report.values()) else "degraded"
    return {"status": overall, "services": report}


@get("/system", guards=[requires_page_user], include_in_schema=False)
async def system_page(request: Request) -> Template:
    report = await service_report(request.app.state.container)
    name = "_services.html" if request.headers.get("hx-request") else "system.html"
    return Template(name, context={"services": report, "user": request.user, "active": "system"})


PROMETHEUS_TEXT = CONTENT_TYPE_LATEST.split("; charset")[0]  # Litestar adds the charset to text/* itself


class MetricsController(PrometheusController):
    """/metrics in Prometheus' text format, documented as such (Litestar's own handler is documented as JSON)."""

    @get(media_type=PROMETHEUS_TEXT, tags=["health"], summary="Prometheus metrics, in its text format")
    async def get(self) -> Response[bytes]:
        return Response(generate_latest(REGISTRY), media_type=PROMETHEUS_TEXT)


HANDLERS = [liveness, readiness, services, system_page, MetricsController]
