"""Storage: SQLAlchemy 2 models and the handful of operations the rest of govcheck needs.

SQLite file by default, PostgreSQL (or anything SQLAlchemy speaks) by URL. Crawl data
(pages, links, targets) is written in batches while the crawl runs and belongs to one scan;
findings are merged in a single transaction at the end of a scan, so an interrupted scan
leaves the previous scan's findings exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import zlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

DEFAULT_DB = "sqlite:///govcheck.db"


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class UnitRow(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    group: Mapped[str | None] = mapped_column(String(100))


class SiteRow(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    url: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    site_code: Mapped[str | None] = mapped_column(String(20))
    allow_domains: Mapped[list] = mapped_column(default=list)


class ColumnRow(Base):
    __tablename__ = "columns"
    __table_args__ = (UniqueConstraint("site_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000))
    rule: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(20), default="registry")


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("unit_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    platform: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    feed: Mapped[str] = mapped_column(String(1000))
    warn_days: Mapped[int | None] = mapped_column(Integer)


class ScanRow(Base):
    __tablename__ = "scans"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    as_of: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|done|failed
    registry_path: Mapped[str | None] = mapped_column(String(1000))
    units: Mapped[list] = mapped_column(default=list)  # unit names this scan covered
    stats: Mapped[dict] = mapped_column(default=dict)


class SnapshotRow(Base):
    """Page bodies as fetched, zlib-compressed, shared across scans by content hash."""

    __tablename__ = "snapshots"
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PageRow(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("scan_id", "site_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    url: Mapped[str] = mapped_column(String(2000))
    final_url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    encoding: Mapped[str | None] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(ForeignKey("snapshots.content_hash"))
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    not_modified: Mapped[bool] = mapped_column(Boolean, default=False)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime)


class LinkRow(Base):
    """One occurrence of a link on a crawled page."""

    __tablename__ = "links"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    source_url: Mapped[str] = mapped_column(String(2000))
    target_url: Mapped[str] = mapped_column(String(2000))
    tag: Mapped[str] = mapped_column(String(20))
    anchor: Mapped[str | None] = mapped_column(Text)
    hidden: Mapped[str | None] = mapped_column(String(200))  # why it is invisible, if it is


class TargetRow(Base):
    """The result of fetching one unique URL in a scan (shared by every site that links it)."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("scan_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    method: Mapped[str] = mapped_column(String(8))
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    final_url: Mapped[str | None] = mapped_column(String(2000))
    redirects: Mapped[list] = mapped_column(default=list)
    content_type: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(Text)
    snippet: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(Integer)
    elapsed: Mapped[float | None] = mapped_column(Float)


