"""One scan's frontier in Redis, shared by every worker process (issue 18, DESIGN §8).

scrapy-redis gives the shared priority queue and dupefilter; what it does not give is a way
to survive a worker killed with SIGKILL: its PriorityQueue pops a request and forgets it, so
the requests that worker had in flight are lost and the scan would complete without them.
Here a pop is a lease:

- `LeasedPriorityQueue.pop` moves the request (one Lua script) from the queue into the scan's
  "processing" sorted set, scored by when its lease ends on Redis's clock (TIME: machines with
  drifting clocks agree). Any worker's pop first puts requests whose lease ended back on the
  queue, so a dead worker's requests are crawled by the others once its leases run out.
- The worker acks a request once what its callback produced is committed to the database
  (the spider calls `LeasedScheduler.done`; the scheduler flushes the store, then acks), and
  renews the leases of everything it holds, so a slow download is never taken from a live
  worker. A retry or redirect of a leased request is pushed as a new entry and then releases
  the original lease, in that order: the scan never looks empty in between.
- A scan is complete when nothing is queued, leased or deferred (`pending() == 0`); the
  scheduler keeps its worker open until then, since any lease still held may yet produce
  requests.
- Deferred requests (the spider's pages of another registered site, checked only once the
  crawl is otherwise idle) wait in their own sorted set and go onto the queue when the queue
  and the processing set are both empty — the shared form of the spider's idle hook.

Key names of a scan are made in one place (`scan_keys`), and `settings_for` gives the Scrapy
settings that turn a crawl into a worker of a scan.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

log = logging.getLogger("govcheck.redis_queue")

LEASE = "govcheck_lease"   # request.meta: the lease token of the queue entry it came from
KEY_TTL_SECONDS = 7 * 24 * 3600   # a scan's keys outlive any crawl; an abandoned one is dropped


@dataclass(frozen=True)
class ScanKeys:
    """Every Redis key of one scan (a fixed set, so they can all be given an expiry)."""

    prefix: str
    scan_id: int

    def _k(self, name: str) -> str:
        return f"{self.prefix}:scan:{self.scan_id}:{name}"

    @property
    def queue(self) -> str:
        return self._k("queue")          # zset: encoded request → -priority (scrapy-redis)

    @property
    def processing(self) -> str:
        return self._k("processing")     # zset: lease token → lease deadline (ms, Redis clock)

    @property
    def inflight(self) -> str:
        return self._k("inflight")       # hash: lease token → "score\n" + encoded request

    @property
    def deferred(self) -> str:
        return self._k("deferred")       # zset like queue: released when the crawl is idle

    @property
    def seq(self) -> str:
        return self._k("seq")            # lease token counter

    @property
    def dupefilter(self) -> str:
        return self._k("dupefilter")

    @property
    def pages(self) -> str:
        return self._k("pages")          # hash: "site\turl" scheduled as a page → claim owner

    @property
    def checked(self) -> str:
        return self._k("checked")        # hash: target scheduled anywhere in the scan → owner

    @property
    def budgets(self) -> str:
        return self._k("budgets")        # hash: "pages:site" / "links:site" → count

    @property
    def partial(self) -> str:
        return self._k("partial")        # hash: site → why its budget ended

    @property
    def netlocs(self) -> str:
        return self._k("netlocs")        # set: "site\tnetloc" the site lives on

    @property
    def freshness(self) -> str:
        return self._k("freshness")      # set: "site\turl" freshness pages found by a worker

    @property
    def started(self) -> str:
        return self._k("started")        # hash: site → when its crawl started (ms, Redis clock)

    @property
    def spec(self) -> str:
        return self._k("spec")           # what a worker needs to join the scan (pickled)

    @property
    def state(self) -> str:
        return self._k("state")          # "crawling" | "stopped: why"

    def all(self) -> list[str]:
        return [self.queue, self.processing, self.inflight, self.deferred, self.seq, self.dupefilter, self.pages,
                self.checked, self.budgets, self.partial, self.netlocs, self.freshness, self.started, self.spec,
                self.state]


def scan_keys(scan_id: int, prefix: str = "govcheck") -> ScanKeys:
    return ScanKeys(prefix, int(scan_id))


def active_scans_key(prefix: str = "govcheck") -> str:
    """Set of scan ids whose crawl workers may join (`govcheck worker` polls it)."""
    return f"{prefix}:scans"


def settings_for(scan_id: int, redis_url: str, prefix: str = "govcheck", lease_seconds: float = 30.0) -> dict:
    """Scrapy settings that make a crawl one worker of scan `scan_id`."""
    keys = scan_keys(scan_id, prefix)
    return {
        "SCHEDULER": "crawler.redis_queue.LeasedScheduler",
        "DUPEFILTER_CLASS": "crawler.redis_queue.ScanDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "crawler.redis_queue.LeasedPriorityQueue",
        "SCHEDULER_QUEUE_KEY": keys.queue,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        # Other workers go on after this one closes: nothing is flushed on close.
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": redis_url,
        # A Redis that hangs must fail within seconds, not stall the reactor thread.
        "REDIS_PARAMS": {"socket_timeout": 5, "socket_connect_timeout": 5, "retry_on_timeout": False},
        "GOVCHECK_REDIS_URL": redis_url,
        "GOVCHECK_REDIS_PREFIX": prefix,
        "GOVCHECK_SCAN_ID": scan_id,
        "GOVCHECK_QUEUE_LEASE_SECONDS": lease_seconds,
        "GOVCHECK_SHARED_SCAN": True,   # the site spider keeps its scan-wide sets in Redis
    }


def connect(url: str):
    """A client for `url`, checked with a PING; ValueError names the URL if it is bad or down."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        client.ping()
    except ValueError as exc:
        raise ValueError(f"--redis {url!r}: not a Redis URL ({exc})") from None
    except redis.RedisError as exc:
        raise ValueError(f"--redis {url!r}: Redis cannot be reached ({exc})") from None
    return client


