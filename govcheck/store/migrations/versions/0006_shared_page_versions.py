"""Crawl data shared by the scans that saw it unchanged (issue 15).

`pages` rows become page versions (`scan_id` = the newest scan that saw the version,
`first_scan_id` where it started, `facts` = its page-local check results); `links` hang on
the page version instead of being copied per scan (with `invalid`, why an http(s) link
is not a valid URL, so a carried page still reports it); `targets` keep `first_scan_id` and the
`checked_at` time the recheck window counts from. Existing links are attached to the page
row of their scan and source page.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from govcheck.store.schema import Timestamp

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("first_scan_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=True))
        batch.create_foreign_key("fk_pages_first_scan_id_scans", "scans", ["first_scan_id"], ["id"])
        batch.create_index("ix_pages_site_url", ["site_id", "url"], unique=False)
    op.execute("UPDATE pages SET first_scan_id = scan_id")
    with op.batch_alter_table("targets") as batch:
        batch.add_column(sa.Column("first_scan_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("checked_at", Timestamp(timezone=True), nullable=True))
        batch.create_foreign_key("fk_targets_first_scan_id_scans", "scans", ["first_scan_id"], ["id"])
        batch.create_index(op.f("ix_targets_url"), ["url"], unique=False)
    op.execute("UPDATE targets SET first_scan_id = scan_id")

    op.create_table("links_v6",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("page_id", sa.Integer(), nullable=False),
                    sa.Column("target_url", sa.String(length=2000), nullable=False),
                    sa.Column("tag", sa.String(length=20), nullable=False),
                    sa.Column("anchor", sa.Text(), nullable=True),
                    sa.Column("hidden", sa.String(length=200), nullable=True),
                    sa.Column("pagination", sa.Boolean(), nullable=False),
                    sa.Column("invalid", sa.String(length=200), nullable=True),
                    sa.ForeignKeyConstraint(["page_id"], ["pages.id"]),
                    sa.PrimaryKeyConstraint("id"))
    op.execute("INSERT INTO links_v6 (id, page_id, target_url, tag, anchor, hidden, pagination) "
               "SELECT l.id, p.id, l.target_url, l.tag, l.anchor, l.hidden, false FROM links l "
               "JOIN pages p ON p.scan_id = l.scan_id AND p.site_id = l.site_id AND p.final_url = l.source_url "
               "AND p.id = (SELECT min(p2.id) FROM pages p2 WHERE p2.scan_id = l.scan_id AND p2.site_id = l.site_id "
               "AND p2.final_url = l.source_url)")
    op.drop_index("ix_links_scan_id", table_name="links")
    op.drop_table("links")
    op.rename_table("links_v6", "links")
    op.create_index(op.f("ix_links_page_id"), "links", ["page_id"], unique=False)


def downgrade() -> None:
    op.create_table("links_v5",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("scan_id", sa.Integer(), nullable=False),
                    sa.Column("site_id", sa.Integer(), nullable=False),
                    sa.Column("source_url", sa.String(length=2000), nullable=False),
                    sa.Column("target_url", sa.String(length=2000), nullable=False),
                    sa.Column("tag", sa.String(length=20), nullable=False),
                    sa.Column("anchor", sa.Text(), nullable=True),
                    sa.Column("hidden", sa.String(length=200), nullable=True),
                    sa.ForeignKeyConstraint(["scan_id"], ["scans.id"]),
                    sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
                    sa.PrimaryKeyConstraint("id"))
    op.execute("INSERT INTO links_v5 (id, scan_id, site_id, source_url, target_url, tag, anchor, hidden) "
               "SELECT l.id, p.scan_id, p.site_id, p.final_url, l.target_url, l.tag, l.anchor, l.hidden "
               "FROM links l JOIN pages p ON p.id = l.page_id")
    op.drop_index(op.f("ix_links_page_id"), table_name="links")
    op.drop_table("links")
    op.rename_table("links_v5", "links")
    op.create_index("ix_links_scan_id", "links", ["scan_id"], unique=False)
    with op.batch_alter_table("targets") as batch:
        batch.drop_index(op.f("ix_targets_url"))
        batch.drop_constraint("fk_targets_first_scan_id_scans", type_="foreignkey")
        batch.drop_column("checked_at")
        batch.drop_column("first_scan_id")
    with op.batch_alter_table("pages") as batch:
        batch.drop_index("ix_pages_site_url")
        batch.drop_constraint("fk_pages_first_scan_id_scans", type_="foreignkey")
        batch.drop_column("facts")
        batch.drop_column("first_scan_id")
