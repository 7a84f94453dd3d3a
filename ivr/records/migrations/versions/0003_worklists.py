"""Worklists: voicemails left by callers and callback promises, each with its state.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(100), nullable=False, server_default=""),
        sa.Column("caller", sa.String(64), nullable=False, server_default=""),
        sa.Column("line_number", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("due_at", WHEN),
        sa.Column("recording_url", sa.Text),
        sa.Column("duration_s", sa.Float),
        sa.Column("transcript", sa.Text),
        sa.Column("transcript_source", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("done_by", sa.String(120)),
        sa.Column("done_at", WHEN),
        sa.Column("attempt_sid", sa.String(64)),
        sa.Column("attempt_by", sa.String(120)),
        sa.Column("attempt_at", WHEN),
        sa.Column("outcome", sa.String(24)),
        sa.UniqueConstraint("call_sid", "kind", name="uq_work_items_call_kind"),
    )
    op.create_index("ix_work_items_kind_status_created_at", "work_items", ["kind", "status", "created_at"])
    op.create_index("ix_work_items_created_at", "work_items", ["created_at"])
    op.create_index("ix_work_items_caller", "work_items", ["caller"])
    op.create_index("ix_work_items_attempt_sid", "work_items", ["attempt_sid"])


def downgrade() -> None:
    op.drop_index("ix_work_items_attempt_sid", "work_items")
    op.drop_index("ix_work_items_caller", "work_items")
    op.drop_index("ix_work_items_created_at", "work_items")
    op.drop_index("ix_work_items_kind_status_created_at", "work_items")
    op.drop_table("work_items")
