"""A per-host concurrency limit shared by every crawl process (DESIGN §8, issue 18).

Scrapy's CONCURRENT_REQUESTS_PER_DOMAIN holds inside one process: N workers would send a
fragile government server N × the limit. Here every request first takes one of the host's
slots in Redis:

- a sorted set per host, one member per request in flight, scored by when its lease ends.
  Acquiring is one Lua script (drop ended leases, count, add), so two workers never both take
  the last slot. A live process renews its leases every third of the lease time; a worker
  killed with SIGKILL stops renewing, and its slots come back once the lease ends.
- a "next allowed" time per host: a Retry-After seen by one worker holds every worker off
  that host until then.

The scan's queue (crawler/redis_queue.py) takes a slot in the same Lua step as it pops a
request, choosing a host that has one free; the request carries it (meta[TOKEN]) and this
middleware adopts it. A request that comes some other way (a probe, an engine.crawl) waits for
a slot here.

Times are Redis's own clock (TIME), so machines with drifting clocks agree.

Enabled only when GOVCHECK_REDIS_URL is set; a single process keeps Scrapy's own limit.
If Redis cannot be reached the crawl stops (finish reason `redis_unavailable`): the scan fails
and keeps the previous findings, rather than recording every request as a broken link or
crawling without the limit it was promised.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from crawler.middlewares import retry_after_seconds

TOKEN = "govcheck_host_slot"   # request.meta: (host, token) while the request holds a slot

MIDDLEWARE = "crawler.host_slots.SharedHostLimitMiddleware"


def slots_key_prefix(prefix: str) -> tuple[str, str]:
    """Key prefixes (+ host) of the slot leases and of the next-allowed time: the scan's queue
    (crawler.redis_queue) takes a slot in its pop with the same keys."""
    return f"{prefix}:host-slots:", f"{prefix}:host-next:"


def shared_limit_enabled(settings) -> bool:
    """Whether a crawl with these settings runs SharedHostLimitMiddleware."""
    return bool(settings.get("GOVCHECK_REDIS_URL")) and \
        settings.getwithbase("DOWNLOADER_MIDDLEWARES").get(MIDDLEWARE) is not None

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if nxt > now then return {0, nxt - now} end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
  return {1, 0}
end
return {0, -1}
"""

_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local kept = 0
for i = 2, #ARGV do
  kept = kept + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + lease, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], 2 * lease)
return kept
"""

_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > cur then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return until_ms
"""


class HostSlots:
    """The Redis side: leases and next-allowed times per host, under `prefix`."""

    def __init__(self, client, prefix: str = "govcheck", lease_seconds: float = 30.0):
        self.redis = client
        self.prefix = prefix
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._hold = client.register_script(_HOLD)

    @classmethod
    def from_url(cls, url: str, prefix: str = "govcheck", lease_seconds: float = 30.0) -> HostSlots:
        import redis

        # Calls run on the reactor thread: a Redis that hangs must fail within seconds, not stall the crawl.
        return cls(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5), prefix, lease_seconds)

    def _leases(self, host: str) -> str:
        return slots_key_prefix(self.prefix)[0] + host

    def _next(self, host: str) -> str:
        return slots_key_prefix(self.prefix)[1] + host

    def try_acquire(self, host: str, limit: int, token: str) -> tuple[bool, float | None]:
        """(True, None) when `token` now holds a slot; else (False, seconds the host is held
        off by a Retry-After) or (False, None) when all `limit` slots are taken."""
        ok, wait_ms = self._acquire(keys=[self._leases(host), self._next(host)], args=[limit, self.lease_ms, token])
        if ok:
            return True, None
        return False, (wait_ms / 1000 if wait_ms >= 0 else None)

    def renew(self, host: str, tokens) -> int:
        """Push the leases of `tokens` out by one lease time; returns how many were still held."""
        tokens = list(tokens)
        if not tokens:
            return 0
        return int(self._renew(keys=[self._leases(host)], args=[self.lease_ms, *tokens]))

    def release(self, host: str, token: str) -> None:
        self.redis.zrem(self._leases(host), token)

    def hold(self, host: str, seconds: float) -> None:
        """No worker starts a request to `host` for `seconds` (a later hold never shortens it)."""
        if seconds > 0:
            self._hold(keys=[self._next(host)], args=[int(seconds * 1000)])

    def in_flight(self, host: str) -> int:
        return int(self.redis.zcount(self._leases(host), "(" + str(self._now_ms()), "+inf"))

    def _now_ms(self) -> int:
        sec, usec = self.redis.time()
        return int(sec) * 1000 + int(usec) // 1000