_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: queue, processing, inflight. Requeue up to ARGV[1] requests whose lease has ended.
_REQUEUE = _NOW + """
local n = 0
local ended = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, tok in ipairs(ended) do
  local v = redis.call('HGET', KEYS[3], tok)
  if v then
    local sep = string.find(v, '\\n', 1, true)
    redis.call('ZADD', KEYS[1], tonumber(string.sub(v, 1, sep - 1)), string.sub(v, sep + 1))
    redis.call('HDEL', KEYS[3], tok)
    n = n + 1
  end
  redis.call('ZREM', KEYS[2], tok)
end
"""

# KEYS: queue, processing, inflight, deferred, seq. ARGV: requeue batch, lease ms.
_POP = _REQUEUE + """
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 and redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('ZUNIONSTORE', KEYS[1], 1, KEYS[4])
  redis.call('DEL', KEYS[4])
end
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREM', KEYS[1], item[1])
local tok = tostring(redis.call('INCR', KEYS[5]))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), tok)
redis.call('HSET', KEYS[3], tok, item[2] .. '\\n' .. item[1])
return {tok, item[1]}
"""

# KEYS: queue, processing, inflight, deferred. Requeue ended leases, then count what is left.
_PENDING = _REQUEUE + """
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[4]), n}
"""

# KEYS: processing. ARGV: lease ms, tokens… Only leases still held are pushed out (XX).
_RENEW = _NOW + """
local kept = 0
for i = 2, #ARGV do
  kept = kept + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[i])
end
return kept
"""

# KEYS: processing, inflight. ARGV: tokens. Returns how many were still held.
_ACK = """
local held = 0
for i = 1, #ARGV do
  held = held + redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return held
"""


def scan_pending(client, keys: ScanKeys) -> int:
    """What scan `keys` still has queued, leased or deferred (0: its crawl is complete)."""
    got = client.register_script(_PENDING)(keys=[keys.queue, keys.processing, keys.inflight, keys.deferred],
                                           args=[1000])
    return int(got[0]) + int(got[1]) + int(got[2])


