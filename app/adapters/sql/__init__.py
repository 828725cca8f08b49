"""SQLAlchemy adapter: ORM rows, the engine config, and repositories (SQLite or PostgreSQL)."""
