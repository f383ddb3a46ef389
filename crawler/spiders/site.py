"""The site spider: crawls every registered site in one process and checks every link target.

Thin by design: it decides what to fetch (stay on the site's host, depth and page limits per
site, pagination at the same depth, every unique target once per scan) and turns responses
into items. Parsing lives in govcheck.page, judgement in checks/, persistence in pipelines.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import time

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest, StopDownload
from scrapy.http import TextResponse

from checks.links import TargetResult, classify, is_challenge_page
from crawler.items import (
    AttachmentItem,
    CarriedPageItem,
    PageItem,
    ProbeItem,
    SitePlan,
    TargetItem,
)
from crawler.redis_queue import fingerprint
from govcheck import clock
from govcheck.attachments import READABLE
from govcheck.listing import discover_columns
from govcheck.page import LinkRef, ParsedPage, decode_html
from govcheck.pagefacts import page_facts
from govcheck.urls import extension_of, is_asset, is_attachment, netloc_of

# Let every 4xx/5xx reach the callbacks (a broken link is data, not an error), while 3xx
# still go through RedirectMiddleware (handle_httpstatus_all would switch redirects off).
ALL_ERRORS = list(range(400, 600))
HEAD_TAGS = ("img", "script", "css", "media", "attachment")
# 401/403/429 and WAF challenges say nothing about whether the site works (DESIGN §2
# link_undetermined): a homepage or probe answering so is "not judged", never a failure.
NOT_JUDGED_STATUS = (401, 403, 429)
log = logging.getLogger("govcheck.crawl")


class SiteBudgetExceeded(IgnoreRequest):
    """A request dropped because its site used up its time or link budget."""


def not_judged(status: int | None, title: str | None = None, text: str | None = None) -> str | None:
    """Why an answer cannot be judged (auth, rate limit, WAF challenge), or None."""
    if status in NOT_JUDGED_STATUS:
        return f"HTTP {status}"
    if status is not None and (status == 200 or status >= 400) and is_challenge_page(title, text):
        return f"HTTP {status} WAF/人机验证页面"
    return None


def isolated(callback):
    """Per-site isolation: a callback that raises on one hostile response records a scan
    event for its site and the crawl goes on (Scrapy would only log it, and the site's
    outstanding count would never reach zero)."""

    @functools.wraps(callback)
    def wrapper(self, arg):
        request = arg.request if hasattr(arg, "request") else None
        meta = request.meta if request is not None else {}
        try:
            if self.shared is None:
                yield from callback(self, arg) or ()
            else:
                # Claims in Redis made while this callback runs belong to its request (a re-run
                # after a worker died claims them again): the owner is set for each step.
                owner = fingerprint(self.shared.keys.scan_id, request) if request is not None else ""
                steps = iter(callback(self, arg) or ())
                while True:
                    self.claim_owner = owner
                    try:
                        out = next(steps)
                    except StopIteration:
                        break
                    finally:
                        self.claim_owner = ""
                    yield out
            if self.frontier is not None and not meta.get("unanswered"):
                # Everything this response produced is handed on (requests queued, items
                # with the store): its entry is acked once the store commits. Errbacks come
                # here too (their outputs bypass the spider middlewares in Scrapy 2.19). A
                # request the stop cancelled stays leased: the close gives it back.
                self.frontier.done(request)
        except Exception as exc:  # noqa: BLE001 — the point is to contain any failure
            site_id = meta.get("site_id")
            url = getattr(arg, "url", None) or getattr(getattr(arg, "request", None), "url", "")
            log.warning("site %s: %s failed on %s: %r", site_id, callback.__name__, url, exc)
            self.event(site_id, "callback_error", f"{callback.__name__} {url[:300]}: {type(exc).__name__}: {exc}"[:500])
            if site_id in self.outstanding and meta.get("role") != "probe":
                self._done(site_id)
            if meta.get("role") == "probe":
                self._probe_done(site_id)
            if self.frontier is not None:
                self.frontier.done(request)

    return wrapper


def failure_kind(exc: BaseException) -> str:
    """Short, stable name for a failed download (the evidence of link_broken)."""
    name = type(exc).__name__
    text = str(exc)
    if "max redirections" in text:
        return "too_many_redirects"
    table = {
        "DNSLookupError": "dns", "CannotResolveHostError": "dns", "NotInResolveMap": "dns",
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
    # A worker of a scan shared through Redis (crawler/redis_queue.py): the scheduler, bound
    # when it opens; and the scan-wide sets and counters (crawler/shared_state.py). Both None
    # in a single process, which keeps everything in memory.
    frontier = None
    shared = None
    claim_owner = ""   # fingerprint of the request whose callback is running (shared scans)
    preclaimed = None  # shared scans: {key: (result, entry)} claimed up front for the page being followed

    def __init__(self, plans: list[SitePlan], store=None, check_external: bool = True, automaton=None,
                 wordlists: str = "", as_of: dt.date | None = None, recheck_hours: float = 0.0,
                 shared=None, probes_only: bool = False, checked: set[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.shared = shared
        # The coordinator of a shared scan runs the probes (timed, once per scan) and only them.
        self.probes_only = probes_only
        # Page-local checks run where the page is parsed (govcheck.pagefacts), once.
        self.automaton, self.wordlists, self.as_of = automaton, wordlists, as_of or clock.now().date()
        # Targets that answered well within this window are carried over, not requested again.
        self.recheck_since = clock.now() - dt.timedelta(hours=recheck_hours) if recheck_hours > 0 else None
        if self.recheck_since is not None and store is not None and not store.any_result_since(self.recheck_since):
            self.recheck_since = None   # nothing stored is that recent (a first scan): no lookup can find one
        self.plans = {p.site_id: p for p in plans}
        self.store = store
        if store is not None:
            store.recheck_since = self.recheck_since   # carried pages' targets are looked up in batches
        self.check_external = check_external
        self.netlocs = {p.site_id: {netloc_of(p.url)} for p in plans}
        self.crawled: set[tuple[int, str]] = set()   # (site, url) scheduled as a page
        self.pages_scheduled: dict[int, int] = dict.fromkeys(self.plans, 0)
        # Targets scheduled anywhere in the scan (a resumed scan starts with those it holds).
        self.checked: set[str] = set(checked or ())
        self.includes: set[tuple[int, str]] = set()  # (site, url) footer includes fetched
        self.outstanding: dict[int, int] = dict.fromkeys(self.plans, 0)
        self.sites_done: set[int] = set()
        self.homepage_error: dict[int, str] = {}
        # Pages of another registered site linked from this one: that site's own crawl will
        # likely fetch them, so their check waits until the crawl is idle (fetched once).
        self.deferred: dict[str, tuple[SitePlan, str]] = {}
        self.probes_pending = 0
        self.site_probes: dict[int, int] = dict.fromkeys(self.plans, 0)
        self.counts = {"pages": 0, "targets": 0, "carried": 0, "pages_carried": 0}
        # Hostile-input limits: the scan event log, the sites whose budget ran out (their
        # findings are partial), links checked per site, when each site's crawl started.
        self.events: list[dict] = []
        self.partial: dict[int, str] = {}
        self.homepage_not_judged: dict[int, str] = {}
        self.links_checked: dict[int, int] = dict.fromkeys(self.plans, 0)
        self.site_started: dict[int, float] = {}
        # Freshness pages — the homepage, the registry's columns and those its navigation
        # names: crawled first and still crawled after a budget ends, so a cut never hides a
        # stale column (the analysis judges them as a full scan would).
        self.freshness: dict[int, set[str]] = {p.site_id: {p.url, *p.seeds} for p in plans}

    def event(self, site_id: int | None, kind: str, message: str) -> None:
        plan = self.plans.get(site_id) if site_id is not None else None
        event = {"site": plan.url if plan else None, "kind": kind, "message": message,
                 "at": clock.now().isoformat(sep=" ", timespec="seconds")}
        self.events.append(event)
        if self.store is not None:
            self.store.add_event(site_id if plan else None, event)

    def end_budget(self, site_id: int, reason: str) -> None:
        """The site used up a budget: nothing more is fetched for it and its findings are partial."""
        if site_id in self.partial:
            return
        first = True
        if self.shared is not None:
            first, reason = self.shared.end_budget(site_id, reason)
        self.partial[site_id] = reason
        if first:
            self.event(site_id, "budget", reason)
        self._report(site_id)
        dropped = 0
        for slot in list(self.crawler.engine.downloader.slots.values()):
            for entry in [e for e in slot.queue if e[0].meta.get("site_id") == site_id and not e[0].meta.get("freshness")]:
                slot.queue.remove(entry)
                entry[1].errback(SiteBudgetExceeded(reason))
                dropped += 1
        if dropped:
            log.info("site %s: %d queued requests dropped (%s)", site_id, dropped, reason)

    def check_budget(self, request) -> None:
        """Called by SiteBudgetMiddleware for every request before it reaches a download slot."""
        site_id = request.meta.get("site_id")
        if site_id is None or site_id not in self.plans:
            return
        freshness = request.meta.get("freshness", False)
        if site_id in self.partial:
            if freshness:
                return   # the homepage and its columns are judged whatever the budget
            raise SiteBudgetExceeded(self.partial[site_id])
        started = self.site_started.setdefault(site_id, time.monotonic())
        budget = self.settings.getfloat("GOVCHECK_SITE_TIME_BUDGET")
        if budget and time.monotonic() - started > budget:
            self.end_budget(site_id, f"time budget of {budget:g} s per site used up")
            if not freshness:
                raise SiteBudgetExceeded(self.partial[site_id])

    def _watch_budgets(self) -> None:
        if self.shared is not None:
            self._sync_shared()
        # Requests already waiting in a slot (behind a Retry-After delay) passed the
        # middleware before the budget ended: drop them here, once a second.
        budget = self.settings.getfloat("GOVCHECK_SITE_TIME_BUDGET")
        now = time.monotonic()
        for site_id, started in list(self.site_started.items()):
            if budget and site_id not in self.partial and site_id not in self.sites_done and now - started > budget:
                self.end_budget(site_id, f"time budget of {budget:g} s per site used up")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.shared is None and crawler.settings.getbool("GOVCHECK_SHARED_SCAN"):
            from crawler.shared_state import SharedScanState

            spider.shared = SharedScanState.from_settings(crawler.settings)
        crawler.signals.connect(spider._bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._item_error, signal=signals.item_error)
        return spider

    def bind_frontier(self, scheduler) -> None:
        """Called by crawler.redis_queue.LeasedScheduler when it opens: this is a worker of a
        shared scan."""
        self.frontier = scheduler

    def _sync_shared(self) -> None:
        """What the other workers learnt, once a second: budgets that ended, hosts a site
        moved to, freshness pages its homepage named."""
        from redis import RedisError

        try:
            for site_id, reason in self.shared.partial().items():
                if site_id in self.plans and site_id not in self.partial:
                    self.end_budget(site_id, reason)
            for site_id, hosts in self.shared.by_site(self.shared.keys.netlocs).items():
                if site_id in self.netlocs:
                    self.netlocs[site_id] |= hosts
            for site_id, urls in self.shared.by_site(self.shared.keys.freshness).items():
                if site_id in self.freshness:
                    self.freshness[site_id] |= urls
        except RedisError as exc:
            log.error("shared scan state unavailable: %s", exc)
            if self.frontier is not None:
                self.frontier._redis_failed(exc)

    def _opened(self, spider=None):
        from twisted.internet import task

        if self.shared is not None:
            # The scan's time budget per site runs from when the first worker started the site.
            now = time.monotonic()
            self.site_started.update({s: now - ago for s, ago in self.shared.started(self.plans).items()})
        self._budget_loop = task.LoopingCall(self._watch_budgets)
        self._budget_loop.start(1.0, now=False)

    def _closed(self, spider=None, reason=None):
        if getattr(self, "_budget_loop", None) is not None and self._budget_loop.running:
            self._budget_loop.stop()
        if self.shared is not None and reason == "finished":
            self._sync_shared()
        if reason == "finished":
            for site_id in self.plans:   # written by the scan's last flush, after the pipeline's
                self._report(site_id, final=True)

    def _item_error(self, item, response, spider, failure):
        self.event(getattr(item, "site_id", None), "store_error", f"{type(item).__name__}: {failure.getErrorMessage()}"[:500])

    # ------------------------------------------------------------------ scheduling

    async def start(self):
        from twisted.internet import reactor

        for plan in self.plans.values():
            # 站点无法访问: single attempts (no retry) spread over the scan, judged with the
            # scheduler's daytime probes.
            for i in range(plan.probes):
                self.probes_pending += 1
                self.site_probes[plan.site_id] += 1
                reactor.callLater(i * plan.probe_interval, self._probe, plan)
        if self.probes_only:
            return
        for req in self.start_requests_of_plans():
            yield req

    def start_requests_of_plans(self):
        """Every site's homepage and registry columns (a shared scan's coordinator pushes
        these onto the scan's queue before any worker starts)."""
        for plan in self.plans.values():
            self.site_started.setdefault(plan.site_id, time.monotonic())
            for i, url in enumerate((plan.url, *plan.seeds)):
                self.claim_owner = "seed"
                req = self._page_request(plan, url, depth=0 if i == 0 else 1)
                self.claim_owner = ""
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
        if self.shared is not None:
            # The page and the site's page budget are the scan's: one worker schedules it.
            claimed = self._claimed(("page", plan.site_id, url),
                                    lambda: self.shared.claim_page(plan.site_id, url, plan.max_pages, self.claim_owner))
            if claimed <= 0:
                if claimed == 0:
                    self.crawled.add(key)
                else:
                    self.pages_scheduled[plan.site_id] = plan.max_pages
                return None
        self.crawled.add(key)
        self.checked.add(url)
        self.pages_scheduled[plan.site_id] += 1
        freshness = url in self.freshness[plan.site_id]
        meta = {"site_id": plan.site_id, "depth": depth, "role": "page", "started": time.monotonic(),
                "handle_httpstatus_list": ALL_ERRORS, "previous": plan.previous.get(url), "freshness": freshness}
        if freshness and plan.site_id in self.partial:
            meta["dont_retry"] = True   # past the budget: one attempt each (a bounded few pages)
        # Freshness pages go before every other page and check of the site (probes excepted).
        priority = (2 if depth == 0 else 1) if freshness else -depth
        return self._track(plan, scrapy.Request(url, callback=self.parse_page, errback=self.on_error, meta=meta,
                                                dont_filter=self.shared is None, priority=priority))

    def _check_request(self, plan: SitePlan, url: str, tag: str, method: str | None = None,
                       recent: dict | None = None) -> scrapy.Request | None:
        if method is None:
            if url in self.checked or plan.site_id in self.partial:
                return None
            cap = self.settings.getint("GOVCHECK_MAX_LINKS_PER_SITE")
            if self.shared is not None:
                claimed = self._claimed(("check", url),
                                        lambda: self.shared.claim_check(plan.site_id, url, cap, self.claim_owner))
                if claimed == 0:
                    self.checked.add(url)
                    return None
                if claimed < 0:
                    self.links_checked[plan.site_id] = cap
            if cap and self.links_checked[plan.site_id] >= cap:
                self.end_budget(plan.site_id, f"link budget of {cap} checked links per site used up (max_links_per_site)")
                return None
            self.links_checked[plan.site_id] += 1
            self.checked.add(url)
            if recent is None and self.recheck_since is not None and self.store is not None:
                recent = self.store.recent_results([url], self.recheck_since)
            if recent and url in recent and self._carry_check(plan, recent[url], tag):
                return None
            method = "HEAD" if tag in HEAD_TAGS else "GET"
        meta = {"site_id": plan.site_id, "role": "check", "tag": tag, "started": time.monotonic(),
                "handle_httpstatus_list": ALL_ERRORS}
        return self._track(plan, scrapy.Request(url, method=method, callback=self.on_check, errback=self.on_error,
                                                meta=meta, dont_filter=self.shared is None, priority=-5))

    def _carry_check(self, plan: SitePlan, row, tag: str) -> bool:
        """A target checked within the window that worked holds for this scan as it was."""
        result = TargetResult(url=row.url, status=row.status, error=row.error, final_url=row.final_url,
                              redirects=tuple(row.redirects or ()), content_type=row.content_type, title=row.title,
                              snippet=row.snippet, size=row.size, method=row.method)
        if row.error or (row.status or 0) >= 400 or classify(result) is not None:
            return False   # it failed: ask again
        self.store.carry_target(row.url, row.id)
        self._count(plan.site_id, "targets")
        self._count(plan.site_id, "carried")
        if tag == "attachment" and extension_of(row.url) in READABLE and self._in_site(plan, row.url):
            self.store.carry_attachment(plan.site_id, row.url)
        return True

    def _follow_all(self, plan: SitePlan, links, depth: int, recent: dict | None = None):
        if recent is None and self.recheck_since is not None and self.store is not None:
            unseen = list(dict.fromkeys(link.url for link in links if not link.invalid and link.url not in self.checked))
            recent = self.store.recent_results(unseen, self.recheck_since) if unseen else {}
        if self.shared is None:
            yield from self._follow_links(plan, links, depth, recent)
            return
        # Shared: every claim the page's links will make is made up front in one Redis call
        # (a round trip per link was most of a worker's Redis traffic), and the links are then
        # followed in one go (no other callback runs in between to change what was foreseen).
        self.preclaimed = self._preclaim(plan, links, depth)
        try:
            out = list(self._follow_links(plan, links, depth, recent))
        finally:
            unused, self.preclaimed = self.preclaimed, None
        # Claimed but not asked for after all (a budget ended part-way): given back.
        self.shared.unclaim([entry for result, entry in unused.values() if result == 1], self.claim_owner)
        yield from out

    def _preclaim(self, plan: SitePlan, links, depth: int) -> dict:
        """The claims _follow_links will make for `links`, as _follow decides them, made in one
        call: {key: (result, entry)} for _claimed to take from."""
        from crawler.shared_state import check_claim, mark_claim, page_claim

        cap = self.settings.getint("GOVCHECK_MAX_LINKS_PER_SITE")
        keys, entries = [], []
        seen = set()

        def add(key, entry):
            if key not in seen:
                seen.add(key)
                keys.append(key)
                entries.append(entry)

        for link in links:
            url = link.url
            if link.invalid:
                if url not in self.checked:
                    add(("mark", url), mark_claim(url))
                continue
            if plan.site_id in self.partial and url not in self.freshness[plan.site_id]:
                continue
            in_site = self._in_site(plan, url)
            paged = False
            if in_site and link.is_page_link and not is_asset(url) and not is_attachment(url):
                if (plan.site_id, url) in self.crawled:
                    continue
                next_depth = depth if link.pagination else depth + 1
                if next_depth <= plan.max_depth and self.pages_scheduled[plan.site_id] < plan.max_pages:
                    if ("page", plan.site_id, url) in seen:
                        continue
                    add(("page", plan.site_id, url), page_claim(plan.site_id, url, plan.max_pages))
                    paged = True
            if not in_site and not self.check_external:
                continue
            if not in_site and link.is_page_link and url not in self.checked and self._registered_host(url):
                continue   # deferred, not claimed now
            if url in self.checked or plan.site_id in self.partial or ("check", url) in seen:
                continue
            # A page link another request has (or beyond the page budget) is checked instead.
            add(("check", url), check_claim(plan.site_id, url, cap, unless_claimed=paged))
        results = self.shared.claim_many(entries, self.claim_owner) if entries else []
        return {key: (result, entry) for key, result, entry in zip(keys, results, entries) if result != -2}

    def _claimed(self, key, claim_now) -> int:
        """A claim's result: made up front for the page being followed, else now."""
        if self.preclaimed is not None and key in self.preclaimed:
            result, _entry = self.preclaimed.pop(key)
            return min(result, 1)
        return claim_now()

    def _follow_links(self, plan: SitePlan, links, depth: int, recent: dict | None):
        for link in links:
            if link.invalid:
                if link.url not in self.checked and (self.shared is None or self._claimed(
                        ("mark", link.url), lambda url=link.url: 1 if self.shared.mark_checked(url, self.claim_owner) else 0) == 1):
                    self.checked.add(link.url)
                    self._count(plan.site_id, "targets")
                    yield TargetItem(url=link.url, method="GET", status=None, error="invalid_url", final_url=None,
                                     redirects=[], content_type=None, title=None, snippet=link.invalid, size=None,
                                     elapsed=0.0, checked_at=clock.now())
                continue
            req = self._follow(plan, link, depth, recent)
            if req is not None:
                yield req

    def _follow(self, plan: SitePlan, link, depth: int, recent: dict | None = None) -> scrapy.Request | None:
        url = link.url
        if plan.site_id in self.partial and url not in self.freshness[plan.site_id]:
            return None
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
            if self.frontier is not None:
                # Shared: the scan's queue holds it until every worker's crawl is idle.
                self.frontier.defer(scrapy.Request(url, callback=self.on_check, errback=self.on_error, priority=-5,
                                                   meta={"site_id": plan.site_id, "role": "deferred", "tag": link.tag}))
            else:
                self.deferred.setdefault(url, (plan, link.tag))
            return None
        return self._check_request(plan, url, link.tag, recent=recent)

    def _registered_host(self, url: str) -> bool:
        netloc = netloc_of(url)
        return any(netloc in hosts for hosts in self.netlocs.values())

    def _probe(self, plan: SitePlan) -> None:
        if plan.site_id in self.partial or self.crawler.engine is None or not self.crawler.crawling:
            self._probe_done(plan.site_id)
            return
        meta = {"site_id": plan.site_id, "role": "probe", "started": time.monotonic(), "dont_retry": True,
                "handle_httpstatus_list": ALL_ERRORS}
        self.crawler.engine.crawl(scrapy.Request(plan.url, callback=self.on_probe, errback=self.on_probe_error,
                                                 meta=meta, dont_filter=True, priority=100))

    def _probe_time(self, site_id: int) -> dt.datetime:
        now = clock.now()
        day = self.plans[site_id].probe_day
        return dt.datetime.combine(day, now.timetz()) if day is not None else now

    @isolated
    def on_probe(self, response):
        meta = response.meta
        self._probe_done(meta["site_id"])
        yield probe_item(meta["site_id"], self._probe_time(meta["site_id"]), response, meta["started"])

    @isolated
    def on_probe_error(self, failure):
        meta = failure.request.meta
        self._probe_done(meta["site_id"])
        if failure.check(SiteBudgetExceeded):  # dropped by a budget or reach rule: no evidence either way
            return
        yield ProbeItem(meta["site_id"], self._probe_time(meta["site_id"]), False, None,
                        f"{failure_kind(failure.value)}: {failure.getErrorMessage()}"[:300], time.monotonic() - meta["started"])

    def _idle(self):
        if self.probes_pending > 0:
            raise DontCloseSpider
        pending = [(url, plan, tag) for url, (plan, tag) in self.deferred.items()
                   if url not in self.checked and plan.site_id not in self.partial]
        self.deferred.clear()
        recent = (self.store.recent_results([url for url, _plan, _tag in pending], self.recheck_since)
                  if pending and self.recheck_since is not None and self.store is not None else None)
        for url, plan, tag in pending:
            req = self._check_request(plan, url, tag, recent=recent)
            if req is not None:
                self.crawler.engine.crawl(req)
        for site_id in {plan.site_id for _url, plan, _tag in pending}:
            self._report(site_id)   # finished now, unless its deferred checks went out
        if pending:
            raise DontCloseSpider

    def admit(self, request) -> scrapy.Request | None:
        """A request popped from the shared queue (LeasedScheduler.next_request): a deferred
        check becomes the real request if the target is still unchecked (else None); the
        timer of every request starts here, on this worker's clock."""
        meta = request.meta
        if meta.get("role") == "deferred":
            plan = self.plans.get(meta.get("site_id"))
            if plan is None:
                return None
            self.claim_owner = fingerprint(self.shared.keys.scan_id, request)
            try:
                return self._check_request(plan, request.url, meta.get("tag", "a"))
            finally:
                self.claim_owner = ""
        meta["started"] = time.monotonic()
        return request

    def _stopping(self) -> bool:
        crawler = getattr(self, "crawler", None)
        if crawler is None:
            return False
        slot = getattr(crawler.engine, "_slot", None)   # Scrapy's engine: closing once the spider is being closed
        return not crawler.crawling or (slot is not None and slot.closing is not None)

    def _done(self, site_id: int) -> None:
        self.outstanding[site_id] -= 1
        if self.outstanding[site_id] <= 0:
            self.sites_done.add(site_id)
            self._report(site_id)

    def _probe_done(self, site_id: int) -> None:
        self.probes_pending -= 1
        self.site_probes[site_id] -= 1
        if self.site_probes[site_id] <= 0 and self.outstanding[site_id] <= 0:
            self._report(site_id)

    def _count(self, site_id: int, counter: str) -> None:
        self.counts[counter] += 1
        if self.store is not None:
            self.store.count(site_id, counter)

    def _finished(self, site_id: int) -> bool:
        """Nothing of the site is left to fetch: no request out, no probe to come, no deferred
        check of a link to another registered site (those run once the crawl is idle)."""
        return (self.outstanding[site_id] <= 0 and self.site_probes[site_id] <= 0
                and not any(plan.site_id == site_id for plan, _tag in self.deferred.values()))

    def _report(self, site_id: int, final: bool = False) -> None:
        """The site's outcome row as this process knows it (written with the next flush).
        While the crawl is being stopped, requests dropped unanswered empty the site's count
        too: that is not a finished site (only the close of a crawl that finished is)."""
        if self.store is None or site_id not in self.plans:
            return
        finished = self._finished(site_id) and (final or not self._stopping())
        status = ("partial" if site_id in self.partial else "complete") if finished else "crawling"
        if self.shared is not None or self.probes_only:
            # A worker of a shared scan (or its coordinator's probes) sees only its share of a
            # site: the status is left as it is (None changes nothing) and the coordinator
            # sets it once the whole crawl is complete (govcheck.workers).
            status, finished = None, False
        self.store.site_state(site_id, status=status, homepage_error=self.homepage_error.get(site_id),
                              homepage_not_judged=self.homepage_not_judged.get(site_id),
                              partial=self.partial.get(site_id), finished_at=clock.now() if finished else None)

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
        if response.meta.get("not_modified") or response.meta.get("stored"):
            return True
        return hashlib.sha256(response.body).hexdigest() == prev.content_hash

    @isolated
    def parse_page(self, response):
        meta = response.meta
        plan = self.plans[meta["site_id"]]
        depth = meta["depth"]
        carried = self._unchanged(response)
        stored = bool(meta.get("stored"))   # stored by this scan already (resumed): counted then
        if carried:
            parsed, snippet = None, None
            self.store.carry_target(meta["redirect_urls"][0] if meta.get("redirect_urls") else response.url)
        else:
            parsed, encoding, snippet = self._parse_body(response)
            yield self._target_item(response, parsed, snippet)
        if not stored:
            self._count(plan.site_id, "targets")
        if depth == 0 and meta.get("role") == "page":
            why = not_judged(response.status, parsed.title if parsed else None, snippet)
            if why:
                # A WAF or rate limit in front of the homepage: nothing on the site can be judged.
                self.homepage_not_judged[plan.site_id] = why
                self.event(plan.site_id, "homepage_not_judged", f"{response.url}: {why}")
                self._done(plan.site_id)
                return
        if depth == 0 and response.status < 400 and not self._in_site(plan, response.url):
            # The homepage moved (http→https, bare domain → www): the site lives there now.
            self.netlocs[plan.site_id].add(netloc_of(response.url))
            if self.shared is not None:
                self.shared.add_netloc(plan.site_id, netloc_of(response.url))
        if self.shared is None:
            redirected_to_crawled = meta.get("redirect_urls") and (plan.site_id, response.url) in self.crawled
        else:
            redirected_to_crawled = meta.get("redirect_urls") and self.shared.page_seen(plan.site_id, response.url, self.claim_owner)
            if not self._in_site(plan, response.url):
                # Another worker may have seen the homepage move there.
                self.netlocs[plan.site_id] |= self.shared.by_site(self.shared.keys.netlocs).get(plan.site_id, set())
        if ((parsed is None and not carried) or response.status >= 400 or not self._in_site(plan, response.url)
                or redirected_to_crawled):
            self._done(plan.site_id)
            return
        self.crawled.add((plan.site_id, response.url))
        if not stored:
            self._count(plan.site_id, "pages")
        if carried:
            prev = meta["previous"]
            if not stored:
                self._count(plan.site_id, "pages_carried")
                yield CarriedPageItem(prev.page_id, depth, bool(meta.get("not_modified")), clock.now())
            links = [LinkRef(url, tag, text or "", hidden, bool(pagination), invalid)
                     for url, tag, text, hidden, pagination, invalid in self.store.page_links(prev.page_id)]
            facts = self.store.page_facts(prev.page_id) or {}
            includes = facts.get("includes", []) if depth <= 1 else []
            if depth == 0:
                self.freshness[plan.site_id].update(facts.get("columns", ()))
                if self.shared is not None:
                    self.shared.add_freshness(plan.site_id, facts.get("columns", ()))
            if facts.get("links_capped"):
                self.event(plan.site_id, "links_capped", facts["links_capped"])
            recent = self.store.carried_recent(prev.page_id)
        else:
            headers = response.headers
            links, capped = self._capped(plan, response.url, parsed)
            facts = page_facts(parsed, self.automaton, self.wordlists, self.as_of)
            if capped:
                facts["links_capped"] = capped   # told again in every scan that carries the page
            if depth == 0:
                facts["columns"] = [c.url for c in discover_columns(parsed)]   # as the analysis finds them
                self.freshness[plan.site_id].update(facts["columns"])
                if self.shared is not None:
                    self.shared.add_freshness(plan.site_id, facts["columns"])
            includes = facts["includes"]
            recent = None
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
                        url, callback=self.on_attachment, errback=self.on_attachment_error,
                        dont_filter=self.shared is None, priority=-2, meta={"site_id": plan.site_id, "role": "include", "dont_retry": True,
                                           "download_maxsize": self.settings.getint("GOVCHECK_ATTACHMENT_BYTES")}))
        yield from self._follow_all(plan, links, depth, recent)
        self._done(plan.site_id)

    def _capped(self, plan: SitePlan, page_url: str, parsed: ParsedPage) -> tuple[list, str | None]:
        """At most max_links_per_page distinct targets of one page are stored and checked (a
        hostile page carries 100,000); the cut is a scan event (its message is returned too)."""
        cap = self.settings.getint("GOVCHECK_MAX_LINKS_PER_PAGE") or None
        links = parsed.link_refs(cap)
        message = None
        if parsed.links_truncated:
            message = (f"{page_url[:300]}: {parsed.link_elements} link elements, the first {cap} distinct link "
                       "targets checked (max_links_per_page)")
            self.event(plan.site_id, "links_capped", message)
        return links, message

    @isolated
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
        self._count(plan.site_id, "targets")
        yield self._target_item(response, parsed, snippet)
        url = meta["redirect_urls"][0] if meta.get("redirect_urls") else response.url
        if (meta.get("tag") == "attachment" and response.status < 400 and extension_of(url) in READABLE
                and self._in_site(plan, url)):
            # The link works; now read it for personal data (size-limited, never retried).
            yield self._track(plan, scrapy.Request(
                url, callback=self.on_attachment, errback=self.on_attachment_error, dont_filter=self.shared is None,
                priority=-10,
                meta={"site_id": plan.site_id, "role": "attachment", "dont_retry": True,
                      "download_maxsize": self.settings.getint("GOVCHECK_ATTACHMENT_BYTES")}))
        self._done(plan.site_id)

    @isolated
    def on_attachment(self, response):
        site_id = response.meta["site_id"]
        if response.status < 400 and response.body:
            yield AttachmentItem(site_id, response.request.url, response.body,
                                 response.headers.get(b"Content-Type", b"").decode("latin-1") or None)
        self._done(site_id)

    def on_attachment_error(self, failure):
        # Too large or gone between HEAD and GET: the link verdict stands; nothing to read.
        self._done(failure.request.meta["site_id"])
        if self.frontier is not None:
            self.frontier.done(failure.request)
        return ()

    @isolated
    def on_error(self, failure):
        req = failure.request
        meta = req.meta
        plan = self.plans[meta["site_id"]]
        if failure.check(SiteBudgetExceeded):
            # Dropped unfetched (budget, reach): no verdict on the target.
            self._count(plan.site_id, "budget_cut")
            self._done(plan.site_id)
            return
        if self._stopping():
            # Cancelled by the crawl's own stop (a signal, Redis lost): no verdict either — a
            # resumed scan (or another worker) must ask again, not find a "broken link" stored.
            meta["unanswered"] = True
            self._done(plan.site_id)
            return
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
            self._report(plan.site_id)
        self._count(plan.site_id, "targets")
        yield TargetItem(url=original, method=req.method, status=None, error=kind, final_url=req.url,
                         redirects=redirects, content_type=None, title=None,
                         snippet=failure.getErrorMessage()[:300], size=None,
                         elapsed=time.monotonic() - meta.get("started", time.monotonic()), checked_at=clock.now())
        self._done(plan.site_id)

    def stored_body(self, content_hash: str) -> bytes | None:
        return self.store.snapshot(content_hash) if self.store else None


def probe_item(site_id: int, at, response, started: float) -> ProbeItem:
    """One probe's record; auth/rate-limit/challenge answers are kept with their reason so the
    availability check can leave them out of the failure ratio."""
    title = snippet = None
    if response.status == 200 or response.status >= 400:
        try:
            parsed = ParsedPage(response.url, decode_html(response.body[:200_000], None)[0]) if response.body else None
        except Exception:  # noqa: BLE001 — an unreadable body is simply not a challenge page
            parsed = None
        if parsed is not None:
            title, snippet = parsed.title, parsed.snippet
    why = not_judged(response.status, title, snippet)
    if why:
        return ProbeItem(site_id, at, False, response.status, f"not_judged: {why}", time.monotonic() - started)
    ok = response.status < 400
    return ProbeItem(site_id, at, ok, response.status, None if ok else f"HTTP {response.status}",
                     time.monotonic() - started)
