"""Availability probes between scans: one GET of each homepage, no retry, the 15-second rule.

The scheduler runs this about 20 times a day per site (DESIGN §2 站点无法访问); each probe
lands in the probes table, where the next scan judges the failure ratio over its window.
"""

from __future__ import annotations

import time

import scrapy

from crawler.items import ProbeItem
from crawler.spiders.site import ALL_ERRORS, failure_kind, probe_item
from govcheck import clock


class ProbeSpider(scrapy.Spider):
    name = "probe"

    def __init__(self, sites: list[tuple[int, str]], store=None, **kwargs):
        super().__init__(**kwargs)
        self.sites = sites
        self.store = store

    async def start(self):
        for site_id, url in self.sites:
            yield scrapy.Request(url, callback=self.on_probe, errback=self.on_error, dont_filter=True,
                                 meta={"site_id": site_id, "dont_retry": True, "handle_httpstatus_list": ALL_ERRORS,
                                       "started": time.monotonic()})

    def on_probe(self, response):
        m = response.meta
        yield probe_item(m["site_id"], clock.now(), response, m["started"])

    def on_error(self, failure):
        m = failure.request.meta
        yield ProbeItem(m["site_id"], clock.now(), False, None,
                        f"{failure_kind(failure.value)}: {failure.getErrorMessage()}"[:300], time.monotonic() - m["started"])

    def stored_body(self, content_hash: str) -> bytes | None:
        return None
