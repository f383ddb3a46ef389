"""One scan's frontier in Redis, shared by every worker process (issue 18, DESIGN §8).

scrapy-redis gives the shared priority queue and dupefilter; what it does not give is a way
to survive a worker killed with SIGKILL: its PriorityQueue pops a request and forgets it, so
the requests that worker had in flight are lost and the scan would complete without them.
Here a pop is a lease:

- The queue is split per host (a sorted set each, and an index of the hosts with work), so
  `LeasedPriorityQueue.pop` can choose the host as Scrapy's DownloaderAwarePriorityQueue does
  in one process: the best-priority host whose shared slots (crawler/host_slots.py) are not
  all taken, and it takes that slot in the same step. A popped request goes straight to the
  network; a plain priority queue handed a worker many requests of one host, which then
  waited for that host's slots while holding the worker's CONCURRENT_REQUESTS.
- The pop moves the request (one Lua script) from the queue into the scan's "processing"
  sorted set, scored by when its lease ends on Redis's clock (TIME: machines with
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
import re
import time
import uuid
from dataclasses import dataclass

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

log = logging.getLogger("govcheck.redis_queue")

LEASE = "govcheck_lease"   # request.meta: the lease token of the queue entry it came from
SLOT = "govcheck_host_slot"   # request.meta: (host, token) of a shared host slot (crawler.host_slots.TOKEN)
KEY_TTL_SECONDS = 7 * 24 * 3600   # a scan's keys outlive any crawl; an abandoned one is dropped


@dataclass(frozen=True)
class ScanKeys:
    """Every Redis key of one scan: a fixed set, so they can all be given an expiry, plus one
    queue per host under `host_queue_prefix` (each push renews its expiry; `drop_scan` finds them)."""

    prefix: str
    scan_id: int

    def _k(self, name: str) -> str:
        return f"{self.prefix}:scan:{self.scan_id}:{name}"

    @property
    def queue(self) -> str:
        return self._k("queue")          # zset: host with queued requests → best score of its queue

    @property
    def host_queue_prefix(self) -> str:
        return self._k("q:")             # + host: zset encoded request → -priority (scrapy-redis)

    @property
    def queued(self) -> str:
        return self._k("queued")         # how many requests the per-host queues hold

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
        return [self.queue, self.queued, self.processing, self.inflight, self.deferred, self.seq, self.dupefilter, self.pages,
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

# Shared by every script that puts entries on the queue. KEYS[1] the index (host → best score
# of its queue), KEYS[2] the queued counter; ARGV[1] the per-host queue key prefix, ARGV[2]
# their expiry (ms): per-host keys are made as hosts appear, so each push renews its key's TTL.
_PUSH_FN = """
local function push(host, score, data)
  local q = ARGV[1] .. host
  if redis.call('ZADD', q, score, data) == 1 then redis.call('INCR', KEYS[2]) end
  redis.call('PEXPIRE', q, tonumber(ARGV[2]))
  local best = redis.call('ZSCORE', KEYS[1], host)
  if not best or score < tonumber(best) then redis.call('ZADD', KEYS[1], score, host) end
end
-- an inflight or deferred value: "score\\nhost\\ndata" / "host\\ndata"
local function push_value(v, score)
  local a = string.find(v, '\\n', 1, true)
  if score == nil then
    score = tonumber(string.sub(v, 1, a - 1))
    local b = string.find(v, '\\n', a + 1, true)
    push(string.sub(v, a + 1, b - 1), score, string.sub(v, b + 1))
  else
    push(string.sub(v, 1, a - 1), score, string.sub(v, a + 1))
  end
end
"""

# What a worker buffered since its last call, applied first by the script that carries it:
# ARGV[base] the number of host slots to give back, then (host, token) pairs, then entries
# (host, score, data, fingerprint) to queue unless the fingerprint ('' none) is in `df`, the
# scan's dupefilter. A response's slot release and its page's new requests thus ride on the
# next pop instead of costing a round trip each.
_APPLY_FN = """
local function apply(base, slotp, df)
  local i = base
  local nrel = tonumber(ARGV[i])
  i = i + 1
  for j = 1, nrel do
    redis.call('ZREM', slotp .. ARGV[i], ARGV[i + 1])
    i = i + 2
  end
  local n = 0
  while i + 3 <= #ARGV do
    if ARGV[i + 3] == '' or redis.call('SADD', df, ARGV[i + 3]) == 1 then
      push(ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2])
      n = n + 1
    end
    i = i + 4
  end
  return n
