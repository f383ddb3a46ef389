"""The database schema: SQLAlchemy 2 models of everything govcheck stores.

Crawl data (pages, links, targets, attachments, feed fetches) belongs to one scan; units,
sites, columns, accounts, posts and findings live across scans. Page bodies are kept once
per content hash (snapshots) as the evidence findings point to.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from govcheck.clock import BEIJING, as_beijing


class Timestamp(TypeDecorator):
    """A point in time stored timezone-aware — `timestamptz` on PostgreSQL, UTC on SQLite
    (which has no zoned type) — and read back in Beijing time. A naive value is Beijing time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = as_beijing(value).astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value).astimezone(BEIJING)


# `detail` as JSONB on PostgreSQL: stored parsed, indexable and queryable with its JSON operators.
DETAIL_JSON = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON, dt.datetime: Timestamp}


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
    started_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    as_of: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|done|failed
    registry_path: Mapped[str | None] = mapped_column(String(1000))
    units: Mapped[list] = mapped_column(default=list)  # unit names this scan covered
    stats: Mapped[dict] = mapped_column(default=dict)
    # While `running`: renewed by the process that runs the scan (govcheck.heartbeat); one that
    # has not been renewed for a while means that process is gone (SIGKILL, power loss).
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    coordinator: Mapped[str | None] = mapped_column(String(200))   # host and pid of that process


class SiteOutcomeRow(Base):
    """How the crawl of one site went in one scan, written by the spider in the same
    transaction as the site's pages (so `complete` never runs ahead of what is stored) and
    read back by the analysis — by whichever process or machine runs it.

    `status`: crawling (not finished yet), complete (nothing left to fetch, whether or not the
    homepage answered: see `homepage_error`), partial (a budget cut it: `partial` says which),
    failed (the scan stopped before the site was finished: `govcheck scan --resume` crawls it
    again). Counters are added to by every process that crawls the site."""

    __tablename__ = "site_outcomes"
    __table_args__ = (UniqueConstraint("scan_id", "site_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    status: Mapped[str] = mapped_column(String(10), default="crawling")   # crawling|complete|partial|failed
    homepage_error: Mapped[str | None] = mapped_column(String(300))
    homepage_not_judged: Mapped[str | None] = mapped_column(String(300))
    partial: Mapped[str | None] = mapped_column(String(300))             # the budget that cut the crawl
    pages: Mapped[int] = mapped_column(Integer, default=0)                # pages fetched (parsed or carried)
    pages_carried: Mapped[int] = mapped_column(Integer, default=0)
    targets: Mapped[int] = mapped_column(Integer, default=0)              # link targets checked
    carried: Mapped[int] = mapped_column(Integer, default=0)              # target results carried over
    budget_cut: Mapped[int] = mapped_column(Integer, default=0)           # requests dropped by a budget
    events: Mapped[int] = mapped_column(Integer, default=0)               # crawl events (crawl_events rows)
    started_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class CrawlEventRow(Base):
    """One crawl event (budget ended, links capped, a callback failed …): rows are only added."""

    __tablename__ = "crawl_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    site: Mapped[str | None] = mapped_column(String(2000))    # the site (or feed) it concerns
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[str | None] = mapped_column(String(40))        # as the event log shows it (Beijing time)


class SnapshotRow(Base):
    """Page bodies as fetched, zlib-compressed, shared across scans by content hash."""

    __tablename__ = "snapshots"
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PageRow(Base):
    """One version of a crawled page: a row lives as long as the page answers the same body.

    An unchanged page (304, or the same body hash) is not copied into each nightly scan: its
    row's `scan_id` moves on to the newest scan that saw it, so its links, word/privacy hits
    and snapshot are shared by every scan in between (`first_scan_id` is where it started).
    """

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("scan_id", "site_id", "url"), Index("ix_pages_site_url", "site_id", "url"))
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)   # newest scan that saw it
    first_scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
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
    fetched_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    # What the page-local checks found when the page was parsed (govcheck.pagefacts): reused
    # while the body, the wordlists and the as-of window allow, so unchanged pages are not re-parsed.
    facts: Mapped[dict | None] = mapped_column(JSON)


class LinkRow(Base):
    """One occurrence of a link on a page version (shared by every scan that saw the version)."""

    __tablename__ = "links"
    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    target_url: Mapped[str] = mapped_column(String(2000))
    tag: Mapped[str] = mapped_column(String(20))
    anchor: Mapped[str | None] = mapped_column(Text)
    hidden: Mapped[str | None] = mapped_column(String(200))  # why it is invisible, if it is
    pagination: Mapped[bool] = mapped_column(Boolean, default=False)
    invalid: Mapped[str | None] = mapped_column(String(200))  # why the http(s) link is not a valid URL


