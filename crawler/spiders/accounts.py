"""The account spider: fetches each registered new-media account's feed once per scan.

Retries, timeouts, politeness and the resolve: map are the same downloader machinery the
site spider uses; a feed that fails or does not parse becomes an error record, and the
other accounts go on.
"""

from __future__ import annotations

import logging

import scrapy

from crawler.items import AccountPlan, FeedItem
from crawler.spiders.site import ALL_ERRORS, failure_kind
from govcheck.feeds import FeedError, parse_feed

log = logging.getLogger("govcheck.crawl")


class AccountSpider(scrapy.Spider):
    name = "accounts"

    def __init__(self, plans: list[AccountPlan], store=None, **kwargs):
        super().__init__(**kwargs)
        self.plans = plans
        self.store = store
        # Accounts whose feed our own reader failed on: not judged (no verdict from a crash).
        self.not_judged: dict[int, str] = {}
        self.events: list[dict] = []

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
            self.not_judged[account_id] = f"{type(exc).__name__}: {exc}"[:300]
            self.events.append({"site": response.url, "kind": "feed_reader_error", "message": self.not_judged[account_id]})
            return
        yield FeedItem(account_id, response.status, None, response.body, feed)

    def on_error(self, failure):
        yield FeedItem(failure.request.meta["account_id"], None,
                       f"{failure_kind(failure.value)}: {failure.getErrorMessage()}"[:500], None, None)

    def stored_body(self, content_hash: str) -> bytes | None:
        return None  # feeds are always fetched in full
