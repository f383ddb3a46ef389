"""The batched writer of one scan's crawl data (pages + snapshots, links, targets, probes,
attachments, feed fetches and posts).

Rows are written in batches while the crawl runs; findings are merged separately in one
transaction at the end of a scan, so an interrupted scan leaves the previous findings as
they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from govcheck import clock
from govcheck.store.queries import load_snapshot
from govcheck.store.schema import (
    AttachmentRow,
    Base,
    FeedFetchRow,
    LinkRow,
    PageRow,
    PostRow,
    ProbeRow,
    SnapshotRow,
    TargetRow,
)


def compress(body: bytes) -> tuple[str, bytes]:
    return hashlib.sha256(body).hexdigest(), zlib.compress(body, 6)


def insert_ignore(session: Session, model: type[Base], rows: list[dict[str, Any]], keys: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL (snapshots are shared)."""
    if not rows:
        return
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other backends: filter first, then insert
        existing = set(session.scalars(select(getattr(model, keys[0])).where(
            getattr(model, keys[0]).in_([r[keys[0]] for r in rows]))))
        session.execute(model.__table__.insert(), [r for r in rows if r[keys[0]] not in existing])
        return
    session.execute(insert(model).on_conflict_do_nothing(index_elements=keys), rows)


def chunks(rows: Iterable[Any], size: int = 500):
    batch = []
    for r in rows:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class ScanStore:
    """Batched writer of one scan's crawl data (pages + snapshots, links, targets)."""

    def __init__(self, sessions: sessionmaker[Session], scan_id: int | None, batch_size: int = 500):
        self.sessions = sessions
        self.scan_id = scan_id
        self.batch_size = batch_size
        self._probes: list[dict] = []
        self._attachments: list[dict] = []
        self.flushed_probes: list[dict] = []
        self._fetches: list[dict] = []
        self._posts: list[dict] = []
        self._pages: list[dict] = []
        self._snapshots: dict[str, dict] = {}
        self._links: list[dict] = []
        self._targets: dict[str, dict] = {}
        self._written_targets: set[str] = set()

    def add_page(self, site_id: int, url: str, body: bytes, **fields: Any) -> str:
        content_hash, data = compress(body)
        self._snapshots.setdefault(content_hash, {"content_hash": content_hash, "size": len(body), "data": data})
        self._pages.append(dict(scan_id=self.scan_id, site_id=site_id, url=url, content_hash=content_hash, **fields))
        self._maybe_flush()
        return content_hash

    def add_links(self, site_id: int, source_url: str, links) -> None:
        self._links.extend(
            dict(scan_id=self.scan_id, site_id=site_id, source_url=source_url, target_url=link.url, tag=link.tag,
                 anchor=link.text or None, hidden=link.hidden) for link in links)
        self._maybe_flush()

    def add_target(self, **fields: Any) -> None:
        url = fields["url"]
        if url in self._written_targets or url in self._targets:
            return  # the first fetch of a URL in a scan is its result
        self._targets[url] = dict(scan_id=self.scan_id, **fields)
        self._maybe_flush()

    def add_attachment(self, site_id: int, url: str, body: bytes, content_type: str | None) -> None:
        content_hash, data = compress(body)
        self._snapshots.setdefault(content_hash, {"content_hash": content_hash, "size": len(body), "data": data})
        self._attachments.append(dict(scan_id=self.scan_id, site_id=site_id, url=url, content_type=content_type,
                                      content_hash=content_hash, size=len(body)))
        self._maybe_flush()

    def add_feed(self, account_id: int, status: int | None, error: str | None, body: bytes | None, feed=None) -> None:
        content_hash = None
        if body:
            content_hash, data = compress(body)
            self._snapshots.setdefault(content_hash, {"content_hash": content_hash, "size": len(body), "data": data})
        posts = feed.posts if feed is not None else []
        self._fetches.append(dict(scan_id=self.scan_id, account_id=account_id, status=status, error=error,
                                  format=feed.format if feed else None, warning=feed.notes if feed else None,
                                  post_keys=[p.key for p in posts], content_hash=content_hash, fetched_at=clock.now()))
        self._posts.extend(dict(account_id=account_id, key=p.key, link=p.link, title=p.title, published=p.published,
                                text=p.text, first_scan_id=self.scan_id) for p in posts)
        self._maybe_flush()

    def add_probe(self, site_id: int, at: dt.datetime, ok: bool, status: int | None, error: str | None,
                  elapsed: float | None) -> None:
        self._probes.append(dict(site_id=site_id, scan_id=self.scan_id, at=at, ok=ok, status=status, error=error,
                                 elapsed=elapsed))

    def _maybe_flush(self) -> None:
        # Attachments weigh more: their bodies are held until the flush.
        if len(self._pages) + len(self._links) + len(self._targets) + 20 * len(self._attachments) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not (self._pages or self._links or self._targets or self._probes or self._attachments or self._fetches):
            return
        with self.sessions.begin() as session:
            insert_ignore(session, SnapshotRow, list(self._snapshots.values()), ["content_hash"])
            insert_ignore(session, PageRow, self._pages, ["scan_id", "site_id", "url"])
            if self._links:
                session.execute(LinkRow.__table__.insert(), self._links)
            insert_ignore(session, TargetRow, list(self._targets.values()), ["scan_id", "url"])
            if self._probes:
                session.execute(ProbeRow.__table__.insert(), self._probes)
                self.flushed_probes += self._probes
            insert_ignore(session, AttachmentRow, self._attachments, ["scan_id", "url"])
            insert_ignore(session, FeedFetchRow, self._fetches, ["scan_id", "account_id"])
            # A post seen in an earlier scan keeps its first record (dedup across scans).
            insert_ignore(session, PostRow, list({(p["account_id"], p["key"]): p for p in self._posts}.values()),
                          ["account_id", "key"])
        self._written_targets.update(self._targets)
        self._pages, self._snapshots, self._links, self._targets, self._probes = [], {}, [], {}, []
        self._attachments, self._fetches, self._posts = [], [], []

    def snapshot(self, content_hash: str) -> bytes | None:
        if content_hash in self._snapshots:
            return zlib.decompress(self._snapshots[content_hash]["data"])
        with self.sessions() as session:
            return load_snapshot(session, content_hash)
