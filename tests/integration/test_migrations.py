"""The migrations and the ORM models describe the same schema, on whichever database the suite runs."""

from alembic import command

from app.adapters.sql.migrate import alembic_config, upgrade


def test_migrations_match_the_models_and_are_idempotent(database_url):
    upgrade(database_url)  # a second run is a no-op
    command.check(alembic_config(database_url))  # raises if the models drifted from the migrations
