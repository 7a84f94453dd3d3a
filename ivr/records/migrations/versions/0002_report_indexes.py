"""Report indexes: a window of time (and a flow) over the calls, their nodes and their
transfer attempts is read by range, not by scanning every row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_calls_flow_started_at", "calls", ["flow", "started_at"])
    op.create_index("ix_call_nodes_started_at", "call_nodes", ["started_at"])
    op.create_index("ix_call_transfers_started_at", "call_transfers", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_call_transfers_started_at", "call_transfers")
    op.drop_index("ix_call_nodes_started_at", "call_nodes")
    op.drop_index("ix_calls_flow_started_at", "calls")
