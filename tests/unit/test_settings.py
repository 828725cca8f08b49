"""Settings read from the environment: the URLs people paste, and the key made on a first start."""

from __future__ import annotations

import multiprocessing

import pytest

from app.settings import Settings, SettingsError, normalise_database_url


@pytest.mark.parametrize(
    ("pasted", "used"),
    [
        (
            "postgres://u:p@db.internal:5432/app?sslmode=require",
            "postgresql+asyncpg://u:p@db.internal:5432/app?ssl=require",
        ),
        (
            "postgresql://u:p@h/app?sslmode=disable&application_name=x",
            "postgresql+asyncpg://u:p@h/app?ssl=disable&application_name=x",
        ),
        ("postgresql://u:p@h/app", "postgresql+asyncpg://u:p@h/app"),
        ("sqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
    ],
)
def test_the_urls_hosts_hand_out_reach_asyncpg_in_its_own_words(pasted: str, used: str) -> None:
    """Fly, Neon and Heroku give libpq's ?sslmode=, which asyncpg refused: connect() got an unexpected keyword."""
    assert normalise_database_url(pasted) == used


def _first_start(data_dir: str, keys: multiprocessing.Queue) -> None:
    import os

    os.environ["CLASSIFY_DATA_DIR"] = data_dir
    os.environ.pop("CLASSIFY_SECRET_KEY", None)
    keys.put(Settings.from_env().secret_key)


def test_processes_starting_together_on_a_new_folder_share_one_whole_key(tmp_path) -> None:
    """One of three processes started together read the key file before it was written, and signed with an
    empty key: every sign-in was then a 500."""
    for attempt in range(5):
        keys: multiprocessing.Queue = multiprocessing.Queue()
        starts = [
            multiprocessing.Process(target=_first_start, args=(str(tmp_path / str(attempt)), keys)) for _ in range(3)
        ]
        for start in starts:
            start.start()
        for start in starts:
            start.join(30)
        seen = {keys.get(timeout=5) for _ in starts}
        assert len(seen) == 1 and len(seen.pop()) >= 64
        assert [p.name for p in (tmp_path / str(attempt)).iterdir()] == ["secret_key"]  # no draft left


def test_an_empty_key_file_is_refused_by_name(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CLASSIFY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CLASSIFY_SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(SettingsError, match="secret_key holds no usable key; delete it"):
        Settings.from_env()


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        (
            {"DATABASE_URL": "mysql://u:p@127.0.0.1/db"},
            "DATABASE_URL must be a PostgreSQL or SQLite database, not mysql",
        ),
        ({"CLASSIFY_IMPORT_ROOT": "/does/not/exist"}, "CLASSIFY_IMPORT_ROOT=/does/not/exist is not a folder"),
        ({"FORWARDED_ALLOW_IPS": "10.0.0.1,not-an-ip"}, "FORWARDED_ALLOW_IPS: 'not-an-ip' is not an IP address"),
        ({"CLASSIFY_ALLOWED_EMAILS": "a@b.example;d@e.example"}, "'a@b.example;d@e.example' is neither"),
        ({"GOOGLE_CLIENT_ID": "abc"}, "GOOGLE_CLIENT_ID is set but GOOGLE_CLIENT_SECRET is not"),
        ({"DROPBOX_APP_SECRET": "s"}, "DROPBOX_APP_SECRET is set but DROPBOX_APP_KEY is not"),
    ],
)
def test_values_that_cannot_work_are_refused_by_name(tmp_path, monkeypatch, variables, said) -> None:
    """From a review of the README against the program: each of these started without a word (or, for
    migrate and worker, with a traceback) and failed later, far from the variable."""
    monkeypatch.setenv("CLASSIFY_DATA_DIR", str(tmp_path))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert said in str(refused.value)


def test_values_that_work_are_taken(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CLASSIFY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CLASSIFY_IMPORT_ROOT", str(tmp_path))
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/8, 192.168.1.5,*")
    monkeypatch.setenv("CLASSIFY_ALLOWED_EMAILS", "Ann@Example.com @family.example")
    settings = Settings.from_env()
    assert settings.import_root == tmp_path.resolve() and settings.allowed_emails == (
        "ann@example.com",
        "@family.example",
    )
