"""Timezone-aware timestamps; findings.detail as JSONB on PostgreSQL.

The previous release wrote naive Beijing wall-clock times. On PostgreSQL they become
`timestamptz` read as Asia/Shanghai; SQLite has no zoned type, so its values are rewritten
as UTC (what govcheck.store.schema.Timestamp stores there).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMPS = {
    "scans": ("started_at", "finished_at"),
    "pages": ("fetched_at",),
    "feed_fetches": ("fetched_at",),
    "posts": ("published",),
    "probes": ("at",),
    "findings": ("first_seen", "last_seen", "reviewed_at"),
}


def _shift_sqlite(hours: int) -> None:
    # 'YYYY-MM-DD HH:MM:SS' moved by the offset, the fraction of a second (from char 20) kept.
    for table, columns in TIMESTAMPS.items():
        for col in columns:
            op.execute(f"UPDATE \"{table}\" SET \"{col}\" = strftime('%Y-%m-%d %H:%M:%S', \"{col}\", '{hours:+d} hours')"
                       f" || substr(\"{col}\", 20) WHERE \"{col}\" IS NOT NULL")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in TIMESTAMPS.items():
            for col in columns:
                op.alter_column(table, col, type_=sa.DateTime(timezone=True),
                                postgresql_using=f"\"{col}\" AT TIME ZONE 'Asia/Shanghai'")
        op.alter_column("findings", "detail", type_=postgresql.JSONB(), postgresql_using="detail::jsonb")
    else:
        _shift_sqlite(-8)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("findings", "detail", type_=sa.JSON(), postgresql_using="detail::json")
        for table, columns in TIMESTAMPS.items():
            for col in columns:
                op.alter_column(table, col, type_=sa.DateTime(),
                                postgresql_using=f"\"{col}\" AT TIME ZONE 'Asia/Shanghai'")
    else:
        _shift_sqlite(8)
