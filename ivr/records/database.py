"""Where call records are kept: one SQL database, SQLite by default, PostgreSQL when
several hosts serve the line.

    records = open_records()         # IVR_RECORDS_URL, else <IVR_VAR_DIR>/records.sqlite3
    records = open_records("postgresql://ivr@db/ivr")
    records.write(build_record(flow, session, events, ended_at))
    records.report(since=..., until=..., flow="acme-support")
    records.purge(now)        # records older than the retention period (IVR_RETENTION_DAYS)
    records.forget("+15551230000")   # every record of one caller

Opening a database brings its schema to the newest revision (``migrate.upgrade``).

Rules of this file: every datetime goes into the database as UTC (SQLite keeps no time
zone, so its text compares in time order only when all of it is UTC); a call's rows in
``call_nodes`` and ``call_transfers`` are written and deleted in the same transaction as
its ``calls`` row; writing a call that is already on record replaces it (a call's end can
be reported twice).
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, func, insert, select
from sqlalchemy.engine import Engine, make_url

from .migrate import upgrade
from .pictures import way_rows
from .record import CallRecord
from .report import report
from .schema import call_nodes, call_transfers, call_ways, calls
from .worklists import forget_items, purge_items
from .wrapup import LabelledCall, kept_after_the_call, labelled_calls, set_wrap_up

__all__ = ["Records", "open_records", "records_url", "retention_days", "sqlalchemy_url", "call_row", "node_rows",
           "transfer_rows", "DEFAULT_RETENTION_DAYS"]

DEFAULT_RETENTION_DAYS = 365


def records_url(environ: Mapping[str, str] | None = None) -> str:
    """``IVR_RECORDS_URL``, else a SQLite file ``records.sqlite3`` in the local state folder
    (``IVR_VAR_DIR``, default ``var`` under the current folder)."""
    env = os.environ if environ is None else environ
    url = env.get("IVR_RECORDS_URL", "").strip()
    folder = Path(env.get("IVR_VAR_DIR", "").strip() or "var")
    return url or f"sqlite:///{(folder if folder.is_absolute() else Path.cwd() / folder) / 'records.sqlite3'}"


def retention_days(environ: Mapping[str, str] | None = None) -> int:
    """``IVR_RETENTION_DAYS``: how many days call records are kept (default 365)."""
    env = os.environ if environ is None else environ
    raw = env.get("IVR_RETENTION_DAYS", "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        raise ValueError(f"IVR_RETENTION_DAYS={raw!r} is not a number of days; set a whole number such as 365")
    return days


def sqlalchemy_url(url: str) -> str:
    """The URL SQLAlchemy opens: ``postgresql://`` (or ``postgres://``) is read with
    psycopg 3; a SQLite URL names an absolute file path (three slashes or four, as
    ``IVR_STORE`` reads it; SQLAlchemy itself wants four)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"records URL {url!r} has no scheme; use sqlite:///<absolute path> or postgresql://host/db")
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite":  # as for the session store: sqlite:///abs and sqlite:////abs both mean /abs
        if not rest.startswith("/") or rest == "/":
            raise ValueError(f"SQLite records URL {url!r} needs an absolute file path after 'sqlite://', "
                             "e.g. sqlite:///var/lib/ivr/records.sqlite3")
        return f"sqlite:///{'/' + rest.lstrip('/')}"
    if scheme not in ("sqlite", "postgresql+psycopg"):
        raise ValueError(f"records URL {url!r}: use sqlite:///<absolute path> or postgresql://user@host/db")
    return url


def open_records(url: str | None = None, *, days: int | None = None,
                 environ: Mapping[str, str] | None = None) -> Records:
    """Open (and migrate to the newest schema) the records database at ``url``
    (default ``records_url()``), keeping records ``days`` days (default ``retention_days()``)."""
    target = sqlalchemy_url(url or records_url(environ))
    parsed = make_url(target)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # a PostgreSQL host that does not answer must not hold a starting server for minutes
    connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    # a server's connection can be dropped while it idles in the pool (pinged before use); a
    # SQLite file's cannot, and the ping would be a statement more on every incoming call
    engine = create_engine(target, pool_pre_ping=parsed.get_backend_name() != "sqlite", connect_args=connect_args)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    upgrade(engine)
    return Records(engine, days if days is not None else retention_days(environ))


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def call_row(record: CallRecord) -> dict[str, Any]:
    """The ``calls`` row of a record (without its id)."""
    return {
        "call_sid": record.call_sid, "flow": record.flow, "flow_version": record.flow_version,
        "caller": record.caller, "dialled": record.dialled, "started_at": utc(record.started_at),
        "ended_at": utc(record.ended_at), "duration_s": round(record.duration_s, 3), "language": record.language,
        "outcome": record.outcome, "transfer_kind": record.transfer_kind, "transfer_reason": record.transfer_reason,
        "hold_s": record.hold_s, "answered_by": record.answered_by, "score": record.score,
        "signals": [list(s) for s in record.signals], "path": [v.to_json() for v in record.path],
        "last_node": record.last_node, "turns": record.turns, "no_input": record.no_input,
        "no_match": record.no_match, "verified": record.verified, "slots_filled": list(record.slots_filled),
        "csat": record.csat, "survey": dict(record.survey) if record.survey is not None else None,
        "disposition": record.disposition, "disposition_by": record.disposition_by,
        "needed_person": record.needed_person,
        "disposition_at": utc(record.disposition_at) if record.disposition_at else None,
    }


