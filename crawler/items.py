"""What the spider hands to the pipelines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from govcheck.page import LinkRef


@dataclass
class SitePlan:
    """One site's crawl: where to start and how far to go."""

    site_id: int
    url: str
    allow_domains: tuple[str, ...] = ()
    seeds: tuple[str, ...] = ()          # registry column URLs, crawled at depth 1
    max_pages: int = 500
    max_depth: int = 4
    previous: dict = field(default_factory=dict)  # url → PreviousPage (conditional GET, carry-over)
    probes: int = 0                      # homepage availability probes in this scan
    probe_interval: float = 5.0
    probe_day: dt.date | None = None     # date the probes are recorded on (the scan's as-of day)


@dataclass
class PageItem:
    site_id: int
    url: str
    final_url: str
    status: int
    content_type: str | None
    encoding: str | None
    body: bytes
    depth: int
    title: str
    etag: str | None
    last_modified: str | None
    not_modified: bool
    fetched_at: dt.datetime
    links: list[LinkRef] = field(default_factory=list)
    facts: dict | None = None


@dataclass
class CarriedPageItem:
    """A page unchanged since its stored version (304, or the same body): nothing re-parsed."""

    page_id: int
    depth: int
    not_modified: bool
    fetched_at: dt.datetime


@dataclass
class AccountPlan:
    account_id: int
    name: str
    feed: str


@dataclass
class FeedItem:
    account_id: int
    status: int | None
    error: str | None
    body: bytes | None
    feed: object | None   # govcheck.feeds.Feed when it parsed
    not_judged: str | None = None   # our reader failed on it: why (no verdict either way)


@dataclass
class AttachmentItem:
    site_id: int
    url: str
    body: bytes
    content_type: str | None


@dataclass
class ProbeItem:
    site_id: int
    at: dt.datetime
    ok: bool
    status: int | None
    error: str | None
    elapsed: float | None


@dataclass
class TargetItem:
    url: str
    method: str
    status: int | None
    error: str | None
    final_url: str | None
    redirects: list[str]
    content_type: str | None
    title: str | None
    snippet: str | None
    size: int | None
    elapsed: float | None
    checked_at: dt.datetime | None = None