end
"""

# KEYS: index, queued, processing, inflight. ARGV[3]: how many ended leases to requeue at most.
_REQUEUE = _NOW + _PUSH_FN + _APPLY_FN + """
local n = 0
local ended = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, tok in ipairs(ended) do
  local v = redis.call('HGET', KEYS[4], tok)
  if v then
    push_value(v)
    redis.call('HDEL', KEYS[4], tok)
    n = n + 1
  end
  redis.call('ZREM', KEYS[3], tok)
end
"""

# KEYS: index, queued, processing, inflight, deferred, seq, dupefilter. ARGV: qprefix, ttl,
# requeue batch, lease ms, host limit (0: none), host-slots key prefix, host-next key prefix,
# slot lease ms, slot token, hosts looked at at most, then what the worker buffered (_APPLY_FN).
# The host: the best-priority host whose shared slots are not all taken (and not held off by a
# Retry-After); its slot is taken here, in the same step, so a popped request is sent at once
# instead of waiting for a slot inside the downloader while it holds a place of
# CONCURRENT_REQUESTS (head-of-line blocking). A host with no free slot is passed over, as
# Scrapy's DownloaderAwarePriorityQueue passes over busy downloader slots.
_POP = _REQUEUE + """
apply(11, ARGV[6], KEYS[7])
if tonumber(redis.call('GET', KEYS[2]) or '0') <= 0 and redis.call('ZCARD', KEYS[3]) == 0
   and redis.call('EXISTS', KEYS[5]) == 1 then
  local d = redis.call('ZRANGE', KEYS[5], 0, -1, 'WITHSCORES')
  for i = 1, #d, 2 do push_value(d[i], tonumber(d[i + 1])) end
  redis.call('DEL', KEYS[5])
end
local limit = tonumber(ARGV[5])
local hosts = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[10]) - 1)
local chosen = nil
for _, host in ipairs(hosts) do
  if limit <= 0 or host == '' then chosen = host break end
  local sk = ARGV[6] .. host
  redis.call('ZREMRANGEBYSCORE', sk, '-inf', now)
  if tonumber(redis.call('GET', ARGV[7] .. host) or '0') <= now and redis.call('ZCARD', sk) < limit then
    redis.call('ZADD', sk, now + tonumber(ARGV[8]), ARGV[9])
    redis.call('PEXPIRE', sk, 2 * tonumber(ARGV[8]))
    chosen = host
    break
  end
end
if chosen == nil then
  if #hosts > 0 then return {false, false, false, #hosts} end
  return false
end
local q = ARGV[1] .. chosen
local item = redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')
if #item == 0 then
  redis.call('ZREM', KEYS[1], chosen)   -- cannot happen while every change goes through these scripts
  if limit > 0 and chosen ~= '' then redis.call('ZREM', ARGV[6] .. chosen, ARGV[9]) end
  return false
end
redis.call('ZREM', q, item[1])
redis.call('DECR', KEYS[2])
local nxt = redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')
if #nxt == 0 then redis.call('ZREM', KEYS[1], chosen) else redis.call('ZADD', KEYS[1], nxt[2], chosen) end
local tok = tostring(redis.call('INCR', KEYS[6]))
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), tok)
redis.call('HSET', KEYS[4], tok, item[2] .. '\\n' .. chosen .. '\\n' .. item[1])
local slotted = 0
if limit > 0 and chosen ~= '' then slotted = 1 end
return {tok, item[1], chosen, slotted}
"""

# KEYS: index, queued, dupefilter. ARGV: qprefix, ttl, host-slots key prefix, then what is
# buffered (_APPLY_FN). Returns how many entries were queued.
_PUSH = _PUSH_FN + _APPLY_FN + """
return apply(4, ARGV[3], KEYS[3])
"""

# KEYS: index, queued, processing, inflight. ARGV: qprefix, ttl, tokens… Leased entries back on
# the queue now (a worker's clean stop); returns how many were still held.
_GIVE_BACK = _PUSH_FN + """
local n = 0
for i = 3, #ARGV do
  local v = redis.call('HGET', KEYS[4], ARGV[i])
  if v then push_value(v) n = n + 1 end
  redis.call('HDEL', KEYS[4], ARGV[i])
  redis.call('ZREM', KEYS[3], ARGV[i])
