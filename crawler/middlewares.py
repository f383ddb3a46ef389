"""Downloader middlewares: polite retries and conditional GET."""

from __future__ import annotations

import email.utils
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.response import response_status_message
from twisted.internet import reactor, task


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


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware that waits before retrying: Retry-After when the server sends one
    (capped), exponential back-off otherwise. Government servers that answer 429/503 are
    asking us to slow down, so the host's download slot is also held back by Retry-After."""

    def __init__(self, settings):
        super().__init__(settings)
        self.retry_after_max = settings.getfloat("GOVCHECK_RETRY_AFTER_MAX")
        self.backoff_base = settings.getfloat("GOVCHECK_BACKOFF_BASE")

    async def process_response(self, request, response):
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        delay = retry_after_seconds(response.headers.get(b"Retry-After"))
        if delay is not None:
            delay = min(delay, self.retry_after_max)
            slot = self.crawler.engine.downloader.slots.get(request.meta.get("download_slot"))
            if slot is not None:
                slot.delay = max(slot.delay, delay)
        else:
            delay = self.backoff_base * (2 ** (retry.meta["retry_times"] - 1))
        retry.meta["retry_delay"] = delay
        if delay > 0:
            await task.deferLater(reactor, delay, lambda: None)
        return retry

    async def process_exception(self, request, exception):
        retry = super().process_exception(request, exception)
        if retry is not None and self.backoff_base > 0:
            await task.deferLater(reactor, self.backoff_base * (2 ** (retry.meta["retry_times"] - 1)), lambda: None)
        return retry


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
