"""phase_runs.bytes_sent/bytes_received: each party's byte totals when it finished a phase,
so the dashboard shows bytes per party per phase (the difference between phases)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("phase_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bytes_sent", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("bytes_received", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("phase_runs", schema=None) as batch_op:
        batch_op.drop_column("bytes_received")
        batch_op.drop_column("bytes_sent")