end
return n
"""

# KEYS: index, queued, processing, inflight, deferred. Requeue ended leases, then count what is left.
_PENDING = _REQUEUE + """
return {tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[5]), n}
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

ACK_BATCH = 500        # finished entries that make the scheduler commit and ack without waiting
HOSTS_LOOKED_AT = 512   # per pop: far more hosts than a crawl's processes can keep busy at once


def host_of(request) -> str:
    """The host a request's slots are counted on (as crawler.host_slots counts them)."""
    from scrapy.utils.httpobj import urlparse_cached

    return (urlparse_cached(request).hostname or "").lower().rstrip(".")


def scan_pending(client, keys: ScanKeys) -> int:
    """What scan `keys` still has queued, leased or deferred (0: its crawl is complete)."""
    got = client.register_script(_PENDING)(
        keys=[keys.queue, keys.queued, keys.processing, keys.inflight, keys.deferred],
        args=[keys.host_queue_prefix, KEY_TTL_SECONDS * 1000, 1000])
    return int(got[0]) + int(got[1]) + int(got[2])


def drop_scan(client, keys: ScanKeys) -> None:
    """Delete every key of the scan, the per-host queues included."""
    client.delete(*keys.all())
    pattern = re.sub(r"([*?\[\]\\])", r"\\\1", keys.host_queue_prefix) + "*"
    batch = []
    for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)