class TargetRow(Base):
    """The result of fetching one URL (shared by every site that links it). A result that a
    later scan confirms, or carries over because it was checked recently and worked, is not
    copied: `scan_id` moves on to the newest scan it holds for; `checked_at` stays the time of
    the request that produced it (what the recheck window counts from)."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("scan_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)   # newest scan it holds for
    first_scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
    url: Mapped[str] = mapped_column(String(2000), index=True)
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
    checked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class AttachmentRow(Base):
    """An attachment downloaded to be read (its body is a snapshot); `scan_id` is the newest
    scan whose link check confirmed it (carried over with its target)."""

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
    # Our reader failed on the feed: no verdict either way (the account is not judged).
    not_judged: Mapped[str | None] = mapped_column(String(300))
    post_keys: Mapped[list] = mapped_column(default=list)   # the posts the feed carried this time
    content_hash: Mapped[str | None] = mapped_column(ForeignKey("snapshots.content_hash"))
    fetched_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class PostRow(Base):
    """A new-media post, kept once per account across scans."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("account_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    key: Mapped[str] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text)
    published: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    text: Mapped[str] = mapped_column(Text)
    first_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))


class ProbeRow(Base):
    """One availability probe of a homepage (from a scan or the scheduler's daytime probes)."""

    __tablename__ = "probes"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
    at: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
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
    detail: Mapped[dict] = mapped_column(DETAIL_JSON, default=dict)
    snapshot_hash: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[dt.datetime] = mapped_column(Timestamp)
    last_seen: Mapped[dt.datetime] = mapped_column(Timestamp)
    first_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    last_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    fixed_scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|fixed|ignored
    review: Mapped[str | None] = mapped_column(String(10))            # confirmed|ignored (a reviewer's decision)
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class SightingRow(Base):
    """Which scans saw a finding — what `findings --scan ID` lists."""

    __tablename__ = "sightings"
    __table_args__ = (UniqueConstraint("scan_id", "finding_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)


class FindingVersionRow(Base):
    """What a finding looked like from one scan on (severity, url, evidence, detail, snapshot).

    A row is written only when the content changes, so an unchanged night adds nothing; the
    version in force at scan N is the newest one with scan_id <= N (`govcheck.history`)."""

    __tablename__ = "finding_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    digest: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(String(2000))
    subject: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(DETAIL_JSON, default=dict)
    snapshot_hash: Mapped[str | None] = mapped_column(String(64))


class FixRow(Base):
    """A scan that examined a finding's target and no longer saw it: fixed as of that scan."""

    __tablename__ = "fixes"
    __table_args__ = (UniqueConstraint("scan_id", "finding_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)


class ReviewRow(Base):
    """One reviewer decision on a finding; rows are only ever added (the review trail).

    Written by `govcheck.review.record_review` and nothing else."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))       # ignore | confirm | reopen
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(Timestamp)
    note: Mapped[str | None] = mapped_column(Text)


# --------------------------------------------------------------------------- console (govcheck serve)

class UserRow(Base):
    """A console user: `staff` sees and reviews everything, `assessor` reads, `unit` sees its own unit."""

    __tablename__ = "console_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(10))              # staff | assessor | unit
    unit: Mapped[str | None] = mapped_column(String(200))      # the unit a `unit` user belongs to
    password_hash: Mapped[str] = mapped_column(String(200))    # argon2id, PHC string
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    password_changed_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class AuditRow(Base):
    """Logins, units' feedback and user administration, append-only (reviews are their own
    trail); the console has no route that changes or deletes a row."""

    __tablename__ = "console_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
    user: Mapped[str] = mapped_column(String(100), index=True)   # the name typed, for a failed login
    action: Mapped[str] = mapped_column(String(30))   # login | login_failed | login_throttled | logout | feedback | user_add | user_passwd
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    unit: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(String(100))     # remote address of a console request


class FeedbackRow(Base):
    """A unit's 整改反馈 (已整改 with a note). Its outcome is not stored but read from the scans
    after it: pending until a scan covers the unit again; seen again → 整改未通过."""

    __tablename__ = "console_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(Timestamp)
    by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    after_scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))  # newest completed scan when sent


class ConsoleKeyRow(Base):
    """The console's cookie-signing key, made once per database so that every server process
    and restart shares it (GOVCHECK_SECRET_KEY overrides)."""

    __tablename__ = "console_keys"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ScreenshotRow(Base):
    """A headless-Chromium screenshot of a page as it was served (its stored snapshot), with one
    finding's problem outlined. The PNG is content-addressed in `snapshots` (image_hash), beside
    the page snapshot it was rendered from (page_hash). A finding's screenshot as of scan N is its
    newest row with scan_id <= N (`govcheck.store.queries.screenshots_of`); rows are only added."""

    __tablename__ = "screenshots"
    __table_args__ = (UniqueConstraint("scan_id", "finding_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    page_url: Mapped[str] = mapped_column(String(2000))
    page_hash: Mapped[str] = mapped_column(ForeignKey("snapshots.content_hash"))
    image_hash: Mapped[str] = mapped_column(ForeignKey("snapshots.content_hash"))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    outlined: Mapped[bool] = mapped_column(Boolean)        # the problem was found on the page and outlined
    located: Mapped[str | None] = mapped_column(String(300))  # what was outlined (text, link, footer area …)
    taken_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class NotificationRow(Base):
    """One alert item sent (or tried) to one recipient: a finding, why it was alerted (veto,
    near_veto, reopened) and the open period it belongs to, so each is told once (govcheck.notify)."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("finding_id", "recipient", "reason", "episode"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(20))       # veto | near_veto | reopened
    episode: Mapped[int] = mapped_column(Integer)         # scan that opened the finding's current open period
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    sent_at: Mapped[dt.datetime] = mapped_column(Timestamp)
