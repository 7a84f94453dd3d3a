"""Bringing a records database to the current schema with the Alembic migrations shipped
in this package (``migrations/versions``); ``open_records`` calls ``upgrade`` every time
it opens a database, so a new release's schema is in place before the first write.

Rules of this file: the migrations run on a connection we opened (``env.py`` takes it
from ``config.attributes``); there is no alembic.ini and no URL in the migration
environment, so the same code runs against SQLite and PostgreSQL, in a schema of the
caller's choosing (``search_path``).
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

__all__ = ["MIGRATIONS", "upgrade", "current_revision", "head_revision"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (default: the newest) in one transaction."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: no records schema yet)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this release ships."""
    return ScriptDirectory.from_config(_config()).get_current_head()
