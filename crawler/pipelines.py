"""Item pipeline: persistence of crawl data through the scan's ScanStore (batched writes)."""

from __future__ import annotations

from dataclasses import asdict

from crawler.items import (
    AttachmentItem,
    FeedItem,
    LinksItem,
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
            fields = asdict(item)
            body = fields.pop("body")
            store.add_page(fields.pop("site_id"), fields.pop("url"), body, **fields)
        elif isinstance(item, LinksItem):
            store.add_links(item.site_id, item.source_url, item.links)
        elif isinstance(item, TargetItem):
            store.add_target(**asdict(item))
        elif isinstance(item, AttachmentItem):
            store.add_attachment(item.site_id, item.url, item.body, item.content_type)
        elif isinstance(item, FeedItem):
            store.add_feed(item.account_id, item.status, item.error, item.body, item.feed)
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
