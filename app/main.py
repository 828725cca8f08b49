"""The Litestar app factory: one process serving the htmx UI and the JSON API, with in-process workers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from litestar import Litestar, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin, YamlRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import File
from litestar.static_files import create_static_files_router
from litestar.stores.file import FileStore
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from app.adapters.queue import InProcessQueue
from app.bootstrap import Container, bootstrap
from app.domain.model import KEEP_REMOVED_DAYS, SOURCE_NAMES
from app.domain.noise import noise_level
from app.domain.services.photos import MAX_CHOSEN
from app.domain.services.recently_removed import discard_expired
from app.domain.services.stray_files import remove_stray_files
from app.domain.sharpness_words import map_in_words
from app.domain.units import days_ago, days_until, megabytes, plural, score_text, threshold_text
from app.jobs.tasks import sweep
from app.logs import RequestIdMiddleware, configure_logging, log
from app.routes import (
    api_auth,
    api_photos,
    events,
    google_auth,
    google_photos,
    health,
    pages,
    pages_auth,
    recently_removed,
    removal,
    selection,
    similar,
    tagging,
)
from app.routes.deps import provide_container, server_features
from app.routes.errors import EXCEPTION_HANDLERS
from app.routes.nul_guard import NulGuardMiddleware
from app.routes.openapi_docs import COMPONENTS
from app.routes.security import CallerMiddleware
from app.routes.sessions import SESSION_COOKIE, SignInSessionConfig, sweep_expired_sessions
from app.settings import MIN_SECRET_KEY, Settings

# Any request but an upload: a batch of MAX_CHOSEN photo ids fits, as indented JSON or a form (up to 50 bytes an
# id). Before it, the limit was an upload batch's (2.5 GB by default), and a sign-in form or JSON body is read
# whole: one anonymous request could make the process hold gigabytes.
BODY_LIMIT = MAX_CHOSEN * 50 + 64 * 1024
ROOT = Path(__file__).resolve().parent.parent
SWEEP_EVERY_SECONDS = 180
STRAY_SWEEP_SECONDS = 3600
FIRST_STRAY_SWEEP_SECONDS = 60  # after start: out of the way of the first requests and the job sweep
FIRST_SWEEP_AFTER_SECONDS = 5  # let start-up finish and the first requests through before a backlog is queued
SWAGGER = "/static/vendor/swagger-ui-5.35.0"
UNGUARDED = ["^/static/", "^/health", "^/metrics", "^/schema", "^/favicon.ico$"]
FAVICON = "<link rel='icon' href='/static/favicon.svg' type='image/svg+xml'>"


@get("/favicon.ico", include_in_schema=False, cache=86400)
async def favicon() -> File:
    """What browsers ask for where a page names no icon (a JSON answer, an image): the app's own, not a 404."""
    return File(ROOT / "static" / "favicon.svg", media_type="image/svg+xml", content_disposition_type="inline")


async def _sweep_forever(container: Container) -> None:
    await asyncio.sleep(FIRST_SWEEP_AFTER_SECONDS)
    while True:
        try:
            queued = await sweep({"container": container})
            if queued:
                log.info("queued unfinished work again", items=queued)
        except Exception:
            log.exception("sweep failed")
        await asyncio.sleep(SWEEP_EVERY_SECONDS)


async def _tidy_storage_hourly(container: Container) -> None:
    """Every web process has the data dir (shared, when scaled out): removing a file twice is harmless.

    Each hour: files no photo owns (what a crash or a kill left: a file written before its row, or a deletion
    for good cut off after its rows went), and the photos whose time in Recently removed is over. The first
    round comes soon after start, so a server restarted more often than hourly still gets to it. Each goes on
    its own: one that fails does not hold the other up."""
    await asyncio.sleep(FIRST_STRAY_SWEEP_SECONDS)
    while True:
        try:
            if removed := await remove_stray_files(uow=container.uow, storage=container.storage):
                log.info("removed files no photo owns", files=removed)
        except Exception:
            log.exception("removing stray files failed")
        try:
            if expired := await discard_expired(uow=container.uow, storage=container.storage, clock=container.clock):
                log.info("let go of photos past their time in Recently removed", photos=expired)
        except Exception:
            log.exception("letting go of expired photos in Recently removed failed")
        await asyncio.sleep(STRAY_SWEEP_SECONDS)


def _start_workers(container: Container) -> list[asyncio.Task[None]]:
    """In-process queue: its workers and the sweeper. With Redis, an arq worker, only when told to."""
    if not container.settings.run_worker:
        if isinstance(container.queue, InProcessQueue):  # /health/services says so too
            log.warning("nothing runs the tasks: CLASSIFY_RUN_WORKER is off and REDIS_URL is not set")
        return []
    if isinstance(container.queue, InProcessQueue):
        container.queue.start({"container": container})
        return [asyncio.create_task(_sweep_forever(container))]
    from app.jobs.worker import arq_worker

    worker = arq_worker(container.settings, handle_signals=False)
    return [asyncio.create_task(worker.async_run())]


