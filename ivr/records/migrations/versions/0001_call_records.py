"""Call records: one row per finished call, with its nodes and its transfer attempts.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("call_sid", sa.String(64), nullable=False, unique=True),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("flow_version", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False, server_default=""),
        sa.Column("dialled", sa.String(64), nullable=False, server_default=""),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("language", sa.String(16), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("transfer_kind", sa.String(16)),
        sa.Column("transfer_reason", sa.Text),
        sa.Column("hold_s", sa.Float),
        sa.Column("answered_by", sa.String(120)),
        sa.Column("score", sa.Float, nullable=False, server_default="0"),
        sa.Column("signals", sa.JSON, nullable=False),
        sa.Column("path", sa.JSON, nullable=False),
        sa.Column("last_node", sa.String(100), nullable=False, server_default=""),
        sa.Column("turns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("no_input", sa.Integer, nullable=False, server_default="0"),
        sa.Column("no_match", sa.Integer, nullable=False, server_default="0"),
        sa.Column("verified", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("slots_filled", sa.JSON, nullable=False),
        sa.Column("csat", sa.SmallInteger),
        sa.Column("survey", sa.JSON),
        sa.Column("disposition", sa.String(64)),
        sa.Column("disposition_by", sa.String(120)),
    )
    op.create_table(
        "call_nodes",
        sa.Column("call_id", ID, sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("node", sa.String(100), primary_key=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("visits", sa.Integer, nullable=False),
        sa.Column("no_input", sa.Integer, nullable=False),
        sa.Column("no_match", sa.Integer, nullable=False),
        sa.Column("spent_s", sa.Float, nullable=False),
        sa.Column("hung_up", sa.Boolean, nullable=False),
    )
    op.create_table(
        "call_transfers",
        sa.Column("call_id", ID, sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.SmallInteger, primary_key=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("agent", sa.String(120), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("rang_s", sa.Float, nullable=False),
    )
    # purge reads by start time, forget by caller
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_index("ix_calls_caller", "calls", ["caller"])


def downgrade() -> None:
    op.drop_index("ix_calls_caller", "calls")
    op.drop_index("ix_calls_started_at", "calls")
    op.drop_table("call_transfers")
    op.drop_table("call_nodes")
    op.drop_table("calls")
