"""The tables of the call records, as SQLAlchemy Core sees them.

``calls`` holds one row per finished call (the ``CallRecord``, its path as JSON).
Two narrow tables exist for reports, so that a figure is one SQL aggregate and no record
is loaded into Python:

* ``call_nodes``: one row per call and node reached: visits, silences, misunderstandings,
  time spent, and whether the caller hung up there (drop-off by prompt).
* ``call_transfers``: one row per agent rung: who, how it ended, how long it rang.

``call_ways`` holds, per call, each way it took from one node to the next (the heat
map's arrows). ``work_items`` holds the line's worklists: a voicemail a caller left, or a promise to
call a caller back; each is open until an agent marks it done.

Both repeat the call's ``started_at`` and ``flow`` so that a report over a window or a
flow reads one table, with no join. Rows of a call are deleted with it (purge, forget).

Rules of this file: this is the shape the migrations (``migrations/versions``) build;
``tests/records`` checks that the database at head and these tables agree. A change
here needs a new migration, never an edit of an old one.
"""
from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        BigInteger,
                        Boolean,
                        Column,
                        DateTime,
                        Float,
                        ForeignKey,
                        Index,
                        Integer,
                        MetaData,
                        SmallInteger,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
)

__all__ = ["metadata", "calls", "call_nodes", "call_transfers", "caller_memory", "caller_calls", "work_items", "call_ways", "ID"]

# 64-bit keys on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit and the rowid
ID = BigInteger().with_variant(Integer(), "sqlite")
WHEN = DateTime(timezone=True)

metadata = MetaData()

calls = Table(
    "calls", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), nullable=False, unique=True),
    Column("flow", String(100), nullable=False),
    Column("flow_version", String(64), nullable=False),
    Column("caller", String(64), nullable=False, server_default=""),
    Column("dialled", String(64), nullable=False, server_default=""),
    Column("started_at", WHEN, nullable=False),
    Column("ended_at", WHEN, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("language", String(16), nullable=False, server_default=""),
    Column("outcome", String(24), nullable=False),
    Column("transfer_kind", String(16)),  # asked | escalated | retries | error | flow; NULL: no transfer
    Column("transfer_reason", Text),
    Column("hold_s", Float),
    Column("answered_by", String(120)),
    Column("score", Float, nullable=False, server_default="0"),
    Column("signals", JSON, nullable=False),  # [[signal, weight], ...]
    Column("path", JSON, nullable=False),  # [{node, entered_s, spent_s, no_input, no_match}, ...]
    Column("last_node", String(100), nullable=False, server_default=""),
    Column("turns", Integer, nullable=False, server_default="0"),
    Column("no_input", Integer, nullable=False, server_default="0"),
    Column("no_match", Integer, nullable=False, server_default="0"),
    Column("verified", Boolean, nullable=False, server_default="0"),
    Column("slots_filled", JSON, nullable=False),  # names only, never values
    # filled after the call by the survey and the agent's wrap-up
    Column("csat", SmallInteger),
    Column("survey", JSON),
    Column("disposition", String(64)),
    Column("disposition_by", String(120)),
    # revision 0004 (caller memory): the caller as a keyed hash, never the number twice,
    # and the topic the call was about (a menu option the flow remembers)
    Column("caller_key", String(64)),
    Column("topic", String(120)),
    # revision 0005: the agent's "did this call need a person?" and when the wrap-up was given
    Column("needed_person", Boolean),
    Column("disposition_at", WHEN),
)

