"""New-media account feeds: RSS 2.0 and Atom (feedparser) and JSON Feed → posts.

WeChat, Weibo, Douyin and Toutiao accounts reach govcheck as feeds, from an RSSHub-style
bridge or a platform export. Times are read from the feed's own date strings: a zoned time is
converted to Beijing time, a naive one (what most exports print) is taken as Beijing time —
feedparser alone would read naive times as UTC and shift every post by eight hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field

import feedparser
from dateutil import parser as dateparser

from govcheck.clock import BEIJING


class FeedError(ValueError):
    """The body is not a feed govcheck can read."""


@dataclass(frozen=True)
class Post:
    key: str                       # the feed's id, else the link, else a hash of title and time
    link: str | None
    title: str
    published: dt.datetime | None  # naive Beijing time
    text: str


@dataclass
class Feed:
    format: str                    # rss | atom | json
    title: str
    posts: list[Post] = field(default_factory=list)
    warning: str | None = None     # parsed, but the XML was not well-formed
    bad_dates: list[str] = field(default_factory=list)  # items skipped: their date cannot be read

    @property
    def notes(self) -> str | None:
        """Warning and skipped-item count, as stored with the fetch (detail of the account's findings)."""
        parts = [self.warning] if self.warning else []
        if self.bad_dates:
            parts.append(f"{SKIPPED_PREFIX}{len(self.bad_dates)} items with unreadable dates skipped, "
                         f"e.g. {self.bad_dates[0][:60]!r}")
        return "; ".join(parts)[:500] or None


SKIPPED_PREFIX = "bad_dates: "


def skipped_bad_dates(notes: str | None) -> int:
    m = re.search(re.escape(SKIPPED_PREFIX) + r"(\d+) items", notes or "")
    return int(m.group(1)) if m else 0


def to_beijing(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dateparser.parse(value)
        if when.tzinfo is not None:
            when = when.astimezone(BEIJING)
    except (ValueError, OverflowError, TypeError, ArithmeticError):
        return None  # 0000-00-00 00:00:00, 9999-99-99, "昨天"…: no date proven
    return when.replace(tzinfo=None)


def html_to_text(html: str | None) -> str:
    if not html:
        return ""
    if "<" not in html:
        return re.sub(r"\s+", " ", html).strip()
    import lxml.html

    try:
        return re.sub(r"\s+", " ", lxml.html.fromstring(f"<div>{html}</div>").text_content()).strip()
    except Exception:  # lxml raises ParserError on junk
        return re.sub(r"<[^>]+>", " ", html)


def _key(*parts: str | None) -> str:
    return hashlib.sha1("|".join(p or "" for p in parts).encode()).hexdigest()[:20]


def parse_feed(body: bytes, content_type: str | None = None) -> Feed:
    text_start = body.lstrip()[:1]
    if text_start in (b"{", b"[") or "json" in (content_type or "").lower():
        return _json_feed(body)
    return _xml_feed(body, content_type)


def _json_feed(body: bytes) -> Feed:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise FeedError("JSON without an 'items' list (not a JSON Feed)")
    posts, bad = [], []
    for item in doc["items"]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        link = link if isinstance(link, str) else None
        title = str(item.get("title") or "").strip()
        raw_date = item.get("date_published") or item.get("date_modified")
        published = to_beijing(str(raw_date)) if raw_date else None
        if raw_date and published is None:
            bad.append(str(raw_date))   # a date we cannot read proves nothing: skip the item
            continue
        text = html_to_text(item.get("content_html")) or (item.get("content_text") or item.get("summary") or "").strip()
        posts.append(Post(str(item.get("id") or link or _key(title, str(published))), link, title, published, text))
    return Feed("json", str(doc.get("title") or "").strip(), posts, bad_dates=bad)


def _xml_feed(body: bytes, content_type: str | None) -> Feed:
    parsed = feedparser.parse(body, response_headers={"content-type": content_type} if content_type else None)
    problem = getattr(parsed, "bozo_exception", None) if parsed.bozo else None
    # feedparser recovers entries from truncated XML; partial data would make an account look
    # stale, so only its benign encoding notices are tolerated.
    if isinstance(problem, (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)) and parsed.entries:
        problem = None
    if problem is not None or not parsed.version:
        raise FeedError(f"cannot be parsed as RSS/Atom: {problem or 'no RSS/Atom structure'}")
    fmt = "atom" if (parsed.version or "").startswith("atom") else "rss"
    posts, bad = [], []
    for e in parsed.entries:
        raw_date = e.get("published") or e.get("updated") or e.get("created")
        published = to_beijing(raw_date)
        if published is None and (e.get("published_parsed") or e.get("updated_parsed")):
            stamp = e.get("published_parsed") or e.get("updated_parsed")
            try:
                published = dt.datetime(*stamp[:6], tzinfo=dt.UTC).astimezone(BEIJING).replace(tzinfo=None)
            except (ValueError, OverflowError, TypeError):
                published = None
        if raw_date and published is None:
            bad.append(str(raw_date))
            continue
        content = e.get("content")
        html = content[0].get("value") if content else e.get("summary") or e.get("description")
        title = html_to_text(e.get("title"))
        posts.append(Post(e.get("id") or e.get("link") or _key(title, raw_date), e.get("link"), title, published,
                          html_to_text(html)))
    warning = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}" if parsed.bozo else None
    return Feed(fmt, html_to_text(parsed.feed.get("title")), posts, warning, bad_dates=bad)