class AttachmentRow(Base):
    """An attachment downloaded in a scan to be read (its body is a snapshot)."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("scan_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    url: Mapped[str] = mapped_column(String(2000))
    content_type: Mapped[str | None] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(ForeignKey("snapshots.content_hash"))
    size: Mapped[int] = mapped_column(Integer)


class FeedFetchRow(Base):
    """One account's feed as fetched in one scan."""

    __tablename__ = "feed_fetches"
    __table_args__ = (UniqueConstraint("scan_id", "account_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    format: Mapped[str | None] = mapped_column(String(10))
    warning: Mapped[str | None] = mapped_column(String(500))
    post_keys: Mapped[list] = mapped_column(default=list)   # the posts the feed carried this time
    content_hash: Mapped[str | None] = mapped_column(ForeignKey("snapshots.content_hash"))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PostRow(Base):
    """A new-media post, kept once per account across scans."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("account_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    key: Mapped[str] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text)
    published: Mapped[dt.datetime | None] = mapped_column(DateTime)
    text: Mapped[str] = mapped_column(Text)
    first_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))


class ProbeRow(Base):
    """One availability probe of a homepage (from a scan or the scheduler's daytime probes)."""

    __tablename__ = "probes"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    elapsed: Mapped[float | None] = mapped_column(Float)


class FindingRow(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    check: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    unit: Mapped[str] = mapped_column(String(200), index=True)
    target_kind: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(1000))
    url: Mapped[str] = mapped_column(String(2000))
    subject: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(default=dict)
    snapshot_hash: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime)
    first_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    last_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    fixed_scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|fixed|ignored
    review: Mapped[str | None] = mapped_column(String(10))            # confirmed|ignored (a reviewer's decision)
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class SightingRow(Base):
    """Which scans saw a finding — what `findings --scan ID` lists."""

    __tablename__ = "sightings"
    __table_args__ = (UniqueConstraint("scan_id", "finding_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)


# --------------------------------------------------------------------------- connection

class StorageError(RuntimeError):
    """The database cannot be opened or used (bad URL, server down): bad input, exit 2."""


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    # WAL lets `govcheck findings` read while a scan writes; foreign keys keep evidence linked.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def missing_sqlite_file(url: str | None) -> str | None:
    """The path of a SQLite database URL whose file does not exist, else None."""
    url = url or DEFAULT_DB
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else (url if "://" not in url else None)
    return path if path and not os.path.exists(path) else None


def open_db(url: str | None = None, create: bool = True) -> Engine:
    url = url or DEFAULT_DB
    if "://" not in url:  # a bare path means a SQLite file
        url = f"sqlite:///{url}"
    try:
        engine = create_engine(url, future=True)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(f"--db {url!r}: not a usable database URL ({exc})") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        if create:
            Base.metadata.create_all(engine)
        else:
            with engine.connect():
                pass
    except OperationalError as exc:
        raise StorageError(f"--db {url!r}: cannot open the database ({exc.orig})") from None
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# --------------------------------------------------------------------------- helpers

def compress(body: bytes) -> tuple[str, bytes]:
    return hashlib.sha256(body).hexdigest(), zlib.compress(body, 6)


def load_snapshot(session: Session, content_hash: str) -> bytes | None:
    row = session.get(SnapshotRow, content_hash)
    return zlib.decompress(row.data) if row else None


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


def previous_pages(session: Session, site_id: int) -> dict[str, tuple[str | None, str | None, str]]:
    """url → (etag, last_modified, content_hash) from the site's last completed scan (conditional GET)."""
    last = session.scalar(
        select(PageRow.scan_id).join(ScanRow, ScanRow.id == PageRow.scan_id)
        .where(PageRow.site_id == site_id, ScanRow.status == "done").order_by(PageRow.scan_id.desc()).limit(1))
    if last is None:
        return {}
    rows = session.execute(select(PageRow.url, PageRow.etag, PageRow.last_modified, PageRow.content_hash)
                           .where(PageRow.scan_id == last, PageRow.site_id == site_id, PageRow.status == 200))
    return {u: (e, lm, h) for u, e, lm, h in rows if e or lm}


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

    def __init__(self, sessions: sessionmaker[Session], scan_id: int | None, batch_size: int = 500,
                 as_of: dt.date | None = None):
        self.sessions = sessions
        self.scan_id = scan_id
        self.batch_size = batch_size
        self.as_of = as_of
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
                                  format=feed.format if feed else None, warning=feed.warning if feed else None,
                                  post_keys=[p.key for p in posts], content_hash=content_hash, fetched_at=dt.datetime.now()))
        self._posts.extend(dict(account_id=account_id, key=p.key, link=p.link, title=p.title, published=p.published,
                                text=p.text, first_scan_id=self.scan_id) for p in posts)
        self._maybe_flush()

    def add_probe(self, site_id: int, at: dt.datetime, ok: bool, status: int | None, error: str | None,
                  elapsed: float | None) -> None:
        # Dated on the scan's as-of day like its findings, so --as-of runs judge the window
        # they describe.
        if self.as_of is not None:
            at = dt.datetime.combine(self.as_of, at.time())
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
