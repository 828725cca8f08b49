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