call_nodes = Table(
    "call_nodes", metadata,
    Column("call_id", ID, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
    Column("node", String(100), primary_key=True),
    Column("started_at", WHEN, nullable=False),
    Column("flow", String(100), nullable=False),
    Column("visits", Integer, nullable=False),
    Column("no_input", Integer, nullable=False),
    Column("no_match", Integer, nullable=False),
    Column("spent_s", Float, nullable=False),
    Column("hung_up", Boolean, nullable=False),
)

call_transfers = Table(
    "call_transfers", metadata,
    Column("call_id", ID, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", SmallInteger, primary_key=True),
    Column("started_at", WHEN, nullable=False),
    Column("flow", String(100), nullable=False),
    Column("agent", String(120), nullable=False),
    Column("status", String(24), nullable=False),
    Column("rang_s", Float, nullable=False),
)

# Revision 0006 (the ways callers took): one row per call and way from one node to the next
# (each way once per call), so the heat map's arrows are one aggregate, like call_nodes.
call_ways = Table(
    "call_ways", metadata,
    Column("call_id", ID, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
    Column("here", String(100), primary_key=True),
    Column("there", String(100), primary_key=True),
    Column("started_at", WHEN, nullable=False),
    Column("flow", String(100), nullable=False),
)

# Revision 0003 (worklists): one row per voicemail or callback promise, one of each per call at most.
work_items = Table(
    "work_items", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # voicemail | callback
    Column("call_sid", String(64), nullable=False),
    Column("flow", String(100), nullable=False, server_default=""),
    Column("caller", String(64), nullable=False, server_default=""),  # shown to signed-in agents only
    Column("line_number", String(64), nullable=False, server_default=""),  # the number the caller dialled
    Column("created_at", WHEN, nullable=False),
    Column("due_at", WHEN),  # callback: when the promise falls due
    Column("recording_url", Text),  # voicemail: Twilio's recording (fetched with the account's credentials)
    Column("duration_s", Float),
    Column("transcript", Text),
    Column("transcript_source", String(16)),  # twilio | local
    Column("status", String(16), nullable=False, server_default="open"),  # open | done
    Column("done_by", String(120)),
    Column("done_at", WHEN),
    Column("attempt_sid", String(64)),  # callback: the last call back placed, and how it went
    Column("attempt_by", String(120)),
    Column("attempt_at", WHEN),
    Column("outcome", String(24)),  # calling | reached | no-answer | busy | failed | agent-missed
    UniqueConstraint("call_sid", "kind", name="uq_work_items_call_kind"),
)

# Revision 0001: purge reads calls by start time, forget by caller.
Index("ix_calls_started_at", calls.c.started_at)
Index("ix_calls_caller", calls.c.caller)
# Revision 0002 (report indexes): a window of time, or a flow and a window, read by range.
Index("ix_calls_flow_started_at", calls.c.flow, calls.c.started_at)
Index("ix_call_nodes_started_at", call_nodes.c.started_at)
Index("ix_call_transfers_started_at", call_transfers.c.started_at)
# Revision 0003 (worklists): the open items of a list by time; purge by age, forget by caller.
Index("ix_work_items_kind_status_created_at", work_items.c.kind, work_items.c.status, work_items.c.created_at)
Index("ix_work_items_created_at", work_items.c.created_at)
Index("ix_work_items_caller", work_items.c.caller)
Index("ix_work_items_attempt_sid", work_items.c.attempt_sid)

# Revision 0004 (caller memory): one profile per caller of a line that remembers, keyed by
# a keyed hash of the number (ivr.records.memory); its calls, newest first. A profile and
# its calls go when the last call is older than the flow's retention (expires_at), or at
# ``ivr forget``.
caller_memory = Table(
    "caller_memory", metadata,
    Column("caller_key", String(64), primary_key=True),
    Column("language", String(16), nullable=False, server_default=""),
    Column("verified_at", WHEN),
    Column("verified_slots", JSON),
    Column("updated_at", WHEN, nullable=False),
    Column("expires_at", WHEN, nullable=False),
)

caller_calls = Table(
    "caller_calls", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("caller_key", String(64), ForeignKey("caller_memory.caller_key", ondelete="CASCADE"), nullable=False),
    Column("call_sid", String(64), nullable=False, unique=True),
    Column("flow", String(100), nullable=False),
    Column("at", WHEN, nullable=False),
    Column("topic", String(120), nullable=False, server_default=""),
    Column("slots", JSON, nullable=False),  # only the slots the flow marks safe to remember
    Column("outcome", String(24), nullable=False, server_default=""),
    Column("language", String(16), nullable=False, server_default=""),
    Column("callback_due", WHEN),  # a callback promised on this call, due by then
)

Index("ix_calls_caller_key", calls.c.caller_key)
Index("ix_caller_memory_expires_at", caller_memory.c.expires_at)
Index("ix_caller_calls_caller_key_at", caller_calls.c.caller_key, caller_calls.c.at)

# Revision 0006: the ways of a window of time, read by range.
Index("ix_call_ways_started_at", call_ways.c.started_at)
