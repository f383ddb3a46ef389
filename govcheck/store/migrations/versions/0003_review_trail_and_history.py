"""Review trail and finding history: `reviews` (one row per decision, never overwritten),
`fixes` (the scans that found a finding fixed) and `finding_versions` (a finding's evidence
from a scan on, written when it changes) — what `govcheck.history` reads status as of a scan from.

Existing databases keep what they knew: each finding's last fix becomes a `fixes` row and its
last review decision a `reviews` row (reviewer unknown: the release before kept no name).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from govcheck.store.schema import Timestamp

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("finding_versions",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("finding_id", sa.Integer(), nullable=False),
                    sa.Column("scan_id", sa.Integer(), nullable=False),
                    sa.Column("digest", sa.String(length=64), nullable=False),
                    sa.Column("severity", sa.String(length=10), nullable=False),
                    sa.Column("url", sa.String(length=2000), nullable=False),
                    sa.Column("subject", sa.Text(), nullable=True),
                    sa.Column("evidence", sa.Text(), nullable=False),
                    sa.Column("detail", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                              nullable=False),
                    sa.Column("snapshot_hash", sa.String(length=64), nullable=True),
                    sa.ForeignKeyConstraint(["finding_id"], ["findings.id"]),
                    sa.ForeignKeyConstraint(["scan_id"], ["scans.id"]),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index(op.f("ix_finding_versions_finding_id"), "finding_versions", ["finding_id"], unique=False)
    op.create_table("fixes",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("scan_id", sa.Integer(), nullable=False),
                    sa.Column("finding_id", sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(["finding_id"], ["findings.id"]),
                    sa.ForeignKeyConstraint(["scan_id"], ["scans.id"]),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("scan_id", "finding_id"))
    op.create_index(op.f("ix_fixes_finding_id"), "fixes", ["finding_id"], unique=False)
    op.create_index(op.f("ix_fixes_scan_id"), "fixes", ["scan_id"], unique=False)
    op.create_table("reviews",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("finding_id", sa.Integer(), nullable=False),
                    sa.Column("action", sa.String(length=10), nullable=False),
                    sa.Column("by", sa.String(length=100), nullable=False),
                    sa.Column("at", Timestamp(timezone=True), nullable=False),
                    sa.Column("note", sa.Text(), nullable=True),
                    sa.ForeignKeyConstraint(["finding_id"], ["findings.id"]),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index(op.f("ix_reviews_finding_id"), "reviews", ["finding_id"], unique=False)
    op.execute("INSERT INTO fixes (scan_id, finding_id) SELECT fixed_scan_id, id FROM findings "
               "WHERE fixed_scan_id IS NOT NULL")
    op.execute("INSERT INTO reviews (finding_id, action, \"by\", \"at\", note) "
               "SELECT id, CASE review WHEN 'ignored' THEN 'ignore' ELSE 'confirm' END, 'unknown', reviewed_at, "
               "review_note FROM findings WHERE review IS NOT NULL AND reviewed_at IS NOT NULL")


def downgrade() -> None:
    op.drop_index(op.f("ix_reviews_finding_id"), table_name="reviews")
    op.drop_table("reviews")
    op.drop_index(op.f("ix_fixes_scan_id"), table_name="fixes")
    op.drop_index(op.f("ix_fixes_finding_id"), table_name="fixes")
    op.drop_table("fixes")
    op.drop_index(op.f("ix_finding_versions_finding_id"), table_name="finding_versions")
    op.drop_table("finding_versions")
