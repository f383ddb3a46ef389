"""Progress display on a terminal: sites done, pages crawled, link targets checked."""

from __future__ import annotations

import sys

from scrapy import signals
from twisted.internet import task


class ProgressExtension:
    def __init__(self, crawler, enabled: bool):
        self.crawler = crawler
        self.enabled = enabled
        self.progress = None
        self.loop = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler, crawler.settings.getbool("GOVCHECK_PROGRESS") and sys.stderr.isatty())
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        if not self.enabled or not hasattr(spider, "sites_done"):  # the site crawl shows progress
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(TextColumn("[bold]巡检[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("sites"),
                                 TextColumn("{task.fields[pages]} pages · {task.fields[targets]} links"),
                                 TimeElapsedColumn(), transient=True)
        self.task = self.progress.add_task("scan", total=len(spider.plans), pages=0, targets=0)
        self.progress.start()
        self.loop = task.LoopingCall(self.refresh, spider)
        self.loop.start(0.5)

    def refresh(self, spider):
        self.progress.update(self.task, completed=len(spider.sites_done), pages=spider.counts["pages"],
                             targets=spider.counts["targets"])

    def spider_closed(self, spider, reason):
        if self.loop and self.loop.running:
            self.loop.stop()
        if self.progress:
            self.refresh(spider)
            self.progress.stop()
