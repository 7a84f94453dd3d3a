"""The schema of the call records comes from the migrations shipped in ivr/records, on
SQLite and PostgreSQL: a fresh database and one left at the first revision both reach
the newest, and the database at head is exactly the tables the code reads and writes."""
from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from records_support import a_day_of_calls
from sqlalchemy import create_engine, insert, inspect

from ivr.records import open_records
from ivr.records.database import call_row, sqlalchemy_url
from ivr.records.migrate import current_revision, head_revision, upgrade
from ivr.records.schema import calls, metadata

VERSIONS = Path(__file__).resolve().parents[2] / "ivr" / "records" / "migrations" / "versions"
NEWEST = max(p.name.split("_")[0] for p in VERSIONS.glob("[0-9]*_*.py"))  # the newest file the release ships

ADDED_AFTER_0001 = ("needed_person", "disposition_at")  # revision 0005 (the agent's wrap-up)
REPORT_INDEXES = {"ix_calls_flow_started_at", "ix_call_nodes_started_at", "ix_call_transfers_started_at"}


def indexes(engine) -> set[str]:
    found = inspect(engine)
    return {ix["name"] for table in ("calls", "call_nodes", "call_transfers") for ix in found.get_indexes(table)}


def test_a_fresh_database_is_brought_to_the_newest_revision(records_url):
    records = open_records(records_url)
    try:
        assert head_revision() == NEWEST
        assert current_revision(records.engine) == NEWEST
        with records.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert indexes(records.engine) >= REPORT_INDEXES | {"ix_calls_started_at", "ix_calls_caller"}
    finally:
        records.close()


def test_a_database_at_the_first_revision_is_upgraded_with_its_records(records_url):
    engine = create_engine(sqlalchemy_url(records_url))
    try:
        upgrade(engine, "0001")
        assert current_revision(engine) == "0001"
        assert indexes(engine) & REPORT_INDEXES == set()
        with engine.begin() as conn:  # as the release of revision 0001 wrote it: the columns it had
            row = {k: v for k, v in call_row(a_day_of_calls()[0]).items() if k not in ADDED_AFTER_0001}
            conn.execute(insert(calls).values(row))
    finally:
        engine.dispose()
    records = open_records(records_url)
    try:
        assert current_revision(records.engine) == NEWEST
        assert indexes(records.engine) >= REPORT_INDEXES
        assert records.report()["calls"] == 1
    finally:
        records.close()


def test_opening_twice_changes_nothing(records_url):
    open_records(records_url).close()
    records = open_records(records_url)
    try:
        assert current_revision(records.engine) == NEWEST
    finally:
        records.close()


def test_hosts_opening_a_fresh_postgresql_database_together_migrate_it_once(records_url):
    if not records_url.startswith("postgresql"):
        return  # one SQLite file is one host's
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        opened = list(pool.map(lambda _: open_records(records_url), range(4)))
    try:
        assert {current_revision(r.engine) for r in opened} == {NEWEST}
    finally:
        for records in opened:
            records.close()
