"""Configuration, read once from the environment (every variable is documented in the README)."""

from __future__ import annotations

import ipaddress
import math
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

GOOGLE_DEFAULT_ROOTS = {
    "google_auth_url": ("GOOGLE_AUTH_URL", "https://accounts.google.com/o/oauth2/v2/auth"),
    "google_token_url": ("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"),
    "google_revoke_url": ("GOOGLE_REVOKE_URL", "https://oauth2.googleapis.com/revoke"),
    "google_userinfo_url": ("GOOGLE_USERINFO_URL", "https://openidconnect.googleapis.com/v1/userinfo"),
    "google_picker_api": ("GOOGLE_PICKER_API", "https://photospicker.googleapis.com/v1"),
    "google_photos_library_api": ("GOOGLE_PHOTOS_LIBRARY_API", "https://photoslibrary.googleapis.com/v1"),
    "google_drive_api": ("GOOGLE_DRIVE_API", "https://www.googleapis.com/drive/v3"),
    "dropbox_api": ("DROPBOX_API", "https://api.dropboxapi.com/2"),
    "dropbox_content_api": ("DROPBOX_CONTENT_API", "https://content.dropboxapi.com/2"),
}


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL")  # the names logging takes
MIN_SECRET_KEY = 16  # characters a key should have (a generated one has 64); a shorter one is warned about
# What libpq-style URLs (Fly, Neon, Heroku) say as sslmode, asyncpg takes as ssl, with the same values.
LIBPQ_TO_ASYNCPG = {"sslmode": "ssl"}


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message names the variable."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


EMAIL_OR_DOMAIN = re.compile(r"^[^@\s;]*@[^@\s;]+\.[^@\s;]+$")


def _email_list(name: str) -> tuple[str, ...]:
    """Addresses and "@domain"s separated by commas or spaces, lower-cased; anything else would match nobody."""
    words = tuple(word.lower() for word in re.split(r"[\s,]+", _env(name) or "") if word)
    for word in words:
        if not EMAIL_OR_DOMAIN.match(word):
            raise SettingsError(
                f"{name}: {word!r} is neither an email address nor an @domain such as @example.com "
                "(separate them with commas or spaces)"
            )
    return words


def _paired(first: str, second: str) -> tuple[str | None, str | None]:
    """Two variables that work only together: one without the other is refused, not a feature quietly off."""
    a, b = _env(first), _env(second)
    if bool(a) != bool(b):
        given, missing = (first, second) if a else (second, first)
        raise SettingsError(f"{given} is set but {missing} is not: set both, or neither")
    return a, b


def _proxies(name: str, default: str) -> str:
    """uvicorn's FORWARDED_ALLOW_IPS: addresses or networks, comma-separated, or *."""
    raw = _env(name, default) or default
    for entry in (part.strip() for part in raw.split(",")):
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(f"{name}: {entry!r} is not an IP address or network (such as 10.0.0.0/8)") from None
    return raw


def _import_root(name: str) -> Path | None:
    raw = _env(name)
    if raw is None:
        return None
    root = Path(raw).resolve()
    if not root.is_dir():
        raise SettingsError(f"{name}={raw} is not a folder on this server")
    return root


def _env_number(name: str, default: float, *, minimum: float = 0) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, not {raw!r}")
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {raw!r}")
    return value


