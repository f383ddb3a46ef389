"""Item pipeline: persistence of crawl data through the scan's ScanStore (batched writes)."""

from __future__ import annotations

from dataclasses import asdict

from crawler.items import (
    AttachmentItem,
    CarriedPageItem,
    FeedItem,
    PageItem,
    ProbeItem,
    TargetItem,
)


class StoragePipeline:
    def open_spider(self, spider=None):
        pass

    def process_item(self, item, spider=None):
        store = self.spider.store
        if isinstance(item, PageItem):
            row = dict(vars(item))   # links stay LinkRefs
            store.add_page(row.pop("site_id"), row.pop("url"), row.pop("body"), **row)
        elif isinstance(item, CarriedPageItem):
            store.carry_page(item.page_id, item.depth, item.fetched_at, item.not_modified)
        elif isinstance(item, TargetItem):
            store.add_target(**vars(item))   # asdict deep-copies field by field: 1.5 % of a first scan
        elif isinstance(item, AttachmentItem):
            store.add_attachment(item.site_id, item.url, item.body, item.content_type)
        elif isinstance(item, FeedItem):
            store.add_feed(item.account_id, item.status, item.error, item.body, item.feed, item.not_judged)
        elif isinstance(item, ProbeItem):
            store.add_probe(**asdict(item))
        return item

    def close_spider(self, spider=None):
        self.spider.store.flush()

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls()
        pipeline.crawler = crawler
        return pipeline

    @property
    def spider(self):
        return self.crawler.spider
