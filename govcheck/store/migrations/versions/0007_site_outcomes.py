"""Crawl outcomes as rows (issue 18): per (scan, site) status, homepage error, budgets and
counters, and the crawl's events, written by the spider beside the pages they describe so
that the analysis — or a coordinator on another machine — reads them from the database.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from govcheck.store.schema import Timestamp

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("site_outcomes",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("scan_id", sa.Integer(), nullable=False),
                    sa.Column("site_id", sa.Integer(), nullable=False),
                    sa.Column("status", sa.String(length=10), nullable=False),
                    sa.Column("homepage_error", sa.String(length=300), nullable=True),
                    sa.Column("homepage_not_judged", sa.String(length=300), nullable=True),
                    sa.Column("partial", sa.String(length=300), nullable=True),
                    sa.Column("pages", sa.Integer(), nullable=False),
                    sa.Column("pages_carried", sa.Integer(), nullable=False),
                    sa.Column("targets", sa.Integer(), nullable=False),
                    sa.Column("carried", sa.Integer(), nullable=False),
                    sa.Column("budget_cut", sa.Integer(), nullable=False),
                    sa.Column("events", sa.Integer(), nullable=False),
                    sa.Column("started_at", Timestamp(timezone=True), nullable=True),
                    sa.Column("finished_at", Timestamp(timezone=True), nullable=True),
                    sa.ForeignKeyConstraint(["scan_id"], ["scans.id"]),
                    sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("scan_id", "site_id"))
    op.create_index(op.f("ix_site_outcomes_scan_id"), "site_outcomes", ["scan_id"], unique=False)
    op.create_table("crawl_events",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("scan_id", sa.Integer(), nullable=False),
                    sa.Column("site", sa.String(length=2000), nullable=True),
                    sa.Column("kind", sa.String(length=40), nullable=False),
                    sa.Column("message", sa.Text(), nullable=False),
                    sa.Column("at", sa.String(length=40), nullable=True),
                    sa.ForeignKeyConstraint(["scan_id"], ["scans.id"]),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index(op.f("ix_crawl_events_scan_id"), "crawl_events", ["scan_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_crawl_events_scan_id"), table_name="crawl_events")
    op.drop_table("crawl_events")
    op.drop_index(op.f("ix_site_outcomes_scan_id"), table_name="site_outcomes")
    op.drop_table("site_outcomes")