class LeasedPriorityQueue(PriorityQueue):
    """scrapy-redis's PriorityQueue whose pop leases the request instead of forgetting it."""

    def __init__(self, server, spider, key, serializer=None, keys: ScanKeys | None = None,
                 lease_seconds: float = 30.0):
        super().__init__(server, spider, key, serializer)
        if keys is None:
            raise ValueError("LeasedPriorityQueue needs the scan's keys (crawler.redis_queue.scan_keys)")
        self.keys = keys
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self._pop = server.register_script(_POP)
        self._renew = server.register_script(_RENEW)
        self._ack = server.register_script(_ACK)

    def push(self, request):
        super().push(request)

    def defer(self, request) -> None:
        """Queue `request` for when the scan's crawl is otherwise idle."""
        self.server.execute_command("ZADD", self.keys.deferred, -request.priority, self._encode_request(request))

    def pop(self, timeout=0):
        """The highest-priority request, leased to this worker (meta[LEASE] is its token)."""
        k = self.keys
        got = self._pop(keys=[k.queue, k.processing, k.inflight, k.deferred, k.seq], args=[100, self.lease_ms])
        if not got:
            return None
        token, data = got
        request = self._decode_request(data)
        request.meta[LEASE] = token.decode() if isinstance(token, bytes) else str(token)
        return request

    def pending(self) -> int:
        """Requests of the scan queued, leased or deferred (ended leases are requeued first)."""
        return scan_pending(self.server, self.keys)

    def leased(self) -> int:
        return int(self.server.zcard(self.keys.processing))

    def renew(self, tokens) -> int:
        tokens = list(tokens)
        if not tokens:
            return 0
        return int(self._renew(keys=[self.keys.processing], args=[self.lease_ms, *tokens]))

    def ack(self, tokens) -> int:
        """The entries are done with; returns how many this worker still held (an ended lease
        may have been requeued and taken by another worker meanwhile)."""
        tokens = list(tokens)
        if not tokens:
            return 0
        return int(self._ack(keys=[self.keys.processing, self.keys.inflight], args=tokens))

    def __len__(self):
        return int(self.server.zcard(self.key))


def fingerprint(scan_id: int, request) -> str:
    """Two requests of one scan are the same work when method, exact URL and role match (and,
    for a site's own pages and footer includes, the site): the spider's own sets decide what is
    new with exact URLs, so the URL is not canonicalised here (that would merge targets the
    single process checks apart). The scan id keeps scans apart in one Redis."""
    meta = request.meta
    role = meta.get("role", "")
    site = meta.get("site_id", "") if role in ("page", "include") else ""
    data = f"{scan_id}\n{request.method}\n{role}\n{site}\n{request.url}".encode("utf-8", "surrogateescape")
    return hashlib.sha1(data).hexdigest()


class ScanDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter keyed per scan, with the scan in the fingerprint."""

    def __init__(self, server, key, debug=False, scan_id: int = 0):
        super().__init__(server, key, debug)
        self.scan_id = scan_id

    @classmethod
    def from_spider(cls, spider):
        filt = super().from_spider(spider)
        filt.scan_id = spider.settings.getint("GOVCHECK_SCAN_ID")
        return filt

    def request_fingerprint(self, request):
        return fingerprint(self.scan_id, request)

    def close(self, reason=""):
        pass   # the fingerprints belong to the scan, not to this worker


class LeasedScheduler(Scheduler):
    """scrapy-redis's Scheduler over a LeasedPriorityQueue.

    It renews the leases of what this worker holds, acks what is done once the spider's store
    has committed it, and tells the engine there is work pending while the scan has anything
    queued, leased or deferred, so a worker whose own requests are done stays open while
    another's in-flight page may still add to the frontier."""

    def __init__(self, server, *args, scan_id: int = 0, prefix: str = "govcheck", lease_seconds: float = 30.0,
                 poll: float = 0.2, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.keys = scan_keys(scan_id, prefix)
        self.lease_seconds = lease_seconds
        self.poll = poll
        self.held: set[str] = set()     # tokens leased to this worker and not acked
        self.finished: list[str] = []   # tokens whose outputs wait for the store's commit
        self.crawler = None
        self.failed: str | None = None
        self._loop = None
        self._last_renew = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        scan_id = s.getint("GOVCHECK_SCAN_ID")
        if not scan_id:
            raise ValueError("LeasedScheduler needs GOVCHECK_SCAN_ID")
        instance = cls.from_settings(s)   # scrapy-redis: connects and PINGs
        instance.persist = True
        instance.keys = scan_keys(scan_id, s.get("GOVCHECK_REDIS_PREFIX", "govcheck"))
        instance.lease_seconds = s.getfloat("GOVCHECK_QUEUE_LEASE_SECONDS", 30.0)
        instance.poll = s.getfloat("GOVCHECK_QUEUE_POLL", 0.2)
        instance.stats = crawler.stats
        instance.crawler = crawler
        return instance

    def open(self, spider):
        from twisted.internet import task

        self.spider = spider
        self.queue = LeasedPriorityQueue(self.server, spider, self.keys.queue, self.serializer, keys=self.keys,
                                         lease_seconds=self.lease_seconds)
        if not self.df:
            self.df = ScanDupeFilter.from_spider(spider)
        bind = getattr(spider, "bind_frontier", None)
        if bind is not None:
            bind(self)
        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.poll, now=False)

    def close(self, reason):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        from redis import RedisError

        try:
            self._commit_and_ack()
        except RedisError:
            pass   # the leases end by themselves and the entries are crawled again
        if self.held and reason != "finished":
            # Stopped early (SIGTERM): give what this worker holds back at once rather than
            # making the others wait for the leases to end.
            try:
                self._give_back(list(self.held))
            except RedisError:
                pass

    def _give_back(self, tokens: list[str]) -> None:
        """Put leased entries back on the queue now (a clean stop of this worker)."""
        k = self.keys
        pipe = self.server.pipeline()
        for tok in tokens:
            pipe.hget(k.inflight, tok)
        values = pipe.execute()
        pipe = self.server.pipeline()
        for tok, v in zip(tokens, values):
            if v is not None:
                score, _, data = v.partition(b"\n")
                pipe.execute_command("ZADD", k.queue, float(score), data)
            pipe.zrem(k.processing, tok)
            pipe.hdel(k.inflight, tok)
        pipe.execute()
        self.held.clear()

    # ------------------------------------------------------------------ queue

    def enqueue_request(self, request):
        parent = request.meta.get(LEASE)
        if parent is not None:
            # A retry or redirect of a leased request: the same work, already counted by the
            # dupefilter when it was first scheduled. Pushed first, then the original released.
            del request.meta[LEASE]
            self.queue.push(request)
            self.queue.ack([parent])
            self.held.discard(parent)
            if self.stats:
                self.stats.inc_value("scheduler/enqueued/redis")
            return True
        if not request.dont_filter and self.df.request_seen(request):
            return False
        self.queue.push(request)
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def defer(self, request) -> bool:
        """Queue `request` (deduplicated) for when the scan's crawl is otherwise idle."""
        if not request.dont_filter and self.df.request_seen(request):
            return False
        self.queue.defer(request)
        return True

    def next_request(self):
        from redis import RedisError

        while True:
            try:
                request = self.queue.pop()
            except RedisError as exc:
                self._redis_failed(exc)
                return None
            if request is None:
                return None
            token = request.meta[LEASE]
            self.held.add(token)
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
            admit = getattr(self.spider, "admit", None)
            if admit is None:
                return request
            # The spider may turn a popped entry into the request to send (a deferred check
            # that is still wanted) or drop it (None): then its lease is given up at once.
            real = admit(request)
            if real is None:
                self.done(request)
                continue
            real.meta[LEASE] = token
            return real

    def has_pending_requests(self):
        from redis import RedisError

        if self.failed is not None:
            return False
        try:
            return self.pending() > 0
        except RedisError as exc:
            self._redis_failed(exc)
            return False

    def pending(self) -> int:
        return self.queue.pending()

    # ------------------------------------------------------------------ leases

    def done(self, request) -> None:
        """The request's callback (or errback) has handed all its outputs on: ack it once the
        store has committed them."""
        token = request.meta.get(LEASE)
        if token is not None and token in self.held:
            self.finished.append(token)

    def _commit_and_ack(self) -> None:
        if not self.finished:
            return
        store = getattr(self.spider, "store", None)
        if store is not None:
            store.flush()
        tokens, self.finished = self.finished, []
        self.queue.ack(tokens)
        self.held.difference_update(tokens)

    def _tick(self) -> None:
        from redis import RedisError

        try:
            self._commit_and_ack()
            now = time.monotonic()
            if self.held and now - self._last_renew >= self.lease_seconds / 3:
                self._last_renew = now
                self.queue.renew(self.held)
        except RedisError as exc:
            self._redis_failed(exc)
            return
        # The engine looks at the scheduler on its own only every 5 s once it has nothing
        # in flight: work another worker queued is picked up within one poll instead.
        slot = getattr(self._engine(), "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def _engine(self):
        try:
            return self.crawler.engine if self.crawler is not None else None
        except RuntimeError:   # not crawling (yet)
            return None

    def _redis_failed(self, exc) -> None:
        if self.failed is not None:
            return
        self.failed = f"{type(exc).__name__}: {exc}"
        log.error("scan %s: Redis failed (%s); this worker stops", self.keys.scan_id, self.failed)
        engine = self._engine()
        if engine is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason="redis_unavailable"))
