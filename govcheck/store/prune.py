"""`govcheck db prune --keep-scans N`: drop crawl data only old scans used.

Crawl data (page versions and their links, target results, downloaded attachments, feed
fetches) last seen by a scan older than the newest N completed scans goes, and so do the crawl
outcomes of those scans (site_outcomes, crawl_events: read only to analyse or resume a scan,
which neither does once a later scan is complete); then every
snapshot nothing references any more. Scan rows, findings, sightings, fixes, finding
versions, reviews and screenshots — what `findings --scan`, `report --scan`, the review trail
and the console read — are never removed, nor any snapshot a finding, one of its versions or a
screenshot (its PNG and the page it was rendered from) points to.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, text, union
from sqlalchemy.engine import Engine

from govcheck.store.schema import (
    AttachmentRow,
    CrawlEventRow,
    FeedFetchRow,
    FindingRow,
    FindingVersionRow,
    LinkRow,
    PageRow,
    ScanRow,
    ScreenshotRow,
    SiteOutcomeRow,
    SnapshotRow,
    TargetRow,
)


@dataclass
class PruneResult:
    cutoff: int | None          # crawl data last seen before this scan id was removed
    pages: int = 0
    links: int = 0
    targets: int = 0
    attachments: int = 0
    feed_fetches: int = 0
    site_outcomes: int = 0
    crawl_events: int = 0
    snapshots: int = 0


def prune(engine: Engine, keep_scans: int) -> PruneResult:
    with engine.begin() as conn:
        kept = conn.scalars(select(ScanRow.id).where(ScanRow.status == "done").order_by(ScanRow.id.desc())
                            .limit(keep_scans)).all()
        if len(kept) < keep_scans or not kept:
            return PruneResult(None)
        cutoff = min(kept)
        result = PruneResult(cutoff)
        old_pages = select(PageRow.id).where(PageRow.scan_id < cutoff)
        result.links = conn.execute(delete(LinkRow).where(LinkRow.page_id.in_(old_pages))).rowcount
        result.pages = conn.execute(delete(PageRow).where(PageRow.scan_id < cutoff)).rowcount
        result.targets = conn.execute(delete(TargetRow).where(TargetRow.scan_id < cutoff)).rowcount
        result.attachments = conn.execute(delete(AttachmentRow).where(AttachmentRow.scan_id < cutoff)).rowcount
        result.feed_fetches = conn.execute(delete(FeedFetchRow).where(FeedFetchRow.scan_id < cutoff)).rowcount
        result.site_outcomes = conn.execute(delete(SiteOutcomeRow).where(SiteOutcomeRow.scan_id < cutoff)).rowcount
        result.crawl_events = conn.execute(delete(CrawlEventRow).where(CrawlEventRow.scan_id < cutoff)).rowcount
        used = union(select(PageRow.content_hash), select(AttachmentRow.content_hash),
                     select(FeedFetchRow.content_hash).where(FeedFetchRow.content_hash.is_not(None)),
                     select(FindingRow.snapshot_hash).where(FindingRow.snapshot_hash.is_not(None)),
                     select(FindingVersionRow.snapshot_hash).where(FindingVersionRow.snapshot_hash.is_not(None)),
                     select(ScreenshotRow.page_hash), select(ScreenshotRow.image_hash))
        result.snapshots = conn.execute(delete(SnapshotRow).where(SnapshotRow.content_hash.not_in(used))).rowcount
    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM"))   # give the space back to the file system
    return result