def _env_flag(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in TRUE_WORDS:
        return True
    if raw.lower() in FALSE_WORDS:
        return False
    raise SettingsError(f"{name} must be 1 or 0 (or true/false, yes/no, on/off), not {raw!r}")


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (_env(name) or default).upper()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {_env(name)!r}")
    return value


def _env_url(name: str, default: str | None = None, *, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """A URL setting, refused at start-up when it cannot work: it would otherwise fail at first use, far from
    the variable that caused it."""
    raw = _env(name, default)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not (parts.netloc or parts.scheme == "unix"):
        raise SettingsError(f"{name} must be a URL starting {' or '.join(s + '://' for s in schemes)}, not {raw!r}")
    return raw


def data_dir_path() -> Path:
    """Where CLASSIFY_DATA_DIR points, without making it."""
    return Path(_env("CLASSIFY_DATA_DIR", "./data") or "./data").resolve()


def _data_dir() -> Path:
    data_dir = data_dir_path()
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new one: photos and database, the owner's only
    except OSError as exc:
        raise SettingsError(f"CLASSIFY_DATA_DIR={data_dir} cannot be used: {exc.strerror or exc}") from None
    return data_dir


def _secret_key(data_dir: Path) -> str:
    """CLASSIFY_SECRET_KEY, or a key generated once and kept in the data dir (mode 600)."""
    if key := _env("CLASSIFY_SECRET_KEY"):
        return key  # a short one works, and start-up warns of it (app.main): refusing it would stop servers
    path = data_dir / "secret_key"
    try:
        key = path.read_text().strip() if path.exists() else _new_secret_key(path)
    except OSError as exc:
        raise SettingsError(f"CLASSIFY_DATA_DIR={data_dir} cannot be used: {exc.strerror or exc}") from None
    if not key:  # an empty key signs nothing: every API sign-in was a 500
        raise SettingsError(f"{path} holds no usable key; delete it to have a new one made, or set CLASSIFY_SECRET_KEY")
    return key


def _new_secret_key(path: Path) -> str:
    """Written whole under a temporary name, then linked into place: processes starting together on a new
    data folder all read the one key that won, never a file still being written."""
    key = secrets.token_urlsafe(48)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(key)
        os.link(draft, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink(missing_ok=True)
    return key


def normalise_database_url(url: str) -> str:
    """Accept the plain URLs people paste (postgres://, postgresql://, with ?sslmode=) and pick the async
    drivers."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return _asyncpg_query("postgresql+asyncpg://" + url[len(prefix) :])
    if url.startswith("postgresql+asyncpg://"):
        return _asyncpg_query(url)
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def _asyncpg_query(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [(LIBPQ_TO_ASYNCPG.get(key, key), value) for key, value in parse_qsl(parts.query)]
    return parts._replace(query=urlencode(query)).geturl()


def _database_url(data_dir: Path) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    default = f"sqlite+aiosqlite:///{data_dir / 'classify.db'}"
    url = normalise_database_url(_env("DATABASE_URL", default) or default)
    example = "postgresql://user:password@host:5432/name or sqlite:///path/to/file.db"
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise SettingsError(f"DATABASE_URL is not a database URL ({example})") from None
    if backend not in ("postgresql", "sqlite"):
        raise SettingsError(f"DATABASE_URL must be a PostgreSQL or SQLite database, not {backend} ({example})")
    return url


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    redis_url: str | None = None
    max_upload_mb: float = 50
    max_files_per_request: int = 50
    max_pixels: int = 100_000_000
    max_side: int = 30_000
    quota_mb: float | None = None  # each person's stored originals, at most; None: no quota
    min_free_mb: float = 100  # disk space originals leave free
    import_root: Path | None = None
    public_url: str | None = None
    # uvicorn's own FORWARDED_ALLOW_IPS, given to it by `classify serve` (its default changed between versions)
    forwarded_allow_ips: str = "127.0.0.1,::1"
    google_client_id: str | None = None
    google_client_secret: str | None = None
    # who may make an account by signing in with Google: addresses and "@domain"s; empty: anyone
    allowed_emails: tuple[str, ...] = ()
    google_api_key: str | None = None
    dropbox_app_key: str | None = None
    dropbox_app_secret: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    vision_model: str = "gpt-4o-mini"
    vision_monthly_limit: int = 500
    vision_timeout: float = 30.0
    run_worker: bool = True
    score_workers: int = 0
    log_level: str = "INFO"
    service_roots: dict[str, str] = field(default_factory=dict)

    @property
    def quota_bytes(self) -> int | None:
        return None if self.quota_mb is None else int(self.quota_mb * 1024 * 1024)

    @property
    def min_free_bytes(self) -> int:
        return int(self.min_free_mb * 1024 * 1024)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @property
    def renditions_dir(self) -> Path:
        return self.data_dir / "renditions"

    def root(self, name: str) -> str:
        """A service's base URL: the configured one, else the real service's."""
        return self.service_roots.get(name) or GOOGLE_DEFAULT_ROOTS[name][1]

    @classmethod
    def from_env(cls) -> Settings:
        """Every variable, checked now: a value that cannot work is a SettingsError naming it."""
        data_dir = _data_dir()
        google_client_id, google_client_secret = _paired("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")
        dropbox_app_key, dropbox_app_secret = _paired("DROPBOX_APP_KEY", "DROPBOX_APP_SECRET")
        redis_url = _env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
        return cls(
            data_dir=data_dir,
            database_url=_database_url(data_dir),
            secret_key=_secret_key(data_dir),
            redis_url=redis_url,
            max_upload_mb=_env_number("CLASSIFY_MAX_UPLOAD_MB", 50, minimum=1),
            max_files_per_request=int(_env_number("CLASSIFY_MAX_FILES", 50, minimum=1)),
            max_pixels=int(_env_number("CLASSIFY_MAX_PIXELS", 100_000_000, minimum=1)),
            max_side=int(_env_number("CLASSIFY_MAX_SIDE", 30_000, minimum=1)),
            quota_mb=_env_number("CLASSIFY_QUOTA_MB", 0, minimum=1) if _env("CLASSIFY_QUOTA_MB") else None,
            min_free_mb=_env_number("CLASSIFY_MIN_FREE_MB", 100),
            import_root=_import_root("CLASSIFY_IMPORT_ROOT"),
            public_url=_env_url("CLASSIFY_PUBLIC_URL"),
            forwarded_allow_ips=_proxies("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
            google_client_id=google_client_id,
            google_client_secret=google_client_secret,
            allowed_emails=_email_list("CLASSIFY_ALLOWED_EMAILS"),
            google_api_key=_env("GOOGLE_API_KEY"),
            dropbox_app_key=dropbox_app_key,
            dropbox_app_secret=dropbox_app_secret,
            openai_api_key=_env("OPENAI_API_KEY"),
            openai_base_url=_env_url("OPENAI_BASE_URL"),
            vision_model=_env("CLASSIFY_VISION_MODEL", "gpt-4o-mini") or "gpt-4o-mini",
            vision_monthly_limit=int(_env_number("CLASSIFY_VISION_MONTHLY_LIMIT", 500)),
            vision_timeout=_env_number("CLASSIFY_VISION_TIMEOUT", 30.0, minimum=0.1),
            # With Redis the web process only enqueues, unless told to work as well.
            run_worker=_env_flag("CLASSIFY_RUN_WORKER", not redis_url),
            score_workers=int(_env_number("CLASSIFY_SCORE_WORKERS", 0)),
            log_level=_env_choice("CLASSIFY_LOG_LEVEL", "INFO", LOG_LEVELS),
            service_roots={
                key: (_env_url(var, default) or default).rstrip("/")
                for key, (var, default) in GOOGLE_DEFAULT_ROOTS.items()
            },
        )
