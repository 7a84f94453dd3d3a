"""Bringing a records database to the current schema with the Alembic migrations shipped
in this package (``migrations/versions``); ``open_records`` calls ``upgrade`` every time
it opens a database, so a new release's schema is in place before the first write.

Rules of this file: the migrations run on a connection we opened (``env.py`` takes it
from ``config.attributes``); there is no alembic.ini and no URL in the migration
environment, so the same code runs against SQLite and PostgreSQL, in a schema of the
caller's choosing (``search_path``). On PostgreSQL the upgrade holds an advisory lock for
its transaction, so several hosts opening the records at once migrate one after another
(the later ones find the schema at head and do nothing).
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

__all__ = ["MIGRATIONS", "upgrade", "current_revision", "head_revision"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x1F5_2EC0  # the advisory lock the records' migrations take on PostgreSQL


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (default: the newest) in one transaction."""
    config = _config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # hosts starting together migrate one at a time
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: no records schema yet)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this release ships."""
    return ScriptDirectory.from_config(_config()).get_current_head()
