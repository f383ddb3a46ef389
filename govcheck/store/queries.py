"""Read queries (and the registry sync) that the scan, exports and reports share."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govcheck.pagefacts import facts_hold
from govcheck.store.schema import AccountRow, ColumnRow, PageRow, ScanRow, ScreenshotRow, SiteRow, SnapshotRow, UnitRow


def load_snapshot(session: Session, content_hash: str) -> bytes | None:
    row = session.get(SnapshotRow, content_hash)
    return zlib.decompress(row.data) if row else None


def sync_registry(session: Session, registry, account_ids: dict | None = None) -> dict[str, int]:
    """Upsert units, sites, columns and accounts; returns site URL → site id (and fills
    account_ids with (unit, account name) → account id when given)."""
    site_ids: dict[str, int] = {}
    for unit in registry.units:
        urow = session.scalar(select(UnitRow).where(UnitRow.name == unit.name))
        if urow is None:
            urow = UnitRow(name=unit.name)
            session.add(urow)
        urow.group = unit.group
        session.flush()
        for site in unit.sites:
            srow = session.scalar(select(SiteRow).where(SiteRow.url == site.url))
            if srow is None:
                srow = SiteRow(url=site.url, unit_id=urow.id)
                session.add(srow)
            srow.unit_id, srow.name, srow.site_code = urow.id, site.name, site.site_code
            srow.allow_domains = list(site.allow_domains)
            session.flush()
            site_ids[site.url] = srow.id
            for col in site.columns:
                crow = session.scalar(select(ColumnRow).where(ColumnRow.site_id == srow.id, ColumnRow.url == col.url))
                if crow is None:
                    crow = ColumnRow(site_id=srow.id, url=col.url, name=col.name)
                    session.add(crow)
                crow.name, crow.rule, crow.source = col.name, col.rule, "registry"
        for acc in unit.accounts:
            arow = session.scalar(select(AccountRow).where(AccountRow.unit_id == urow.id, AccountRow.name == acc.name))
            if arow is None:
                arow = AccountRow(unit_id=urow.id, name=acc.name, platform=acc.platform, feed=acc.feed)
                session.add(arow)
            arow.platform, arow.feed, arow.warn_days = acc.platform, acc.feed, acc.warn_days
            session.flush()
            if account_ids is not None:
                account_ids[(unit.name, acc.name)] = arow.id
    session.flush()
    return site_ids


def resolve_scan(session: Session, which: str | int | None) -> ScanRow | None:
    """`--scan latest|ID`: latest means the newest completed scan."""
    if which in (None, "latest"):
        return session.scalar(select(ScanRow).where(ScanRow.status == "done").order_by(ScanRow.id.desc()).limit(1))
    try:
        return session.get(ScanRow, int(which))
    except ValueError:
        return None


@dataclass(frozen=True)
class PreviousPage:
    """A page's newest stored version: what a re-scan asks the server about and carries over."""

    page_id: int
    etag: str | None
    last_modified: str | None
    content_hash: str
    facts_hold: bool    # its stored page-local results still hold (govcheck.pagefacts)
    scan_id: int | None = None      # the newest scan that saw the version
    final_url: str | None = None    # where the request ended (after redirects)


def previous_pages(session: Session, site_id: int, wordlists: str = "", as_of: dt.date | None = None
                   ) -> dict[str, PreviousPage]:
    """url → the newest stored version of each page of the site (conditional GET, carry-over)."""
    newest = select(func.max(PageRow.id)).where(PageRow.site_id == site_id).group_by(PageRow.url)
    rows = session.execute(select(PageRow.id, PageRow.url, PageRow.final_url, PageRow.etag, PageRow.last_modified,
                                  PageRow.content_hash, PageRow.facts, PageRow.scan_id)
                           .where(PageRow.id.in_(newest), PageRow.status == 200).execution_options(yield_per=1000))
    return {url: PreviousPage(pid, e, lm, h, as_of is not None and facts_hold(facts, wordlists, as_of, final_url),
                              scan_id, final_url)
            for pid, url, final_url, e, lm, h, facts, scan_id in rows}


def screenshots_of(session: Session, finding_ids: list[int], scan_id: int | None = None) -> dict[int, ScreenshotRow]:
    """finding id → its screenshot as of scan `scan_id` (the newest taken in that scan or before;
    None: the newest of all). The PNG is `load_snapshot(session, row.image_hash)`."""
    out: dict[int, ScreenshotRow] = {}
    ids = list(finding_ids)
    for i in range(0, len(ids), 500):
        q = select(ScreenshotRow).where(ScreenshotRow.finding_id.in_(ids[i:i + 500]))
        if scan_id is not None:
            q = q.where(ScreenshotRow.scan_id <= scan_id)
        for row in session.scalars(q.order_by(ScreenshotRow.scan_id, ScreenshotRow.id)):
            out[row.finding_id] = row
    return out
