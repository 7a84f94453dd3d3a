"""Call records: one durable record per finished call, in a SQL database, and the
reports that read them (containment, transfers by reason, drop-off by prompt, agents,
satisfaction).

A leaf the shells use (it imports ``ivr.model`` only):

    from ivr.records import build_record, open_records
    records = open_records()                   # IVR_RECORDS_URL, else var/records.sqlite3
    records.write(build_record(flow, session, events, ended_at))
    records.report(since=..., flow="acme-support")
    records.purge(now); records.forget("+15551230000")

The ``ivr report``, ``ivr purge`` and ``ivr forget`` commands are ``run_report_cli``,
``run_purge_cli`` and ``run_forget_cli``. Nothing a caller said or keyed is kept (see
``record.py``); docs/REPORTS.md defines every figure.
"""
from __future__ import annotations

from .build import build_record
from .cli import run_forget_cli, run_purge_cli, run_report_cli
from .database import DEFAULT_RETENTION_DAYS, Records, open_records, records_url, retention_days
from .record import REASON_KINDS, CallRecord, NodeVisit, TransferAttempt, reason_kind

__all__ = [
    "build_record",
    "open_records",
    "Records",
    "records_url",
    "retention_days",
    "DEFAULT_RETENTION_DAYS",
    "CallRecord",
    "NodeVisit",
    "TransferAttempt",
    "REASON_KINDS",
    "reason_kind",
    "run_report_cli",
    "run_purge_cli",
    "run_forget_cli",
]