class SharedHostLimitMiddleware:
    """Downloader middleware, placed next to the downloader (after retry and redirect, which
    may answer with a new request and skip the middlewares before them), so every request
    that reaches the network holds a slot and every answer or error gives it back."""

    def __init__(self, crawler, slots: HostSlots, limit: int, poll: float, retry_after_max: float):
        self.crawler = crawler
        self.slots = slots
        self.limit = limit
        self.poll = poll
        self.retry_after_max = retry_after_max
        self.held: dict[str, set[str]] = defaultdict(set)
        # Set by the scan's scheduler (crawler.redis_queue): slots are given back with its
        # next pop, in the same round trip, instead of one call each.
        self.release_via = None
        self.closing = False
        self.failed: str | None = None
        self._heartbeat = None
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        url = s.get("GOVCHECK_REDIS_URL")
        if not url:
            raise NotConfigured("no GOVCHECK_REDIS_URL: Scrapy's per-process limit is enough")
        # The lease outlives a whole download (DOWNLOAD_TIMEOUT) only as a safety margin: live
        # processes renew, so it bounds how long a killed worker's slots stay taken.
        slots = HostSlots.from_url(url, s.get("GOVCHECK_REDIS_PREFIX", "govcheck"),
                                   s.getfloat("GOVCHECK_HOST_LEASE_SECONDS", 30.0))
        return cls(crawler, slots, s.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
                   s.getfloat("GOVCHECK_HOST_SLOT_POLL", 0.05), s.getfloat("GOVCHECK_RETRY_AFTER_MAX", 60.0))

    # ------------------------------------------------------------------ leases

    def _opened(self, spider=None):
        from twisted.internet import task

        if self._heartbeat is None:
            self._heartbeat = task.LoopingCall(self._renew)
            self._heartbeat.start(self.slots.lease_ms / 3000, now=False)

    def _renew(self):
        from redis import RedisError

        try:
            for host, tokens in list(self.held.items()):
                if tokens:
                    self.slots.renew(host, tokens)
        except RedisError as exc:
            self._redis_failed(exc)

    def _redis_failed(self, exc) -> None:
        if self.failed is not None:
            return
        self.failed = f"{type(exc).__name__}: {exc}"
        self.closing = True
        engine = self.crawler.engine
        if hasattr(engine, "close_spider_async"):
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason="redis_unavailable"))
        else:  # Scrapy < 2.14
            engine.close_spider(self.crawler.spider, "redis_unavailable")

    def _closed(self, spider=None, reason=None):
        self.closing = True
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        for host, tokens in list(self.held.items()):
            for token in list(tokens):
                self._give_back(host, token)
        self.held.clear()

    def _give_back(self, host: str, token: str) -> None:
        from redis import RedisError

        try:
            if self.release_via is not None and not self.closing:
                self.release_via(host, token)
            else:
                self.slots.release(host, token)
        except RedisError:
            pass   # the lease ends by itself

    def adopt(self, host: str, token: str) -> None:
        """A slot taken for a request elsewhere (the scan queue's pop): renewed and given back here."""
        self.held[host].add(token)

    def release(self, request) -> None:
        """Give back the slot `request` holds (a popped request that will not be sent)."""
        self._release(request)

    def _release(self, request) -> None:
        held = request.meta.pop(TOKEN, None)
        if held is not None:
            host, token = held
            self.held[host].discard(token)
            self._give_back(host, token)

    # ------------------------------------------------------------------ middleware

    async def process_request(self, request):
        from redis import RedisError
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        host = (urlparse_cached(request).hostname or "").lower().rstrip(".")
        if not host:
            return None
        if TOKEN in request.meta:
            # Taken by the scan queue's pop together with the request.
            self.adopt(*request.meta[TOKEN])
            return None
        token = uuid.uuid4().hex
        while True:
            if self.closing:
                raise IgnoreRequest(f"{host}: crawl closing while waiting for a shared host slot")
            try:
                ok, wait = self.slots.try_acquire(host, self.limit, token)
            except RedisError as exc:
                self._redis_failed(exc)
                raise IgnoreRequest(f"{host}: shared host limit unavailable ({exc})") from None
            if ok:
                break
            # Jittered polling: waiting workers do not all retry in the same millisecond.
            delay = wait if wait is not None else self.poll * (0.5 + random.random())  # noqa: S311
            await deferLater(reactor, delay, lambda: None)
        self.held[host].add(token)
        request.meta[TOKEN] = (host, token)
        return None

    def process_response(self, request, response):
        self._release(request)
        if response.status in (429, 503):
            delay = retry_after_seconds(response.headers.get(b"Retry-After"))
            if delay:
                from redis import RedisError

                host = (urlparse_cached(request).hostname or "").lower().rstrip(".")
                try:
                    self.slots.hold(host, min(delay, self.retry_after_max))
                except RedisError as exc:
                    self._redis_failed(exc)
        return response

    def process_exception(self, request, exception):
        self._release(request)
        return None