def _lifespan(container: Container):
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.container = container
        background = _start_workers(container)
        background.append(asyncio.create_task(sweep_expired_sessions(app.stores.get("sessions"))))
        background.append(asyncio.create_task(_tidy_storage_hourly(container)))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            # Let them finish their clean-up (a sweep's session closing) before the database goes: a task
            # still closing a connection that dispose() has closed can wait forever and hang the exit.
            await asyncio.gather(*background, return_exceptions=True)
            await container.close()

    return lifespan


def _template_setup(container: Container) -> Callable[[JinjaTemplateEngine], None]:
    """Filters, and what this server is set up for (`features`): pages offer only what can work here."""
    features = server_features(container)

    def setup(engine: JinjaTemplateEngine) -> None:
        engine.engine.filters.update(
            plural=plural,
            noise_level=noise_level,
            megabytes=megabytes,
            ago=days_ago,
            until=days_until,
            threshold_text=threshold_text,
            score_text=score_text,
            map_in_words=map_in_words,
        )
        engine.engine.globals["features"] = features
        engine.engine.globals["source_names"] = {source.value: name for source, name in SOURCE_NAMES.items()}
        engine.engine.globals["keep_days"] = KEEP_REMOVED_DAYS  # how long Recently removed keeps a photo

    return setup


# Only the server's own scripts run (no inline script, no eval: htmx's is off in base.html); inline styles are
# allowed for the style attributes the sharpness map and htmx's indicators use. The API docs page (/schema)
# starts Swagger UI with an inline script, so it gets the framing rule alone.
CONTENT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)


async def security_headers(message: Message, scope: Scope) -> None:
    """No page of Classify is meant to be framed (its buttons could be clicked through another site), and none
    runs a script it did not serve. Set on every response as it starts, error pages and redirects included."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS:
            if name not in headers:
                headers[name] = value
        if "Content-Security-Policy" not in headers:
            docs = scope["path"].startswith("/schema")
            headers["Content-Security-Policy"] = "frame-ancestors 'none'" if docs else CONTENT_POLICY


STRICT_TRANSPORT = "max-age=31536000"  # a year: a browser that has seen the https site never tries http


async def strict_transport(message: Message, scope: Scope) -> None:
    """Behind https (CLASSIFY_PUBLIC_URL), a browser is told to keep to it, so no one on its network can serve
    it the site over plain http first and read the session cookie's sign-in on the way."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        if "Strict-Transport-Security" not in headers:
            headers["Strict-Transport-Security"] = STRICT_TRANSPORT


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    settings = settings or (container.settings if container else Settings.from_env())
    configure_logging(settings.log_level)
    if len(settings.secret_key) < MIN_SECRET_KEY:
        log.warning(f"CLASSIFY_SECRET_KEY is short; use one of at least {MIN_SECRET_KEY} characters")
    container = container or bootstrap(settings)
    sessions = SignInSessionConfig(
        key=SESSION_COOKIE,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        max_age=14 * 24 * 3600,
        exclude=["^/api/", "^/static/", "^/health", "^/metrics"],
    )
    prometheus = PrometheusConfig(app_name="classify", group_path=True, exclude=["^/metrics", "^/static/"])
    return Litestar(
        route_handlers=[
            *pages_auth.HANDLERS,
            *pages.HANDLERS,
            *events.HANDLERS,
            *google_auth.HANDLERS,
            *google_photos.HANDLERS,
            *tagging.HANDLERS,
            *removal.HANDLERS,
            *recently_removed.HANDLERS,
            *selection.HANDLERS,
            *similar.HANDLERS,
            *api_auth.HANDLERS,
            *api_photos.HANDLERS,
            *health.HANDLERS,
            favicon,
            create_static_files_router(path="/static", directories=[ROOT / "static"], include_in_schema=False),
        ],
        lifespan=[_lifespan(container)],
        dependencies={"container": Provide(provide_container, sync_to_thread=False)},
        middleware=[
            RequestIdMiddleware,
            NulGuardMiddleware,
            prometheus.middleware,
            sessions.middleware,
            DefineMiddleware(CallerMiddleware, exclude=UNGUARDED),
        ],
        stores={"sessions": FileStore(settings.data_dir / "sessions", create_directories=True)},
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="csrftoken",
            header_name="x-csrftoken",
            cookie_secure=settings.secure_cookies,
            exclude=["^/api/", "^/health", "^/metrics"],
        ),
        template_config=TemplateConfig(
            directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=_template_setup(container)
        ),
        plugins=[HTMXPlugin()],
        before_send=[security_headers, *([strict_transport] if settings.secure_cookies else [])],
        openapi_config=OpenAPIConfig(
            title="Classify API",
            version="1",
            components=COMPONENTS,
            path="/schema",
            render_plugins=[  # vendored, so the docs page works without reaching a CDN
                SwaggerRenderPlugin(
                    path=["/", "/swagger"],  # /schema/swagger: where Litestar puts it by default
                    js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                    css_url=f"{SWAGGER}/swagger-ui.css",
                    standalone_preset_js_url=f"{SWAGGER}/swagger-ui-standalone-preset.js",
                    favicon=FAVICON,  # Litestar's default is fetched from a CDN
                ),
                YamlRenderPlugin(),  # /schema/openapi.yaml, for tools that read YAML (Litestar adds the JSON itself)
            ],
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=BODY_LIMIT,  # the two upload routes take more, counted as they stream in
        logging_config=None,  # app.logs configures JSON logging for the whole process
        debug=False,
    )
