"""The migrations and the ORM models describe the same schema, on whichever database the suite runs."""

import pytest
from alembic import command

from app.adapters.sql.migrate import alembic_config, upgrade


# SQLite's reflection cannot read an index on an expression; PostgreSQL's run of this test compares those too
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrations_match_the_models_and_are_idempotent(database_url):
    upgrade(database_url)  # a second run is a no-op
    command.check(alembic_config(database_url))  # raises if the models drifted from the migrations
