"""The batched writer of one scan's crawl data (pages + snapshots, links, targets, probes,
attachments, feed fetches and posts).

Rows are written in batches while the crawl runs; findings are merged separately in one
transaction at the end of a scan, so an interrupted scan leaves the previous findings as
they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import Integer

from govcheck import clock
from govcheck.store.schema import (
    AttachmentRow,
    Base,
    CrawlEventRow,
    FeedFetchRow,
    LinkRow,
    PageRow,
    PostRow,
    ProbeRow,
    SiteOutcomeRow,
    SnapshotRow,
    TargetRow,
)


def compress(body: bytes) -> tuple[str, bytes]:
    return hashlib.sha256(body).hexdigest(), zlib.compress(body, 6)


def dialect_insert(session: Session, model: type[Base]):
    """The INSERT of the session's database that knows ON CONFLICT (SQLite, PostgreSQL)."""
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the store is SQLite or PostgreSQL (govcheck.store.engine)
        raise NotImplementedError(f"{dialect}: no INSERT … ON CONFLICT")
    return dialect_insert(model)


def insert_ignore(session: Session, model: type[Base], rows: list[dict[str, Any]], keys: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL (snapshots are shared)."""
    if not rows:
        return
    session.execute(dialect_insert(session, model).on_conflict_do_nothing(index_elements=keys), rows)


def chunks(rows: Iterable[Any], size: int = 500):
    batch = []
    for r in rows:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# What makes two fetches of a URL the same result (a confirmed result is not stored again).
# Carried pages' stored data is read CARRY_CHUNK page ids at a time, a few ranges kept.
CARRY_CHUNK = 256
CARRY_CHUNKS_KEPT = 8
CARRIED_FACTS = ("includes", "columns", "links_capped")
# A site's outcome (SiteOutcomeRow): state fields set as they become known, counters added to.
OUTCOME_STATE = ("status", "homepage_error", "homepage_not_judged", "partial", "finished_at")
OUTCOME_COUNTERS = ("pages", "pages_carried", "targets", "carried", "budget_cut", "events")
MAX_SITE_EVENTS = 500   # event rows one process stores per site (the `events` counter counts all)
RESULT_FIELDS = ("method", "status", "error", "final_url", "redirects", "content_type", "title", "snippet", "size")


class ScanStore:
    """Batched writer of one scan's crawl data (pages + snapshots, links, targets).

    Unchanged things are not copied per scan: a page version or a target result seen again
    (or carried over) has its `scan_id` moved on to this scan, in place.
    """

    def __init__(self, sessions: sessionmaker[Session], scan_id: int | None, batch_size: int = 500,
                 flush_seconds: float = 0.0):
        self.sessions = sessions
        self.scan_id = scan_id
        self.batch_size = batch_size
        # A small site's crawl never fills a batch: written at least this often, so a process
        # killed mid-crawl loses seconds of work, not all of it (what `--resume` starts from).
        self.flush_seconds = flush_seconds
        self._last_flush = time.monotonic()
        self._probes: list[dict] = []
        self._attachments: list[dict] = []
        self.flushed_probes: list[dict] = []
        self._fetches: list[dict] = []
        self._posts: list[dict] = []
        self._pages: list[tuple[dict, list]] = []     # (page row, its links)
        self._snapshots: dict[str, dict] = {}
        self._targets: dict[str, dict] = {}
        self._written_targets: set[str] = set()
        self._carried_pages: list[dict] = []
        self._carried_targets: dict[str, int | None] = {}   # url → target row id (None: the newest row)
        self._carried_attachments: list[tuple[int, str]] = []
        self.carried = 0
        self.recheck_since: dt.datetime | None = None   # set by the spider (its recheck window)
        self._chunks: OrderedDict[int, dict] = OrderedDict()
        self._outcomes: dict[int, dict[str, Any]] = {}   # site id → state changed since the last flush
        self._counters: dict[int, dict[str, int]] = {}   # site id → counts since the last flush
        self._events: list[dict] = []
        self._events_kept: dict[int | None, int] = {}

    # ------------------------------------------------------------------ site outcomes

    def site_state(self, site_id: int, **state: Any) -> None:
        """The site's outcome as the crawl knows it now (OUTCOME_STATE fields); written with
        the next flush, so a `complete` is stored together with the site's last pages."""
        self._outcomes.setdefault(site_id, {}).update(state)
        self._maybe_flush()

    def count(self, site_id: int | None, counter: str, n: int = 1) -> None:
        if site_id is None:
            return
        per_site = self._counters.setdefault(site_id, dict.fromkeys(OUTCOME_COUNTERS, 0))
        per_site[counter] += n

    def add_event(self, site_id: int | None, event: dict) -> None:
        self.count(site_id, "events")
        kept = self._events_kept.get(site_id, 0)
        if kept < MAX_SITE_EVENTS:
            self._events_kept[site_id] = kept + 1
            self._events.append(dict(scan_id=self.scan_id, site=event.get("site"), kind=event["kind"][:40],
                                     message=event.get("message") or "", at=event.get("at")))

    def add_page(self, site_id: int, url: str, body: bytes, links=(), **fields: Any) -> str:
        content_hash, data = compress(body)
        self._snapshots.setdefault(content_hash, {"content_hash": content_hash, "size": len(body), "data": data})
        self._pages.append((dict(scan_id=self.scan_id, first_scan_id=self.scan_id, site_id=site_id, url=url,
                                 content_hash=content_hash, **fields),
                            [dict(target_url=link.url, tag=link.tag, anchor=link.text or None, hidden=link.hidden,
                                  pagination=link.pagination, invalid=link.invalid) for link in links]))
        self._maybe_flush()
        return content_hash

    def carry_page(self, page_id: int, depth: int, fetched_at: dt.datetime, not_modified: bool) -> None:
        """An unchanged page: its stored version (links, facts, snapshot) holds for this scan."""
        self._carried_pages.append(dict(id=page_id, scan_id=self.scan_id, depth=depth, fetched_at=fetched_at,
                                        not_modified=not_modified))
        self._maybe_flush()

    def carry_target(self, url: str, target_id: int | None = None) -> None:
        """A result that holds for this scan without a new request (see `recent_results`)."""
        if url in self._written_targets or url in self._targets or url in self._carried_targets:
            return
        self._carried_targets[url] = target_id
        self.carried += 1
        self._maybe_flush()

    def carry_attachment(self, site_id: int, url: str) -> None:
        self._carried_attachments.append((site_id, url))

    def add_target(self, **fields: Any) -> None:
        url = fields["url"]
        if url in self._written_targets or url in self._targets or url in self._carried_targets:
            return  # the first fetch of a URL in a scan is its result
        self._targets[url] = dict(scan_id=self.scan_id, first_scan_id=self.scan_id, **fields)
        self._maybe_flush()

    def add_attachment(self, site_id: int, url: str, body: bytes, content_type: str | None) -> None:
        content_hash, data = compress(body)
        self._snapshots.setdefault(content_hash, {"content_hash": content_hash, "size": len(body), "data": data})
        self._attachments.append(dict(scan_id=self.scan_id, site_id=site_id, url=url, content_type=content_type,
                                      content_hash=content_hash, size=len(body)))
        self._maybe_flush()

    def add_feed(self, account_id: int, status: int | None, error: str | None, body: bytes | None, feed=None,
                 not_judged: str | None = None) -> None:
        content_hash = None
        if body:
            content_hash, data = compress(body)
            self._snapshots.setdefault(content_hash, {"content_hash": content_hash, "size": len(body), "data": data})
        posts = feed.posts if feed is not None else []
        self._fetches.append(dict(scan_id=self.scan_id, account_id=account_id, status=status, error=error,
                                  format=feed.format if feed else None, warning=feed.notes if feed else None,
                                  not_judged=not_judged,
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
        pending = (len(self._pages) + len(self._targets) + len(self._carried_pages) + len(self._carried_targets)
                   + 20 * len(self._attachments))
        if pending >= self.batch_size or (self.flush_seconds and time.monotonic() - self._last_flush > self.flush_seconds):
            self.flush()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not (self._pages or self._targets or self._probes or self._attachments or self._fetches
                or self._carried_pages or self._carried_targets or self._carried_attachments
                or self._outcomes or self._counters or self._events):
            return
        with self.sessions.begin() as session:
            insert_ignore(session, SnapshotRow, list(self._snapshots.values()), ["content_hash"])
            self._write_pages(session)
            self._write_targets(session)
            if self._probes:
                session.execute(ProbeRow.__table__.insert(), self._probes)
                self.flushed_probes += self._probes
            insert_ignore(session, AttachmentRow, self._attachments, ["scan_id", "url"])
            self._write_carried_attachments(session)
            insert_ignore(session, FeedFetchRow, self._fetches, ["scan_id", "account_id"])
            # A post seen in an earlier scan keeps its first record (dedup across scans).
            insert_ignore(session, PostRow, list({(p["account_id"], p["key"]): p for p in self._posts}.values()),
                          ["account_id", "key"])
            self._write_outcomes(session)
        self._written_targets.update(self._targets)
        self._written_targets.update(self._carried_targets)
        self._pages, self._snapshots, self._targets, self._probes = [], {}, {}, []
        self._attachments, self._fetches, self._posts = [], [], []
        self._carried_pages, self._carried_targets, self._carried_attachments = [], {}, []
        self._outcomes, self._counters, self._events = {}, {}, []

    def _write_outcomes(self, session: Session) -> None:
        """Outcome rows exist from the scan's start (`create_outcomes`): each process updates
        them in place — state fields it knows, counters added to — so workers never
        overwrite each other's counts."""
        if self._events:
            session.execute(CrawlEventRow.__table__.insert(), self._events)
        sites = set(self._outcomes) | set(self._counters)
        if not sites or self.scan_id is None:
            return
        table = SiteOutcomeRow.__table__
        values = {f: func.coalesce(bindparam(f"new_{f}", type_=table.c[f].type), table.c[f]) for f in OUTCOME_STATE}
        values.update({f: table.c[f] + bindparam(f"add_{f}", type_=Integer()) for f in OUTCOME_COUNTERS})
        stmt = (update(table).where(and_(table.c.scan_id == bindparam("b_scan"), table.c.site_id == bindparam("b_site")))
                .values(values))
        zero = dict.fromkeys(OUTCOME_COUNTERS, 0)
        rows = []
        for site_id in sorted(sites):
            state, counts = self._outcomes.get(site_id, {}), self._counters.get(site_id, zero)
            rows.append({"b_scan": self.scan_id, "b_site": site_id,
                         **{f"new_{f}": state.get(f) for f in OUTCOME_STATE},
                         **{f"add_{f}": counts[f] for f in OUTCOME_COUNTERS}})
        session.execute(stmt, rows)

    def _stored_pages(self, session: Session, keys) -> set[tuple[int, str]]:
        """Which of the (site id, url) pairs this scan holds a page for already (read through
        the unique (scan, site, url) index)."""
        by_site: dict[int, list[str]] = {}
        for site_id, url in dict.fromkeys(keys):
            by_site.setdefault(site_id, []).append(url)
        out: set[tuple[int, str]] = set()
        for site_id, urls in by_site.items():
            for batch in chunks(urls, 500):
                out.update((site_id, url) for url in session.scalars(select(PageRow.url).where(
                    PageRow.scan_id == self.scan_id, PageRow.site_id == site_id, PageRow.url.in_(batch))))
        return out

    def _write_pages(self, session: Session) -> None:
        """A page is stored once per scan: the first version written wins, whether the second
        comes from this process, a worker whose request was re-queued, or a resumed scan
        (the unique (scan, site, url) and ON CONFLICT DO NOTHING hold it against races)."""
        if self._pages:
            stored = self._stored_pages(session, ((row["site_id"], row["url"]) for row, _links in self._pages))
            new: dict[tuple[int, str], tuple[dict, list]] = {}
            for row, links in self._pages:
                key = (row["site_id"], row["url"])
                if key not in stored:
                    new.setdefault(key, (row, links))
            if new:
                stmt = (dialect_insert(session, PageRow).on_conflict_do_nothing(index_elements=["scan_id", "site_id", "url"])
                        .returning(PageRow.id, PageRow.site_id, PageRow.url))
                ids = {(site_id, url): page_id
                       for page_id, site_id, url in session.execute(stmt, [row for row, _links in new.values()])}
                links = [dict(link, page_id=ids[key]) for key, (_row, page_links) in new.items() if key in ids
                         for link in page_links]
                if links:
                    session.execute(LinkRow.__table__.insert(), links)
        if self._carried_pages:
            carried = {c["id"]: c for c in self._carried_pages}
            versions = []
            for batch in chunks(list(carried), 500):
                versions += session.execute(select(PageRow.id, PageRow.site_id, PageRow.url, PageRow.scan_id)
                                            .where(PageRow.id.in_(batch))).all()
            stored = self._stored_pages(session, ((site, url) for _id, site, url, _scan in versions))
            # A version moves on to this scan unless the scan holds the page already.
            moves = [carried[pid] for pid, site_id, url, scan_id in versions
                     if scan_id == self.scan_id or (site_id, url) not in stored]
            if moves:
                session.execute(update(PageRow), moves)

    def _write_targets(self, session: Session) -> None:
        """New results are compared with each URL's newest stored one: the same result moves
        on to this scan in place; a different one is a new row."""
        urls = list(self._targets) + [u for u, i in self._carried_targets.items() if i is None]
        newest: dict[str, Any] = {}
        for batch in chunks(urls, 500):
            last = (select(TargetRow.url, func.max(TargetRow.id).label("id")).where(TargetRow.url.in_(batch))
                    .group_by(TargetRow.url).subquery())
            for row in session.execute(select(TargetRow).join(last, TargetRow.id == last.c.id)).scalars():
                newest[row.url] = row
        # One result per URL and scan: the first written wins (a re-queued request, a resumed scan).
        held = set()
        for batch in chunks(list(self._targets) + list(self._carried_targets), 500):
            held.update(session.scalars(select(TargetRow.url).where(TargetRow.scan_id == self.scan_id,
                                                                    TargetRow.url.in_(batch))))
        fresh, moved = [], []
        for url, t in self._targets.items():
            if url in held:
                continue
            row = newest.get(url)
            if row is not None and row.scan_id != self.scan_id and all(getattr(row, f) == t[f] for f in RESULT_FIELDS):
                moved.append(dict(id=row.id, scan_id=self.scan_id, checked_at=t.get("checked_at"),
                                  elapsed=t.get("elapsed")))
            else:
                fresh.append(t)
        for url, target_id in self._carried_targets.items():
            if url in held:
                continue
            if target_id is None:
                row = newest.get(url)
                if row is None or row.scan_id == self.scan_id:
                    continue
                target_id = row.id
            moved.append(dict(id=target_id, scan_id=self.scan_id))
        if fresh:
            session.execute(dialect_insert(session, TargetRow).on_conflict_do_nothing(index_elements=["scan_id", "url"]),
                            fresh)
        # Rows of two shapes (confirmed with a new check time; carried as they were).
        for keys in ({"id", "scan_id", "checked_at", "elapsed"}, {"id", "scan_id"}):
            rows = [m for m in moved if set(m) == keys]
            if rows:
                session.execute(update(TargetRow), rows)

    def _write_carried_attachments(self, session: Session) -> None:
        """Each carried attachment's newest row moves on to this scan, unless this scan already
        has a row for its URL. Read for the whole flush at once: two queries per attachment
        (the first without an index on `url`) were a fifth of a re-scan (bench/crawl.py)."""
        if not self._carried_attachments:
            return
        pairs = list(dict.fromkeys(self._carried_attachments))
        urls = list(dict.fromkeys(url for _site, url in pairs))
        last: dict[tuple[int, str], int] = {}
        taken: set[str] = set()
        for batch in chunks(urls, 500):
            taken.update(session.scalars(select(AttachmentRow.url).where(AttachmentRow.scan_id == self.scan_id,
                                                                         AttachmentRow.url.in_(batch))))
            for site_id, url, row_id in session.execute(
                    select(AttachmentRow.site_id, AttachmentRow.url, func.max(AttachmentRow.id))
                    .where(AttachmentRow.url.in_(batch)).group_by(AttachmentRow.site_id, AttachmentRow.url)):
                last[(site_id, url)] = row_id
        moved = []
        for site_id, url in pairs:
            row_id = last.get((site_id, url))
            if row_id is not None and url not in taken:
                moved.append(dict(id=row_id, scan_id=self.scan_id))
                taken.add(url)   # one row per (scan, url)
        if moved:
            session.execute(update(AttachmentRow), moved)

    # ------------------------------------------------------------------ reads during the crawl

    def snapshot(self, content_hash: str) -> bytes | None:
        if content_hash in self._snapshots:
            return zlib.decompress(self._snapshots[content_hash]["data"])
        with self.sessions() as session:
            row = session.get(SnapshotRow, content_hash)
            return zlib.decompress(row.data) if row else None

    def page_facts(self, page_id: int) -> dict | None:
        return self._carried_chunk(page_id)["facts"].get(page_id)

    def page_links(self, page_id: int) -> list[tuple]:
        """(url, tag, text, hidden, pagination, invalid) of a stored page version, in document order."""
        return self._carried_chunk(page_id)["links"].get(page_id, [])

    def carried_recent(self, page_id: int) -> dict[str, TargetRow] | None:
        """`recent_results` of every link target of the stored page version (loaded with its
        chunk), or None when no recheck window was given."""
        return self._carried_chunk(page_id)["recent"]

    def _carried_chunk(self, page_id: int) -> dict:
        """The stored links, facts and recent target results of a range of page ids, read at
        once: a re-scan carries thousands of pages, and one query (or three) per page in the
        reactor thread was most of its time (bench/crawl.py --profile). Page ids follow the
        first scan's crawl order, which the re-scan repeats closely, so a few ranges cached
        at a time keep memory bounded whatever the site's size."""
        key = page_id // CARRY_CHUNK
        chunk = self._chunks.get(key)
        if chunk is not None:
            self._chunks.move_to_end(key)
            return chunk
        lo, hi = key * CARRY_CHUNK, (key + 1) * CARRY_CHUNK
        links: dict[int, list[tuple]] = {}
        facts: dict[int, dict] = {}
        recent = None
        with self.sessions() as session:
            for pid, page_facts in session.execute(select(PageRow.id, PageRow.facts)
                                                   .where(PageRow.id >= lo, PageRow.id < hi)):
                # Only what the spider reads of a carried page (the findings stay in the row).
                facts[pid] = {k: v for k, v in (page_facts or {}).items() if k in CARRIED_FACTS}
            for pid, *link in session.execute(select(LinkRow.page_id, LinkRow.target_url, LinkRow.tag, LinkRow.anchor,
                                                     LinkRow.hidden, LinkRow.pagination, LinkRow.invalid)
                                              .where(LinkRow.page_id >= lo, LinkRow.page_id < hi).order_by(LinkRow.id)):
                links.setdefault(pid, []).append(tuple(link))
        if self.recheck_since is not None:
            urls = list(dict.fromkeys(link[0] for page in links.values() for link in page if not link[5]))
            recent = self.recent_results(urls, self.recheck_since)
        chunk = self._chunks[key] = {"links": links, "facts": facts, "recent": recent}
        while len(self._chunks) > CARRY_CHUNKS_KEPT:
            self._chunks.popitem(last=False)
        return chunk

    def any_result_since(self, since: dt.datetime) -> bool:
        """Whether any stored result was fetched after `since`: when none was (a first scan, or
        every result older than the recheck window), no per-page lookup can find one."""
        with self.sessions() as session:
            return session.scalar(select(TargetRow.id).where(TargetRow.checked_at >= since).limit(1)) is not None

    def recent_results(self, urls: list[str], since: dt.datetime) -> dict[str, TargetRow]:
        """The newest stored result of each URL, if it was fetched after `since`."""
        out: dict[str, TargetRow] = {}
        if not urls:
            return out
        with self.sessions() as session:
            for batch in chunks(urls, 500):
                last = (select(func.max(TargetRow.id).label("id")).where(TargetRow.url.in_(batch))
                        .group_by(TargetRow.url).subquery())
                for row in session.scalars(select(TargetRow).join(last, TargetRow.id == last.c.id)
                                           .where(TargetRow.checked_at >= since)):
                    out[row.url] = row
        return out
