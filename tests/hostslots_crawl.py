"""A bare crawl of a list of URLs with govcheck's downloader settings, run as its own process by
tests/test_host_slots.py (one Scrapy reactor per process, like one worker).

    python tests/hostslots_crawl.py '{"urls": [...], "resolve": {...}, "redis": URL, "prefix": P, "limit": 2}'
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scrapy  # noqa: E402
from scrapy.crawler import CrawlerProcess  # noqa: E402

from crawler import settings as crawl_settings  # noqa: E402


class FetchAll(scrapy.Spider):
    name = "fetch_all"

    def __init__(self, urls, **kw):
        super().__init__(**kw)
        self.urls = urls

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, dont_filter=True, callback=self.parse, errback=self.failed)

    def parse(self, response):
        print(f"fetched {response.status} {response.url}", flush=True)

    def failed(self, failure):
        print(f"failed {failure.request.url} {failure.value!r}", flush=True)


def main() -> None:
    args = json.loads(sys.argv[1])
    settings = {k: v for k, v in vars(crawl_settings).items() if k.isupper()}
    settings.update(
        GOVCHECK_RESOLVE=args["resolve"], GOVCHECK_RESOLVE_ONLY=True,
        CONCURRENT_REQUESTS_PER_DOMAIN=args["limit"], AUTOTHROTTLE_TARGET_CONCURRENCY=float(args["limit"]),
        AUTOTHROTTLE_ENABLED=False, RETRY_TIMES=args.get("retries", 0),
        GOVCHECK_REDIS_URL=args.get("redis"), GOVCHECK_REDIS_PREFIX=args.get("prefix", "govcheck"),
        GOVCHECK_HOST_LEASE_SECONDS=args.get("lease", 30.0),
        ITEM_PIPELINES={}, EXTENSIONS={"scrapy.extensions.telnet.TelnetConsole": None},
        DOWNLOADER_MIDDLEWARES={k: v for k, v in crawl_settings.DOWNLOADER_MIDDLEWARES.items()
                                if k != "crawler.middlewares.ConditionalGetMiddleware"},
    )
    process = CrawlerProcess(settings=settings)
    crawler = process.create_crawler(FetchAll)
    process.crawl(crawler, urls=args["urls"])
    process.start()
    print(f"finish_reason {crawler.stats.get_value('finish_reason')}", flush=True)


if __name__ == "__main__":
    main()
