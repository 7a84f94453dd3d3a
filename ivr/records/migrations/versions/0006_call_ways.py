"""The ways callers took: one row per call and way from one node to the next, so the
heat map's arrows are one aggregate over a window, like the nodes' figures. The calls on
record are read into it from their paths.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# each step of a call's path paired with the one before it, each way once per call
BACKFILL = {
    "postgresql": """
        INSERT INTO call_ways (call_id, here, there, started_at, flow)
        SELECT DISTINCT id, here, there, started_at, flow FROM (
          SELECT c.id, c.started_at, c.flow, e.value ->> 'node' AS there,
                 lag(e.value ->> 'node') OVER (PARTITION BY c.id ORDER BY e.ord) AS here
          FROM calls AS c CROSS JOIN LATERAL json_array_elements(c.path) WITH ORDINALITY AS e(value, ord)
        ) AS steps WHERE here IS NOT NULL AND there IS NOT NULL AND here <> there""",
    "sqlite": """
        INSERT INTO call_ways (call_id, here, there, started_at, flow)
        SELECT DISTINCT id, here, there, started_at, flow FROM (
          SELECT c.id, c.started_at, c.flow, json_extract(e.value, '$.node') AS there,
                 lag(json_extract(e.value, '$.node')) OVER (PARTITION BY c.id ORDER BY e.key) AS here
          FROM calls AS c, json_each(c.path) AS e
        ) WHERE here IS NOT NULL AND there IS NOT NULL AND here <> there""",
}


def upgrade() -> None:
    op.create_table(
        "call_ways",
        sa.Column("call_id", ID, sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("here", sa.String(100), primary_key=True),
        sa.Column("there", sa.String(100), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flow", sa.String(100), nullable=False),
    )
    op.create_index("ix_call_ways_started_at", "call_ways", ["started_at"])
    bind = op.get_bind()
    if bind.dialect.name in BACKFILL:
        bind.execute(sa.text(BACKFILL[bind.dialect.name]))


def downgrade() -> None:
    op.drop_index("ix_call_ways_started_at", "call_ways")
    op.drop_table("call_ways")
