"""Caller memory: one profile per caller, keyed by a keyed hash of the number.

``calls`` gains the caller's key (``caller_key``: the console finds a caller's earlier
calls by it) and the call's topic; ``caller_memory`` holds a profile (last language,
last verification) and ``caller_calls`` its calls (topic, remembered slots, outcome).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("caller_key", sa.String(64)))
        batch.add_column(sa.Column("topic", sa.String(120)))
    op.create_index("ix_calls_caller_key", "calls", ["caller_key"])
    op.create_table(
        "caller_memory",
        sa.Column("caller_key", sa.String(64), primary_key=True),
        sa.Column("language", sa.String(16), nullable=False, server_default=""),
        sa.Column("verified_at", WHEN),
        sa.Column("verified_slots", sa.JSON),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
    )
    op.create_index("ix_caller_memory_expires_at", "caller_memory", ["expires_at"])
    op.create_table(
        "caller_calls",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("caller_key", sa.String(64), sa.ForeignKey("caller_memory.caller_key", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False, unique=True),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("topic", sa.String(120), nullable=False, server_default=""),
        sa.Column("slots", sa.JSON, nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False, server_default=""),
        sa.Column("language", sa.String(16), nullable=False, server_default=""),
        sa.Column("callback_due", WHEN),
    )
    op.create_index("ix_caller_calls_caller_key_at", "caller_calls", ["caller_key", "at"])


def downgrade() -> None:
    op.drop_index("ix_caller_calls_caller_key_at", "caller_calls")
    op.drop_table("caller_calls")
    op.drop_index("ix_caller_memory_expires_at", "caller_memory")
    op.drop_table("caller_memory")
    op.drop_index("ix_calls_caller_key", "calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("topic")
        batch.drop_column("caller_key")
