"""Downloader middlewares: polite retries, per-site budgets and reach, conditional GET."""

from __future__ import annotations

import email.utils
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.error import DNSLookupError


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class NotInResolveMap(DNSLookupError):
    """resolve_only: the host (name or IP literal) is not in the registry's resolve: map, so
    nothing is sent — tests and the demo must never reach another address."""


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware whose waits delay only the host's own download slot.

    A 429/503 with Retry-After (capped by retry_after_max), or exponential back-off for other
    retryable answers, raises the slot's delay — Scrapy's downloader then spaces that host's
    requests, retries included, while every other host goes on at full speed and no global
    concurrency slot is held by a sleeping request. Good answers from the host halve the
    delay back towards its normal value, so one Retry-After does not slow the host for the
    rest of the scan."""

    def __init__(self, settings):
        super().__init__(settings)
        self.retry_after_max = settings.getfloat("GOVCHECK_RETRY_AFTER_MAX")
        self.backoff_base = settings.getfloat("GOVCHECK_BACKOFF_BASE")
        self.normal_delay = settings.getfloat("DOWNLOAD_DELAY")
        self.held: set[str] = set()   # slots whose delay we raised

    def _slot(self, request):
        key = request.meta.get("download_slot")
        engine = getattr(self.crawler, "engine", None)
        return key, (engine.downloader.slots.get(key) if engine is not None and key is not None else None)

    def _hold(self, request, delay: float) -> None:
        key, slot = self._slot(request)
        if slot is not None and delay > slot.delay:
            slot.delay = delay
            self.held.add(key)

    def _relax(self, request) -> None:
        key, slot = self._slot(request)
        if key not in self.held or slot is None:
            return
        slot.delay = slot.delay / 2
        if slot.delay <= max(self.normal_delay, 0.05):
            slot.delay = self.normal_delay
            self.held.discard(key)

    def process_response(self, request, response):
        if response.status not in self.retry_http_codes:
            self._relax(request)
            return response
        if request.meta.get("dont_retry"):
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        delay = retry_after_seconds(response.headers.get(b"Retry-After"))
        if delay is None:
            delay = self.backoff_base * (2 ** (retry.meta["retry_times"] - 1))
        delay = min(delay, self.retry_after_max)
        retry.meta["retry_delay"] = delay
        self._hold(request, delay)
        return retry

    def process_exception(self, request, exception):
        if isinstance(exception, NotInResolveMap):
            return None
        retry = super().process_exception(request, exception)
        if retry is not None and self.backoff_base > 0:
            self._hold(request, min(self.backoff_base * (2 ** (retry.meta["retry_times"] - 1)), self.retry_after_max))
        return retry


class SiteBudgetMiddleware:
    """First in the chain: requests of a site whose time or link budget has ended are dropped
    before they reach a download slot, and with resolve_only no request leaves for a host
    that is not in resolve: (IP literals never reach the resolver, so the map is enforced
    here)."""

    def __init__(self, crawler):
        self.crawler = crawler
        s = crawler.settings
        self.resolve_only = s.getbool("GOVCHECK_RESOLVE_ONLY")
        self.resolve = {k.lower() for k in s.getdict("GOVCHECK_RESOLVE")}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        if self.resolve_only:
            host = (urlparse_cached(request).hostname or "").lower().rstrip(".")
            if host not in self.resolve:
                raise NotInResolveMap(f"{host}: not in the registry's resolve: map (resolve_only)")
        check = getattr(self.crawler.spider, "check_budget", None)
        if check is not None:
            check(request)
        return None


class ConditionalGetMiddleware:
    """DESIGN §8: pages unchanged since the last scan are fetched with If-None-Match /
    If-Modified-Since; a 304 is answered from the stored snapshot, so checks still read the
    page while the server sends nothing."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        prev = request.meta.get("previous")  # govcheck.store.queries.PreviousPage
        if (prev and request.method == "GET" and prev.facts_hold and prev.scan_id is not None
                and prev.scan_id == self.crawler.settings.getint("GOVCHECK_SCAN_ID")):
            # A resumed scan (or a re-queued request) for a page this scan stored already: the
            # stored version is the answer — the spider follows its stored links, nothing is sent.
            request.meta["stored"] = True
            if prev.final_url and prev.final_url != request.url:
                request.meta["redirect_urls"] = [request.url]
            return HtmlResponse(url=prev.final_url or request.url, status=200, body=b"", request=request,
                                headers={b"Content-Type": b"text/html"}, flags=["stored"])
        if prev and request.method == "GET":
            if prev.etag:
                request.headers.setdefault(b"If-None-Match", prev.etag)
            if prev.last_modified:
                request.headers.setdefault(b"If-Modified-Since", prev.last_modified)
        return None

    def process_response(self, request, response):
        prev = request.meta.get("previous")
        if response.status != 304 or not prev:
            return response
        request.meta["not_modified"] = True
        headers = response.headers.copy()
        headers[b"Content-Type"] = response.headers.get(b"Content-Type") or b"text/html"
        # Its stored results hold: the spider carries the stored version over, nothing to parse.
        body = b"" if prev.facts_hold else self.crawler.spider.stored_body(prev.content_hash)
        if body is None:  # snapshot gone: fetch again unconditionally
            meta = dict(request.meta, previous=None, not_modified=False)
            req = request.replace(meta=meta, dont_filter=True)
            req.headers.pop(b"If-None-Match", None)
            req.headers.pop(b"If-Modified-Since", None)
            return req
        return HtmlResponse(url=response.url, status=200, headers=headers, body=body, request=request,
                            flags=[*response.flags, "not_modified"])
