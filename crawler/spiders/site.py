"""The site spider: crawls every registered site in one process and checks every link target.

Thin by design: it decides what to fetch (stay on the site's host, depth and page limits per
site, pagination at the same depth, every unique target once per scan) and turns responses
into items. Parsing lives in govcheck.page, judgement in checks/, persistence in pipelines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, StopDownload
from scrapy.http import TextResponse

from checks.links import TargetResult, classify
from crawler.items import (
    AttachmentItem,
    CarriedPageItem,
    PageItem,
    ProbeItem,
    SitePlan,
    TargetItem,
)
from govcheck import clock
from govcheck.attachments import READABLE
from govcheck.page import LinkRef, ParsedPage, decode_html
from govcheck.pagefacts import page_facts
from govcheck.urls import extension_of, is_asset, is_attachment, netloc_of

# Let every 4xx/5xx reach the callbacks (a broken link is data, not an error), while 3xx
# still go through RedirectMiddleware (handle_httpstatus_all would switch redirects off).
ALL_ERRORS = list(range(400, 600))
HEAD_TAGS = ("img", "script", "css", "media", "attachment")


def failure_kind(exc: BaseException) -> str:
    """Short, stable name for a failed download (the evidence of link_broken)."""
    name = type(exc).__name__
    text = str(exc)
    if "max redirections" in text:
        return "too_many_redirects"
    table = {
        "DNSLookupError": "dns", "CannotResolveHostError": "dns",
        "ConnectionRefusedError": "refused", "DownloadConnectionRefusedError": "refused",
        "TimeoutError": "timeout", "TCPTimedOutError": "timeout", "DownloadTimeoutError": "timeout",
        "UserTimeoutError": "timeout",
        "ResponseNeverReceived": "connection_lost", "ConnectionLost": "connection_lost",
        "ConnectionDone": "connection_lost", "ResponseFailed": "connection_lost",
        "ResponseDataLossError": "connection_lost", "DownloadFailedError": "connection_lost",
        "SSLError": "tls", "Error": "tls" if "SSL" in text else "error",
        "UnsupportedURLSchemeError": "invalid_url", "ValueError": "invalid_url",
    }
    if name in ("ResponseNeverReceived", "ResponseFailed") and "SSL" in text:
        return "tls"
    return table.get(name, name)


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(self, plans: list[SitePlan], store=None, check_external: bool = True, automaton=None,
                 wordlists: str = "", as_of: dt.date | None = None, recheck_hours: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        # Page-local checks run where the page is parsed (govcheck.pagefacts), once.
        self.automaton, self.wordlists, self.as_of = automaton, wordlists, as_of or dt.date.today()
        # Targets that answered well within this window are carried over, not requested again.
        self.recheck_since = clock.now() - dt.timedelta(hours=recheck_hours) if recheck_hours > 0 else None
        self.plans = {p.site_id: p for p in plans}
        self.store = store
        self.check_external = check_external
        self.netlocs = {p.site_id: {netloc_of(p.url)} for p in plans}
        self.crawled: set[tuple[int, str]] = set()   # (site, url) scheduled as a page
        self.pages_scheduled: dict[int, int] = dict.fromkeys(self.plans, 0)
        self.checked: set[str] = set()               # targets scheduled anywhere in the scan
        self.includes: set[tuple[int, str]] = set()  # (site, url) footer includes fetched
        self.outstanding: dict[int, int] = dict.fromkeys(self.plans, 0)
        self.sites_done: set[int] = set()
        self.homepage_error: dict[int, str] = {}
        # Pages of another registered site linked from this one: that site's own crawl will
        # likely fetch them, so their check waits until the crawl is idle (fetched once).
        self.deferred: dict[str, tuple[SitePlan, str]] = {}
        self.probes_pending = 0
        self.counts = {"pages": 0, "targets": 0, "carried": 0, "pages_carried": 0}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        return spider

    # ------------------------------------------------------------------ scheduling

    async def start(self):
        from twisted.internet import reactor

        for plan in self.plans.values():
            # 站点无法访问: single attempts (no retry) spread over the scan, judged with the
            # scheduler's daytime probes.
            for i in range(plan.probes):
                self.probes_pending += 1
                reactor.callLater(i * plan.probe_interval, self._probe, plan)
        for plan in self.plans.values():
            for i, url in enumerate((plan.url, *plan.seeds)):
                req = self._page_request(plan, url, depth=0 if i == 0 else 1)
                if req is not None:
                    yield req

    def _in_site(self, plan: SitePlan, url: str) -> bool:
        return netloc_of(url) in self.netlocs[plan.site_id]

    def _track(self, plan: SitePlan, req: scrapy.Request) -> scrapy.Request:
        self.outstanding[plan.site_id] += 1
        return req

    def _page_request(self, plan: SitePlan, url: str, depth: int) -> scrapy.Request | None:
        key = (plan.site_id, url)
        if key in self.crawled or self.pages_scheduled[plan.site_id] >= plan.max_pages:
            return None
        self.crawled.add(key)
        self.checked.add(url)
        self.pages_scheduled[plan.site_id] += 1
        meta = {"site_id": plan.site_id, "depth": depth, "role": "page", "started": time.monotonic(),
                "handle_httpstatus_list": ALL_ERRORS, "previous": plan.previous.get(url)}
        return self._track(plan, scrapy.Request(url, callback=self.parse_page, errback=self.on_error, meta=meta,
                                                dont_filter=True, priority=-depth))

    def _check_request(self, plan: SitePlan, url: str, tag: str, method: str | None = None,
                       recent: dict | None = None) -> scrapy.Request | None:
        if method is None:
            if url in self.checked:
                return None
            self.checked.add(url)
            if recent is None and self.recheck_since is not None and self.store is not None:
                recent = self.store.recent_results([url], self.recheck_since)
            if recent and url in recent and self._carry_check(plan, recent[url], tag):
                return None
            method = "HEAD" if tag in HEAD_TAGS else "GET"
        meta = {"site_id": plan.site_id, "role": "check", "tag": tag, "started": time.monotonic(),
                "handle_httpstatus_list": ALL_ERRORS}
        return self._track(plan, scrapy.Request(url, method=method, callback=self.on_check, errback=self.on_error,
                                                meta=meta, dont_filter=True, priority=-5))

    def _carry_check(self, plan: SitePlan, row, tag: str) -> bool:
        """A target checked within the window that worked holds for this scan as it was."""
        result = TargetResult(url=row.url, status=row.status, error=row.error, final_url=row.final_url,
                              redirects=tuple(row.redirects or ()), content_type=row.content_type, title=row.title,
                              snippet=row.snippet, size=row.size, method=row.method)
        if row.error or (row.status or 0) >= 400 or classify(result) is not None:
            return False   # it failed: ask again
        self.store.carry_target(row.url, row.id)
        self.counts["targets"] += 1
        self.counts["carried"] += 1
        if tag == "attachment" and extension_of(row.url) in READABLE and self._in_site(plan, row.url):
            self.store.carry_attachment(plan.site_id, row.url)
        return True

    def _follow_all(self, plan: SitePlan, links, depth: int):
        recent = None
        if self.recheck_since is not None and self.store is not None:
            unseen = list(dict.fromkeys(link.url for link in links if link.url not in self.checked))
            recent = self.store.recent_results(unseen, self.recheck_since) if unseen else {}
        for link in links:
            req = self._follow(plan, link, depth, recent)
            if req is not None:
                yield req

    def _follow(self, plan: SitePlan, link, depth: int, recent: dict | None = None) -> scrapy.Request | None:
        url = link.url
        in_site = self._in_site(plan, url)
        if in_site and link.is_page_link and not is_asset(url) and not is_attachment(url):
            next_depth = depth if link.pagination else depth + 1
            if (plan.site_id, url) in self.crawled:
                return None
            if next_depth <= plan.max_depth:
                req = self._page_request(plan, url, next_depth)
                if req is not None:
                    return req
        if not in_site and not self.check_external:
            return None
        if not in_site and link.is_page_link and url not in self.checked and self._registered_host(url):
            self.deferred.setdefault(url, (plan, link.tag))
            return None
        return self._check_request(plan, url, link.tag, recent=recent)

    def _registered_host(self, url: str) -> bool:
        netloc = netloc_of(url)
        return any(netloc in hosts for hosts in self.netlocs.values())

    def _probe(self, plan: SitePlan) -> None:
        meta = {"site_id": plan.site_id, "role": "probe", "started": time.monotonic(), "dont_retry": True,
                "handle_httpstatus_list": ALL_ERRORS}
        self.crawler.engine.crawl(scrapy.Request(plan.url, callback=self.on_probe, errback=self.on_probe_error,
                                                 meta=meta, dont_filter=True, priority=100))

    def _probe_time(self, site_id: int) -> dt.datetime:
        now = clock.now()
        day = self.plans[site_id].probe_day
        return dt.datetime.combine(day, now.timetz()) if day is not None else now

    def on_probe(self, response):
        self.probes_pending -= 1
        meta = response.meta
        yield ProbeItem(meta["site_id"], self._probe_time(meta["site_id"]), response.status < 400, response.status,
                        None if response.status < 400 else f"HTTP {response.status}", time.monotonic() - meta["started"])

    def on_probe_error(self, failure):
        self.probes_pending -= 1
        meta = failure.request.meta
        yield ProbeItem(meta["site_id"], self._probe_time(meta["site_id"]), False, None,
                        f"{failure_kind(failure.value)}: {failure.getErrorMessage()}"[:300], time.monotonic() - meta["started"])

    def _idle(self):
        if self.probes_pending > 0:
            raise DontCloseSpider
        pending = [(url, plan, tag) for url, (plan, tag) in self.deferred.items() if url not in self.checked]
        self.deferred.clear()
        for url, plan, tag in pending:
            req = self._check_request(plan, url, tag)
            if req is not None:
                self.crawler.engine.crawl(req)
        if pending:
            raise DontCloseSpider

    def _done(self, site_id: int) -> None:
        self.outstanding[site_id] -= 1
        if self.outstanding[site_id] <= 0:
            self.sites_done.add(site_id)

    # ------------------------------------------------------------------ callbacks

    def _bytes_received(self, data, request, spider):
        # A checked target only needs enough body to recognise an error page.
        if request.meta.get("role") == "check":
            got = request.meta["bytes_seen"] = request.meta.get("bytes_seen", 0) + len(data)
            if got > self.settings.getint("GOVCHECK_CHECK_BYTES"):
                raise StopDownload(fail=False)

    def _target_item(self, response, parsed: ParsedPage | None, text_snippet: str | None) -> TargetItem:
        req = response.request
        redirects = list(req.meta.get("redirect_urls", []))
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        return TargetItem(
            url=redirects[0] if redirects else response.url, method=req.method, status=response.status, error=None,
            final_url=response.url, redirects=redirects, content_type=content_type,
            title=parsed.title if parsed is not None else None, snippet=text_snippet,
            size=len(response.body), elapsed=time.monotonic() - req.meta.get("started", time.monotonic()),
            checked_at=clock.now())

    @staticmethod
    def _is_html(response) -> bool:
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if ctype:
            return "html" in ctype or ("xml" in ctype and b"<html" in response.body[:2048].lower())
        return isinstance(response, TextResponse) or b"<html" in response.body[:2048].lower()

    def _parse_body(self, response) -> tuple[ParsedPage | None, str | None, str | None]:
        if not response.body or not self._is_html(response):
            return None, None, None
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        text, encoding = decode_html(response.body, ctype)
        parsed = ParsedPage(response.url, text)
        return parsed, encoding, parsed.snippet

    def _unchanged(self, response) -> bool:
        """304, or the same body as the stored version, whose page-local results still hold."""
        prev = response.meta.get("previous")
        if prev is None or not prev.facts_hold or response.status != 200:
            return False
        if response.meta.get("not_modified"):
            return True
        return hashlib.sha256(response.body).hexdigest() == prev.content_hash

    def parse_page(self, response):
        meta = response.meta
        plan = self.plans[meta["site_id"]]
        depth = meta["depth"]
        carried = self._unchanged(response)
        if carried:
            parsed, snippet = None, None
            self.store.carry_target(meta["redirect_urls"][0] if meta.get("redirect_urls") else response.url)
        else:
            parsed, encoding, snippet = self._parse_body(response)
            yield self._target_item(response, parsed, snippet)
        self.counts["targets"] += 1
        if depth == 0 and response.status < 400 and not self._in_site(plan, response.url):
            # The homepage moved (http→https, bare domain → www): the site lives there now.
            self.netlocs[plan.site_id].add(netloc_of(response.url))
        redirected_to_crawled = meta.get("redirect_urls") and (plan.site_id, response.url) in self.crawled
        if ((parsed is None and not carried) or response.status >= 400 or not self._in_site(plan, response.url)
                or redirected_to_crawled):
            self._done(plan.site_id)
            return
        self.crawled.add((plan.site_id, response.url))
        self.counts["pages"] += 1
        if carried:
            prev = meta["previous"]
            self.counts["pages_carried"] += 1
            yield CarriedPageItem(prev.page_id, depth, bool(meta.get("not_modified")), clock.now())
            links = [LinkRef(url, tag, text or "", hidden, bool(pagination))
                     for url, tag, text, hidden, pagination in self.store.page_links(prev.page_id)]
            includes = (self.store.page_facts(prev.page_id) or {}).get("includes", []) if depth <= 1 else []
        else:
            headers = response.headers
            links = parsed.links
            facts = page_facts(parsed, self.automaton, self.wordlists, self.as_of)
            includes = facts["includes"]
            yield PageItem(
                site_id=plan.site_id, url=meta.get("redirect_urls", [response.url])[0], final_url=response.url,
                status=response.status, content_type=headers.get(b"Content-Type", b"").decode("latin-1") or None,
                encoding=encoding, body=response.body, depth=depth, title=parsed.title,
                etag=(headers.get(b"ETag") or b"").decode("latin-1") or None,
                last_modified=(headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
                not_modified=bool(meta.get("not_modified")), fetched_at=clock.now(), links=links, facts=facts)
            del parsed   # the tree is not needed past this page
        if depth <= 1:
            # Footers pulled in by iframe, script or SSI: read once per site for the 标识 check.
            for url in includes:
                if (plan.site_id, url) not in self.includes:
                    self.includes.add((plan.site_id, url))
                    yield self._track(plan, scrapy.Request(
                        url, callback=self.on_attachment, errback=self.on_attachment_error, dont_filter=True,
                        priority=-2, meta={"site_id": plan.site_id, "role": "include", "dont_retry": True,
                                           "download_maxsize": self.settings.getint("GOVCHECK_ATTACHMENT_BYTES")}))
        yield from self._follow_all(plan, links, depth)
        self._done(plan.site_id)

    def on_check(self, response):
        meta = response.meta
        plan = self.plans[meta["site_id"]]
        req = response.request
        if req.method == "HEAD" and response.status >= 400 and not meta.get("fallback"):
            # Many government servers answer HEAD with 403/404/405/501 for files that GET serves.
            retry = self._check_request(plan, response.url if not meta.get("redirect_urls") else meta["redirect_urls"][0],
                                        meta["tag"], method="GET")
            retry.meta["fallback"] = True
            yield retry
            self._done(plan.site_id)
            return
        parsed, _encoding, snippet = self._parse_body(response) if req.method == "GET" else (None, None, None)
        self.counts["targets"] += 1
        yield self._target_item(response, parsed, snippet)
        url = meta["redirect_urls"][0] if meta.get("redirect_urls") else response.url
        if (meta.get("tag") == "attachment" and response.status < 400 and extension_of(url) in READABLE
                and self._in_site(plan, url)):
            # The link works; now read it for personal data (size-limited, never retried).
            yield self._track(plan, scrapy.Request(
                url, callback=self.on_attachment, errback=self.on_attachment_error, dont_filter=True, priority=-10,
                meta={"site_id": plan.site_id, "role": "attachment", "dont_retry": True,
                      "download_maxsize": self.settings.getint("GOVCHECK_ATTACHMENT_BYTES")}))
        self._done(plan.site_id)

    def on_attachment(self, response):
        site_id = response.meta["site_id"]
        if response.status < 400 and response.body:
            yield AttachmentItem(site_id, response.request.url, response.body,
                                 response.headers.get(b"Content-Type", b"").decode("latin-1") or None)
        self._done(site_id)

    def on_attachment_error(self, failure):
        # Too large or gone between HEAD and GET: the link verdict stands; nothing to read.
        self._done(failure.request.meta["site_id"])

    def on_error(self, failure):
        req = failure.request
        meta = req.meta
        plan = self.plans[meta["site_id"]]
        kind = failure_kind(failure.value)
        redirects = list(meta.get("redirect_urls", []))
        original = redirects[0] if redirects else req.url
        if req.method == "HEAD" and kind == "connection_lost" and not meta.get("fallback"):
            retry = self._check_request(plan, original, meta.get("tag", "a"), method="GET")
            retry.meta["fallback"] = True
            yield retry
            self._done(plan.site_id)
            return
        if meta.get("role") == "page" and meta.get("depth") == 0:
            self.homepage_error[plan.site_id] = f"{kind}: {failure.getErrorMessage()}"[:300]
        self.counts["targets"] += 1
        yield TargetItem(url=original, method=req.method, status=None, error=kind, final_url=req.url,
                         redirects=redirects, content_type=None, title=None,
                         snippet=failure.getErrorMessage()[:300], size=None,
                         elapsed=time.monotonic() - meta.get("started", time.monotonic()), checked_at=clock.now())
        self._done(plan.site_id)

    def stored_body(self, content_hash: str) -> bytes | None:
        return self.store.snapshot(content_hash) if self.store else None