def node_rows(record: CallRecord, call_id: int) -> list[dict[str, Any]]:
    """One ``call_nodes`` row per node the call reached; the caller hung up at the last one
    when the call was abandoned."""
    rows: dict[str, dict[str, Any]] = {}
    base = {"call_id": call_id, "started_at": utc(record.started_at), "flow": record.flow}
    for visit in record.path:
        row = rows.setdefault(visit.node, {**base, "node": visit.node, "visits": 0, "no_input": 0, "no_match": 0,
                                           "spent_s": 0.0, "hung_up": False})
        row["visits"] += 1
        row["no_input"] += visit.no_input
        row["no_match"] += visit.no_match
        row["spent_s"] = round(row["spent_s"] + visit.spent_s, 3)
    if record.hung_up and record.path:
        rows[record.last_node]["hung_up"] = True
    return list(rows.values())


def transfer_rows(record: CallRecord, call_id: int) -> list[dict[str, Any]]:
    """One ``call_transfers`` row per agent rung, in order."""
    return [{"call_id": call_id, "seq": i, "started_at": utc(record.started_at), "flow": record.flow,
             "agent": a.agent, "status": a.status, "rang_s": round(a.rang_s, 3)}
            for i, a in enumerate(record.transfers, 1)]


class Records:
    """The call records of the line, in one database (see the module docstring)."""

    def __init__(self, engine: Engine, days: int = DEFAULT_RETENTION_DAYS):
        self.engine = engine
        self.retention_days = days

    def write(self, record: CallRecord) -> None:
        """Keep the record of a finished call (replacing an earlier one of the same call)."""
        self.write_many([record])

    def write_many(self, records: Iterable[CallRecord]) -> int:
        """Keep many records in one transaction; returns how many were written."""
        count = 0
        with self.engine.begin() as conn:
            for record in records:
                old = select(calls.c.id).where(calls.c.call_sid == record.call_sid).scalar_subquery()
                row = kept_after_the_call(conn, record.call_sid, call_row(record))  # a wrap-up given before
                conn.execute(delete(call_nodes).where(call_nodes.c.call_id == old))
                conn.execute(delete(call_transfers).where(call_transfers.c.call_id == old))
                conn.execute(delete(call_ways).where(call_ways.c.call_id == old))
                conn.execute(delete(calls).where(calls.c.call_sid == record.call_sid))
                call_id = conn.execute(insert(calls).values(row).returning(calls.c.id)).scalar_one()
                if nodes := node_rows(record, call_id):
                    conn.execute(insert(call_nodes), nodes)
                if transfers := transfer_rows(record, call_id):
                    conn.execute(insert(call_transfers), transfers)
                if ways := way_rows(record, call_id):  # the heat map's arrows
                    conn.execute(insert(call_ways), ways)
                count += 1
        return count

    def purge(self, now: datetime) -> int:
        """Delete the records of calls that started more than the retention period before
        ``now``; returns how many calls were deleted."""
        cutoff = utc(now) - timedelta(days=self.retention_days)
        with self.engine.begin() as conn:
            conn.execute(delete(call_nodes).where(call_nodes.c.started_at < cutoff))
            conn.execute(delete(call_transfers).where(call_transfers.c.started_at < cutoff))
            conn.execute(delete(call_ways).where(call_ways.c.started_at < cutoff))
            purge_items(conn, cutoff)  # voicemails and callbacks filed before the cutoff, too
            return conn.execute(delete(calls).where(calls.c.started_at < cutoff)).rowcount

    def forget(self, number: str) -> int:
        """Delete every record of calls from ``number`` (the caller's number as Twilio gave
        it, e.g. ``+15551230000``); returns how many calls were deleted."""
        if not number.strip():
            raise ValueError("forget needs the caller's number, e.g. +15551230000")
        theirs = select(calls.c.id).where(calls.c.caller == number)
        with self.engine.begin() as conn:
            forget_items(conn, number)  # their voicemails and callback promises, too
            conn.execute(delete(call_nodes).where(call_nodes.c.call_id.in_(theirs)))
            conn.execute(delete(call_transfers).where(call_transfers.c.call_id.in_(theirs)))
            conn.execute(delete(call_ways).where(call_ways.c.call_id.in_(theirs)))
            return conn.execute(delete(calls).where(calls.c.caller == number)).rowcount

    def report(self, since: datetime | None = None, until: datetime | None = None,
               flow: str | None = None) -> dict[str, Any]:
        """The line's figures for calls that started in [since, until) (see ``report.report``)."""
        with self.engine.connect() as conn:
            return report(conn, since=utc(since) if since else None, until=utc(until) if until else None, flow=flow)

    def wrap_up(self, call_sid: str, code: str, by: str, needed_person: bool, at: datetime) -> bool:
        """The agent's wrap-up on a call's record (the last word counts); False when the
        call is not on record yet (see ``wrapup``)."""
        with self.engine.begin() as conn:
            return set_wrap_up(conn, call_sid, code, by, needed_person, utc(at))

    def labelled(self, since: datetime | None = None, until: datetime | None = None,
                 flow: str | None = None) -> list[LabelledCall]:
        """The calls agents said did or did not need a person (``wrapup.labelled_calls``)."""
        with self.engine.connect() as conn:
            return list(labelled_calls(conn, utc(since) if since else None, utc(until) if until else None, flow))

    def count(self) -> int:
        """How many calls are on record."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(calls)).scalar_one())

    def close(self) -> None:
        self.engine.dispose()

