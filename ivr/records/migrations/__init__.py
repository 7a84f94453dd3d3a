"""The Alembic migrations of the call records (run by ``open_records``; see ``migrate.py``)."""
