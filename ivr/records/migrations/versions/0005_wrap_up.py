"""The agent's wrap-up: "did this call need a person?" (``needed_person``, empty until
an agent answers) and when the wrap-up was given, beside the wrap-up code and the agent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("needed_person", sa.Boolean(), nullable=True))
    op.add_column("calls", sa.Column("disposition_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("disposition_at")
        batch.drop_column("needed_person")
