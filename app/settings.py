"""Configuration, read once from the environment (every variable is documented in the README)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

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


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message names the variable."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_number(name: str, default: float, *, minimum: float = 0) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {raw!r}")
    return value


def _secret_key(data_dir: Path) -> str:
    """CLASSIFY_SECRET_KEY, or a key generated once and kept in the data dir (mode 600)."""
    if key := _env("CLASSIFY_SECRET_KEY"):
        return key
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key


def normalise_database_url(url: str) -> str:
    """Accept the plain URLs people paste (postgres://, postgresql://) and pick the async drivers."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
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
    import_root: Path | None = None
    public_url: str | None = None
    google_client_id: str | None = None
    google_client_secret: str | None = None
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
        data_dir = Path(_env("CLASSIFY_DATA_DIR", "./data") or "./data").resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        default_db = f"sqlite+aiosqlite:///{data_dir / 'classify.db'}"
        import_root = _env("CLASSIFY_IMPORT_ROOT")
        redis_url = _env("REDIS_URL")
        return cls(
            data_dir=data_dir,
            database_url=normalise_database_url(_env("DATABASE_URL", default_db) or default_db),
            secret_key=_secret_key(data_dir),
            redis_url=redis_url,
            max_upload_mb=_env_number("CLASSIFY_MAX_UPLOAD_MB", 50, minimum=1),
            max_files_per_request=int(_env_number("CLASSIFY_MAX_FILES", 50, minimum=1)),
            max_pixels=int(_env_number("CLASSIFY_MAX_PIXELS", 100_000_000, minimum=1)),
            max_side=int(_env_number("CLASSIFY_MAX_SIDE", 30_000, minimum=1)),
            quota_mb=_env_number("CLASSIFY_QUOTA_MB", 0, minimum=1) if _env("CLASSIFY_QUOTA_MB") else None,
            import_root=Path(import_root).resolve() if import_root else None,
            public_url=_env("CLASSIFY_PUBLIC_URL"),
            google_client_id=_env("GOOGLE_CLIENT_ID"),
            google_client_secret=_env("GOOGLE_CLIENT_SECRET"),
            google_api_key=_env("GOOGLE_API_KEY"),
            dropbox_app_key=_env("DROPBOX_APP_KEY"),
            dropbox_app_secret=_env("DROPBOX_APP_SECRET"),
            openai_api_key=_env("OPENAI_API_KEY"),
            openai_base_url=_env("OPENAI_BASE_URL"),
            vision_model=_env("CLASSIFY_VISION_MODEL", "gpt-4o-mini") or "gpt-4o-mini",
            vision_monthly_limit=int(_env_number("CLASSIFY_VISION_MONTHLY_LIMIT", 500)),
            vision_timeout=_env_number("CLASSIFY_VISION_TIMEOUT", 30.0, minimum=0.1),
            # With Redis the web process only enqueues, unless told to work as well.
            run_worker=_env("CLASSIFY_RUN_WORKER", "0" if redis_url else "1") not in ("0", "false", "no"),
            score_workers=int(_env_number("CLASSIFY_SCORE_WORKERS", 0)),
            log_level=(_env("CLASSIFY_LOG_LEVEL", "INFO") or "INFO").upper(),
            service_roots={
                key: (_env(var, default) or default).rstrip("/") for key, (var, default) in GOOGLE_DEFAULT_ROOTS.items()
            },
        )
