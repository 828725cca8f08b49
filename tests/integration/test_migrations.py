"""The migrations and the ORM models describe the same schema, on whichever database the suite runs."""

import pytest
from alembic import command

from app.adapters.sql.migrate import alembic_config, upgrade
from tests.conftest import create_account, make_settings, run_sql
from tests.support.jobs import job_with_items


# SQLite's reflection cannot read an index on an expression; PostgreSQL's run of this test compares those too
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrations_match_the_models_and_are_idempotent(database_url):
    upgrade(database_url)  # a second run is a no-op
    command.check(alembic_config(database_url))  # raises if the models drifted from the migrations


def test_jobs_from_before_the_skipped_count_are_counted_from_their_items(tmp_path, database_url):
    settings = make_settings(tmp_path / "data", database_url)
    create_account(settings, "owner@example.com")
    keys = ["trip/a.jpg", "trip/notes.txt", "trip/b.jpg"]
    job_with_items(settings, "owner@example.com", keys, [(keys[:1], "done", None), (keys[1:], "skipped", "gone")])
    command.downgrade(alembic_config(database_url), "0009")
    assert run_sql(database_url, "SELECT count(*) FROM job_items") == [(3,)]
    upgrade(database_url)
    assert run_sql(database_url, "SELECT done, skipped, failed FROM jobs") == [(3, 2, 0)]


@pytest.mark.same_on_both_databases
def test_a_new_data_folder_and_its_database_are_the_owners_alone(tmp_path, monkeypatch):
    """With the usual umask (022) the SQLite file, with every email, password hash and caption, was readable
    by every user of the machine."""
    import os
    import stat

    from app.settings import Settings

    old = os.umask(0o022)
    try:
        monkeypatch.setenv("CLASSIFY_DATA_DIR", str(tmp_path / "new"))
        monkeypatch.delenv("DATABASE_URL", raising=False)
        settings = Settings.from_env()
        upgrade(settings.database_url)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    databases = list((tmp_path / "new").glob("*.db"))
    assert databases and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in databases)
