"""A feed our reader failed on is a stored crawl outcome (`feed_fetches.not_judged`), like a
homepage error, so any machine's analysis reports it; a scan's coordinator shows it is alive
(`scans.heartbeat_at`, `scans.coordinator`), so a scan whose coordinator was killed is seen as
interrupted and resumable rather than `running` forever.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from govcheck.store.schema import Timestamp

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_fetches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_judged", sa.String(length=300), nullable=True))
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", Timestamp(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("coordinator", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_column("coordinator")
        batch_op.drop_column("heartbeat_at")
    with op.batch_alter_table("feed_fetches", schema=None) as batch_op:
        batch_op.drop_column("not_judged")
