"""Scrapy settings for govcheck crawls.

Static defaults live here as module constants (the Scrapy project convention); `for_scan`
overlays what one scan decides: the registry's thresholds, its resolve: map, the database
and the scan id the pipelines write to.
"""

from __future__ import annotations

import os

BOT_NAME = "govcheck"

# DESIGN §8: the asyncio reactor let 8 requests at once reach one host with
# CONCURRENT_REQUESTS_PER_DOMAIN = 2 under Scrapy 2.19; the epoll reactor holds the limit,
# and tests/test_politeness.py measures it at the server.
TWISTED_REACTOR = "twisted.internet.epollreactor.EPollReactor"
TWISTED_DNS_RESOLVER = "crawler.resolver.RegistryResolver"

ROBOTSTXT_OBEY = False          # assessments must see every public page (国办秘函〔2019〕19号)
COOKIES_ENABLED = True          # some CMSs set a session cookie before serving lists
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # needs the asyncio reactor; we run epoll (see above)
HTTPPROXY_ENABLED = False       # never route loopback/registry traffic through an env proxy
LOG_LEVEL = "WARNING"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
# Scrapy re-parses the source of every callback per response to warn about generators that
# return values: ~18 % of a crawl's CPU in profiles. Our callbacks are tested instead.
WARN_ON_GENERATOR_RETURN_VALUE = False

CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Scrapy hands each response's output to CONCURRENT_ITEMS (100) cooperative tasks: ~100
# Deferred chains per response, the top of a crawl's profile (bench/crawl.py). Our pipeline
# is synchronous, so one task per response does the same work.
CONCURRENT_ITEMS = 1
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
DOWNLOAD_TIMEOUT = 15
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
DNS_TIMEOUT = 15
REDIRECT_MAX_TIMES = 10
METAREFRESH_ENABLED = True
METAREFRESH_MAXDELAY = 5

RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_GIVE_UP_LOG_LEVEL = "DEBUG"

SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SiteBudgetMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.ConditionalGetMiddleware": 560,
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
    # Next to the downloader, so retries and redirects take a slot of their own; off (NotConfigured)
    # without GOVCHECK_REDIS_URL.
    "crawler.host_slots.SharedHostLimitMiddleware": 900,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,  # depth is the spider's own per site
    # Over-long URLs become link_broken "invalid URL" findings (govcheck.urls.MAX_URL_LENGTH)
    # instead of being dropped with a log line.
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
}
ITEM_PIPELINES = {"crawler.pipelines.StoragePipeline": 300}
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.throttle.ConditionalAwareAutoThrottle": 0,
    "crawler.progress.ProgressExtension": 500,
}

# govcheck's own
GOVCHECK_RESOLVE: dict[str, str] = {}
GOVCHECK_RESOLVE_ONLY = False
GOVCHECK_RETRY_AFTER_MAX = 60.0
GOVCHECK_BACKOFF_BASE = 0.5
GOVCHECK_CHECK_BYTES = 256 * 1024   # enough of a checked target to see a soft-404 page
GOVCHECK_BATCH_SIZE = 500
GOVCHECK_FLUSH_SECONDS = 5.0   # crawl data written at least this often (a killed scan resumes from it)
GOVCHECK_SITE_TIME_BUDGET = 3600.0
GOVCHECK_MAX_LINKS_PER_PAGE = 1000
GOVCHECK_MAX_LINKS_PER_SITE = 300_000
# Scaling out (crawler/host_slots.py): the per-host limit shared by all workers through Redis.
GOVCHECK_REDIS_URL: str | None = None
# Keys of several deployments (or test runs) sharing one Redis stay apart by prefix.
GOVCHECK_REDIS_PREFIX = os.environ.get("GOVCHECK_REDIS_PREFIX", "govcheck")
# How long a killed worker's host slots stay taken (tests of a killed worker set it short).
GOVCHECK_HOST_LEASE_SECONDS = float(os.environ.get("GOVCHECK_HOST_LEASE_SECONDS", "30"))


def for_scan(cfg, *, db_url: str, scan_id: int, resolve: dict[str, str], progress: bool,
             redis_url: str | None = None) -> dict:
    """All settings for one scan: module defaults overlaid with the registry's `settings:`."""
    base = {k: v for k, v in globals().items() if k.isupper()}
    base.update(
        USER_AGENT=cfg.user_agent,
        DOWNLOAD_TIMEOUT=cfg.timeout,
        DNS_TIMEOUT=cfg.timeout,
        RETRY_TIMES=cfg.retries,
        CONCURRENT_REQUESTS=cfg.concurrency,
        CONCURRENT_REQUESTS_PER_DOMAIN=cfg.concurrency_per_host,
        AUTOTHROTTLE_TARGET_CONCURRENCY=float(cfg.concurrency_per_host),
        GOVCHECK_RESOLVE=dict(resolve),
        GOVCHECK_RESOLVE_ONLY=cfg.resolve_only,
        GOVCHECK_RETRY_AFTER_MAX=cfg.retry_after_max,
        GOVCHECK_ATTACHMENT_BYTES=cfg.max_attachment_bytes,
        GOVCHECK_SITE_TIME_BUDGET=cfg.site_time_budget,
        GOVCHECK_MAX_LINKS_PER_PAGE=cfg.max_links_per_page,
        GOVCHECK_MAX_LINKS_PER_SITE=cfg.max_links_per_site,
        GOVCHECK_DB_URL=db_url,
        GOVCHECK_SCAN_ID=scan_id,
        GOVCHECK_PROGRESS=progress,
        GOVCHECK_REDIS_URL=redis_url,
    )
    return base


def import_download_handlers() -> None:
    """Import Scrapy's HTTP download handler now, from a shallow stack. Its TLS context
    factories are built with create_deprecated_class, which calls inspect.stack(): run where
    Scrapy first loads the handler (deep inside the engine's construction, with every module
    loaded) that took 1.1 s of a worker's start-up; from the caller's shallow stack, 0.3 s."""
    import scrapy.core.downloader.handlers.http11  # noqa: F401
