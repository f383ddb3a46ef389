"""The input objects the pipeline hands to `run_checks`, one class per kind in
checks.registry.INPUTS: plain data, so checks test with plain strings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from govcheck.config import Settings


@dataclass
class ProbesInput:
    home_url: str
    probes: list[Any]                   # checks.freshness.Probe, oldest first
    homepage_error: str | None
    settings: Settings = field(default_factory=Settings)


@dataclass
class SiteCrawlInput:
    links: Any                          # checks.links.SiteLinks
    results: dict[str, Any]             # target URL → checks.links.TargetResult


@dataclass
class HomepageInput:
    home_url: str                       # the registered homepage
    final_url: str                      # where fetching it ended (after redirects)
    page: Any                           # the parsed homepage (govcheck.page.ParsedPage)
    newest: dt.date | None              # newest dated item reachable from it
    newest_title: str | None
    newest_source: str | None
    as_of: dt.date
    settings: Settings = field(default_factory=Settings)


@dataclass
class ColumnsInput:
    columns: list[Any]                  # checks.freshness.ColumnState
    as_of: dt.date
    settings: Settings = field(default_factory=Settings)


@dataclass
class TextInput:
    """The visible text of a page, an attachment or a new-media post."""

    url: str
    text: str
    as_of: dt.date
    where: str = "页面"                 # 页面 | 附件 | 新媒体内容 (how the evidence names it)
    published: dt.date | None = None    # its publication date, when known (date-limited wordlist entries)


@dataclass
class FooterInput:
    infos: list[Any]                    # checks.footer.FooterInfo, homepage first
    registered_code: str | None = None


@dataclass
class FeedInput:
    feed_url: str
    name: str
    error: str | None                   # why the feed could not be fetched or read
    newest: dt.datetime | None
    newest_title: str | None
    as_of: dt.date
    stale_days: int = 14
    warn_days: int = 10
