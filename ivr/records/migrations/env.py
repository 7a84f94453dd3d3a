"""Alembic's entry point for the call records: always run on a connection that
``ivr.records.migrate`` opened and handed over in ``config.attributes["connection"]``
(there is no alembic.ini and no URL here)."""
from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
