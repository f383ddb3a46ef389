"""Progress of a scan: sites done, pages crawled, link targets checked.

On a terminal, a live bar; anywhere else (the scheduler, cron, a pipe) plain lines on stderr
every GOVCHECK_PROGRESS_INTERVAL seconds (default 30) and at the end, which log files keep
readable — a bar's carriage returns would not."""

from __future__ import annotations

import sys
import time

from scrapy import signals
from twisted.internet import task


class ProgressExtension:
    def __init__(self, crawler, enabled: bool, plain: bool = False, interval: float = 30.0):
        self.crawler = crawler
        self.enabled = enabled
        self.plain = plain
        self.interval = interval
        self.progress = None
        self.loop = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        wanted = crawler.settings.getbool("GOVCHECK_PROGRESS")
        tty = sys.stderr.isatty()
        ext = cls(crawler, wanted and tty, plain=wanted and not tty,
                  interval=crawler.settings.getfloat("GOVCHECK_PROGRESS_INTERVAL", 30.0))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        if not hasattr(spider, "sites_done"):  # the site crawl shows progress
            return
        if self.plain:
            self.started = time.monotonic()
            self.loop = task.LoopingCall(self.line, spider)
            self.loop.start(self.interval, now=False)
            return
        if not self.enabled:
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

    def line(self, spider, final: bool = False) -> None:
        print(f"巡检进度{'（完成）' if final else ''}：站点 {len(spider.sites_done)}/{len(spider.plans)}，"
              f"页面 {spider.counts['pages']}，链接 {spider.counts['targets']}，"
              f"用时 {time.monotonic() - self.started:.0f} 秒", file=sys.stderr, flush=True)

    def spider_closed(self, spider, reason):
        if self.loop and self.loop.running:
            self.loop.stop()
        if self.plain and hasattr(spider, "sites_done"):
            self.line(spider, final=True)
        if self.progress:
            self.refresh(spider)
            self.progress.stop()