class LeasedPriorityQueue(PriorityQueue):
    """scrapy-redis's PriorityQueue split per host, whose pop leases the request instead of
    forgetting it (and, with a shared host limit, takes the host's slot for it).

    Layout: a sorted set per host (encoded request → -priority, as scrapy-redis scores), the
    index `key` (host → the best score of its queue) and a counter of queued entries. Within a
    host requests come by priority; across hosts, the best-priority host that has a free slot.
    `host_limit` 0 means no shared limit (the best-priority host is taken, busy or not)."""

    def __init__(self, server, spider, key, serializer=None, keys: ScanKeys | None = None,
                 lease_seconds: float = 30.0, host_limit: int = 0, slot_prefix: str = "govcheck",
                 slot_lease_seconds: float = 30.0):
        super().__init__(server, spider, key, serializer)
        if keys is None:
            raise ValueError("LeasedPriorityQueue needs the scan's keys (crawler.redis_queue.scan_keys)")
        self.keys = keys
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.host_limit = int(host_limit or 0)
        self.slot_prefix = slot_prefix
        self.slot_lease_ms = max(1, int(slot_lease_seconds * 1000))
        self.busy_hosts = 0   # hosts with work the last empty pop passed over (all their slots taken)
        self.outbox: list = []     # entries to queue with the next call (flattened, 4 fields each)
        self.releases: list = []   # host slots to give back with the next call (host, token, …)
        self.closed = False
        self._pop = server.register_script(_POP)
        self._push = server.register_script(_PUSH)
        self._give_back = server.register_script(_GIVE_BACK)
        self._renew = server.register_script(_RENEW)
        self._ack = server.register_script(_ACK)

    def _entry(self, request, fingerprint: str = "") -> list:
        return [host_of(request), -request.priority, self._encode_request(request), fingerprint]

    def _buffered(self) -> list:
        return [len(self.releases) // 2, *self.releases, *self.outbox]

    def push(self, request):
        self.push_new(request, "")

    def push_new(self, request, fingerprint: str) -> bool:
        """Queue `request` now unless `fingerprint` (not '') is already in the scan's
        dupefilter; True when queued (what was buffered goes first)."""
        self.flush()
        self.outbox.extend(self._entry(request, fingerprint))
        return self.flush() == 1

    def buffer(self, request, fingerprint: str) -> None:
        """Queue `request` with this worker's next call to Redis (the next pop, at the latest
        `flush`), unless `fingerprint` (not '') is in the scan's dupefilter by then."""
        self.outbox.extend(self._entry(request, fingerprint))

    def release_later(self, host: str, token: str) -> None:
        """Give back a host slot with the next call (at once once the queue is closed)."""
        if self.closed:
            from crawler.host_slots import slots_key_prefix

            self.server.zrem(slots_key_prefix(self.slot_prefix)[0] + host, token)
        else:
            self.releases.extend((host, token))

    def flush(self) -> int:
        """Send what is buffered; returns how many buffered requests were queued."""
        if not self.outbox and not self.releases:
            return 0
        from crawler.host_slots import slots_key_prefix

        k = self.keys
        args = [k.host_queue_prefix, KEY_TTL_SECONDS * 1000, slots_key_prefix(self.slot_prefix)[0], *self._buffered()]
        self.outbox, self.releases = [], []
        return int(self._push(keys=[k.queue, k.queued, k.dupefilter], args=args))

    def defer(self, request) -> None:
        """Queue `request` for when the scan's crawl is otherwise idle."""
        self.server.execute_command("ZADD", self.keys.deferred, -request.priority,
                                    host_of(request).encode() + b"\n" + self._encode_request(request))

    def pop(self, timeout=0):
        """The best request of the best-priority host with a free slot, leased to this worker
        (meta[LEASE] is its token; with a host limit, meta[SLOT] its host slot)."""
        from crawler.host_slots import slots_key_prefix

        k = self.keys
        slot_token = uuid.uuid4().hex
        args = [k.host_queue_prefix, KEY_TTL_SECONDS * 1000, 100, self.lease_ms, self.host_limit,
                *slots_key_prefix(self.slot_prefix), self.slot_lease_ms, slot_token, HOSTS_LOOKED_AT,
                *self._buffered()]
        self.outbox, self.releases = [], []
        got = self._pop(keys=[k.queue, k.queued, k.processing, k.inflight, k.deferred, k.seq, k.dupefilter],
                        args=args)
        if not got:
            self.busy_hosts = 0
            return None
        token, data, host, slotted = got
        if token is None:
            self.busy_hosts = int(slotted)
            return None
        self.busy_hosts = 0
        request = self._decode_request(data)
        request.meta[LEASE] = token.decode() if isinstance(token, bytes) else str(token)
        if slotted:
            request.meta[SLOT] = (host.decode(), slot_token)
        return request

    def give_back(self, tokens) -> int:
        """Put leased entries back on the queue now (a clean stop of this worker)."""
        tokens = list(tokens)
        if not tokens:
            return 0
        k = self.keys
        return int(self._give_back(keys=[k.queue, k.queued, k.processing, k.inflight],
                                   args=[k.host_queue_prefix, KEY_TTL_SECONDS * 1000, *tokens]))

    def pending(self) -> int:
        """Requests of the scan queued, leased or deferred (ended leases are requeued first)."""
        self.flush()
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

    def clear(self):
        drop_scan(self.server, self.keys)

    def __len__(self):
        return int(self.server.get(self.keys.queued) or 0)


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
        self._last_ack = time.monotonic()
        self._commit_seconds = 0.0   # how long the last commit and ack took
        self.ack_seconds = 2.0
        self.host_limit = 0
        self.slot_lease_seconds = 30.0
        self._slots_mw = None

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
        instance.ack_seconds = s.getfloat("GOVCHECK_QUEUE_ACK_SECONDS", 2.0)
        from crawler.host_slots import shared_limit_enabled

        if shared_limit_enabled(s):
            # The pop takes the host slot the downloader middleware would otherwise wait for.
            instance.host_limit = s.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
            instance.slot_lease_seconds = s.getfloat("GOVCHECK_HOST_LEASE_SECONDS", 30.0)
        instance.stats = crawler.stats
        instance.crawler = crawler
        return instance

    def open(self, spider):
        from twisted.internet import task

        self.spider = spider
        self.queue = LeasedPriorityQueue(self.server, spider, self.keys.queue, self.serializer, keys=self.keys,
                                         lease_seconds=self.lease_seconds, host_limit=self.host_limit,
                                         slot_prefix=self.keys.prefix, slot_lease_seconds=self.slot_lease_seconds)
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
            self.queue.flush()
            self._commit_and_ack()
        except RedisError:
            pass   # the leases end by themselves and the entries are crawled again
        self.queue.closed = True
        if self.held and reason != "finished":
            # Stopped early (SIGTERM): give what this worker holds back at once rather than
            # making the others wait for the leases to end.
            try:
                self._give_back(list(self.held))
            except RedisError:
                pass

    def _give_back(self, tokens: list[str]) -> None:
        """Put leased entries back on the queue now (a clean stop of this worker)."""
        self.queue.give_back(tokens)
        self.held.clear()

    # ------------------------------------------------------------------ queue

    def enqueue_request(self, request):
        parent = request.meta.get(LEASE)
        if parent is not None:
            # A retry or redirect of a leased request: the same work, already counted by the
            # dupefilter when it was first scheduled. Pushed first, then the original released.
            del request.meta[LEASE]
            self.queue.push(request)   # with whatever was buffered, before the release
            self.queue.ack([parent])
            self.held.discard(parent)
            if self.stats:
                self.stats.inc_value("scheduler/enqueued/redis")
            return True
        # Buffered until this worker's next pop (or tick, or commit): the dupefilter decides
        # then, in Redis, so a request found a duplicate is dropped there (nothing listens to
        # Scrapy's request_dropped; the spider's claims keep duplicates rare).
        self.queue.buffer(request, "" if request.dont_filter else self.df.request_fingerprint(request))
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
            self._adopt_slot(request)
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
            admit = getattr(self.spider, "admit", None)
            if admit is None:
                return request
            # The spider may turn a popped entry into the request to send (a deferred check
            # that is still wanted) or drop it (None): then its lease and host slot are given
            # up at once.
            real = admit(request)
            if real is None:
                # Nothing of it is stored: no commit to wait for.
                self._release_slot(request)
                self.held.discard(token)
                try:
                    self.queue.ack([token])
                except RedisError as exc:
                    self._redis_failed(exc)
                    return None
                continue
            real.meta[LEASE] = token
            if real is not request and SLOT in request.meta:
                real.meta[SLOT] = request.meta[SLOT]
            return real

    def _slots(self):
        """The crawl's SharedHostLimitMiddleware (it renews and gives back the slots pops take)."""
        if self._slots_mw is None:
            from crawler.host_slots import SharedHostLimitMiddleware

            engine = self._engine()
            if engine is None:
                return None
            mws = getattr(getattr(getattr(engine, "downloader", None), "middleware", None), "middlewares", ())
            self._slots_mw = next((m for m in mws if isinstance(m, SharedHostLimitMiddleware)), False)
            if self._slots_mw:
                self._slots_mw.release_via = self.queue.release_later
        return self._slots_mw or None

    def _adopt_slot(self, request) -> None:
        if SLOT in request.meta and (mw := self._slots()) is not None:
            mw.adopt(*request.meta[SLOT])

    def _release_slot(self, request) -> None:
        if SLOT in request.meta and (mw := self._slots()) is not None:
            mw.release(request)

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

    def _commit_and_ack(self, force: bool = True) -> None:
        """Commit the store and ack what it holds. A commit is a PostgreSQL transaction over
        several tables: one every tick (0.2 s) was a quarter of a busy worker's time. Unforced
        (the tick), it waits until ten times the last commit's duration has passed (at most
        ack_seconds), so commits take about a tenth of the time whatever the database's speed,
        and a quick database still gets them every tick; at once when nothing this worker
        holds is still in flight (the scan may be ending). Held entries keep their leases
        meanwhile (renewed): a worker killed before its commit has its last second or so
        crawled again, as a killed single process loses its last seconds."""
        if not self.finished:
            return
        now = time.monotonic()
        wait = min(self.ack_seconds, 10 * self._commit_seconds)
        if not force and now - self._last_ack < wait and len(self.finished) < len(self.held) \
                and len(self.finished) < ACK_BATCH:
            return
        store = getattr(self.spider, "store", None)
        if store is not None:
            store.flush()
        tokens, self.finished = self.finished, []
        self.queue.flush()   # what their callbacks queued goes before they are released
        self.queue.ack(tokens)
        self.held.difference_update(tokens)
        self._last_ack = time.monotonic()
        self._commit_seconds = self._last_ack - now

    def _tick(self) -> None:
        from redis import RedisError

        try:
            self._commit_and_ack(force=False)
            self.queue.flush()
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
