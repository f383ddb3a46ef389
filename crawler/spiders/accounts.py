"""The account spider: fetches each registered new-media account's feed once per scan.

Retries, timeouts, politeness and the resolve: map are the same downloader machinery the
site spider uses; a feed that fails or does not parse becomes an error record, one our own
reader fails on a `not_judged` record (stored like any fetch, so whichever machine analyses
the scan reports it), and the other accounts go on.
"""

from __future__ import annotations

import logging

import scrapy

from crawler.items import AccountPlan, FeedItem
from crawler.spiders.site import ALL_ERRORS, failure_kind
from govcheck import clock
from govcheck.feeds import FeedError, parse_feed

log = logging.getLogger("govcheck.crawl")


class AccountSpider(scrapy.Spider):
    name = "accounts"

    def __init__(self, plans: list[AccountPlan], store=None, **kwargs):
        super().__init__(**kwargs)
        self.plans = plans
        self.store = store

    async def start(self):
        for plan in self.plans:
            yield scrapy.Request(plan.feed, callback=self.parse_feed, errback=self.on_error, dont_filter=True,
                                 meta={"account_id": plan.account_id, "handle_httpstatus_list": ALL_ERRORS})

    def parse_feed(self, response):
        account_id = response.meta["account_id"]
        if response.status >= 400:
            yield FeedItem(account_id, response.status, f"HTTP {response.status}", response.body or None, None)
            return
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        try:
            feed = parse_feed(response.body, ctype)
        except FeedError as exc:
            yield FeedItem(account_id, response.status, f"feed {exc}", response.body, None)
            return
        except Exception as exc:  # noqa: BLE001 — per-account isolation
            log.warning("account %s: feed reader failed on %s: %r", account_id, response.url, exc)
            why = f"{type(exc).__name__}: {exc}"[:300]
            if self.store is not None:
                self.store.add_event(None, {"site": response.url, "kind": "feed_reader_error", "message": why,
                                            "at": clock.now().isoformat(sep=" ", timespec="seconds")})
            yield FeedItem(account_id, response.status, None, response.body, None, not_judged=why)
            return
        yield FeedItem(account_id, response.status, None, response.body, feed)

    def on_error(self, failure):
        yield FeedItem(failure.request.meta["account_id"], None,
                       f"{failure_kind(failure.value)}: {failure.getErrorMessage()}"[:500], None, None)

    def stored_body(self, content_hash: str) -> bytes | None:
        return None  # feeds are always fetched in full
