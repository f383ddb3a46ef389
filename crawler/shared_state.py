"""The site spider's scan-wide sets and counters in Redis, for several workers of one scan.

A single process keeps them in memory (crawler/spiders/site.py): the pages scheduled per site
and the site's page budget, the targets checked anywhere in the scan and the link budget, the
hosts a site lives on, budgets that ended, when each site's crawl started. With N workers each
decision must be taken once for the scan, so each is one Redis call (a Lua script where a test
and a change must not be split by another worker). Crawl outcomes (homepage errors, events,
counters) are not kept here: every process writes them as database rows (site_outcomes).

Keys are the scan's (crawler.redis_queue.scan_keys); members are "site\\turl" where a set is
per site, so a scan has a fixed set of keys, all given an expiry.
"""

from __future__ import annotations

from crawler.redis_queue import KEY_TTL_SECONDS, ScanKeys

# A claim remembers its owner: the fingerprint of the request whose callback made it. A
# worker killed between claiming a page and queueing its request would otherwise lose the
# page for good — its response is crawled again (the lease ended), but the claim says
# "already scheduled". The same owner claiming again gets it again (the dupefilter drops the
# request if it did reach the queue); budgets are counted once.

# KEYS: pages, budgets, checked (hashes member → owner). ARGV: member, budget field, max
# pages, url, owner. 1 claimed, 0 already scheduled, -1 the site's page budget is used up.
_CLAIM_PAGE = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  if cur == ARGV[5] and ARGV[5] ~= '' then return 1 end
  return 0
end
if tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0') >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('HSETNX', KEYS[3], ARGV[4], ARGV[5])
return 1
"""

# KEYS: checked, budgets. ARGV: url, budget field, cap (0: none), owner.
# 1 claimed, 0 already checked, -1 the site's link budget is used up.
_CLAIM_CHECK = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  if cur == ARGV[4] and ARGV[4] ~= '' then return 1 end
  return 0
end
local cap = tonumber(ARGV[3])
if cap > 0 and tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0') >= cap then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return 1
"""

# KEYS: a claims hash. ARGV: member, owner. 1 when the member is new or already the owner's.
_CLAIM = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  if cur == ARGV[2] and ARGV[2] ~= '' then return 1 end
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

# KEYS: started. ARGV: site ids. Each site's start (first worker wins), and seconds since.
_STARTED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #ARGV do
  redis.call('HSETNX', KEYS[1], ARGV[i], now)
  out[i] = now - tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
end
return out
"""


def _member(site_id: int, value: str) -> str:
    return f"{site_id}\t{value}"


class SharedScanState:
    def __init__(self, client, keys: ScanKeys):
        self.redis = client
        self.keys = keys
        self._claim_page = client.register_script(_CLAIM_PAGE)
        self._claim_check = client.register_script(_CLAIM_CHECK)
        self._claim = client.register_script(_CLAIM)
        self._started = client.register_script(_STARTED)

    @classmethod
    def from_settings(cls, settings) -> SharedScanState:
        import redis

        from crawler.redis_queue import scan_keys

        client = redis.Redis.from_url(settings.get("GOVCHECK_REDIS_URL"), socket_timeout=5, socket_connect_timeout=5)
        return cls(client, scan_keys(settings.getint("GOVCHECK_SCAN_ID"), settings.get("GOVCHECK_REDIS_PREFIX")))

    def expire(self) -> None:
        pipe = self.redis.pipeline()
        for key in self.keys.all():
            pipe.expire(key, KEY_TTL_SECONDS)
        pipe.execute()

    # ------------------------------------------------------------------ frontier decisions

    def claim_page(self, site_id: int, url: str, max_pages: int, owner: str = "") -> int:
        k = self.keys
        return int(self._claim_page(keys=[k.pages, k.budgets, k.checked],
                                    args=[_member(site_id, url), f"pages:{site_id}", max_pages, url, owner]))

    def page_seen(self, site_id: int, url: str, owner: str = "") -> bool:
        """Mark `url` crawled as a page of the site (a redirect's target); True if another
        request had it already."""
        return self._claim(keys=[self.keys.pages], args=[_member(site_id, url), owner]) == 0

    def claim_check(self, site_id: int, url: str, cap: int, owner: str = "") -> int:
        k = self.keys
        return int(self._claim_check(keys=[k.checked, k.budgets], args=[url, f"links:{site_id}", cap or 0, owner]))

    def seed_checked(self, urls) -> None:
        """A resumed scan: targets it holds a result for count as checked (no owner claims them again)."""
        urls = list(urls)
        for i in range(0, len(urls), 1000):
            self.redis.hset(self.keys.checked, mapping=dict.fromkeys(urls[i:i + 1000], "stored"))

    def mark_checked(self, url: str, owner: str = "") -> bool:
        """True when `url` is new to the scan (an invalid link, recorded without a request)."""
        return self._claim(keys=[self.keys.checked], args=[url, owner]) == 1

    def end_budget(self, site_id: int, reason: str) -> tuple[bool, str]:
        """(whether this call ended it, the reason the scan keeps for the site)."""
        pipe = self.redis.pipeline()
        pipe.hsetnx(self.keys.partial, str(site_id), reason)
        pipe.hget(self.keys.partial, str(site_id))
        first, kept = pipe.execute()
        return bool(first), kept.decode() if kept is not None else reason

    def partial(self) -> dict[int, str]:
        return {int(k): v.decode() for k, v in self.redis.hgetall(self.keys.partial).items()}

    def add_netloc(self, site_id: int, netloc: str) -> None:
        self.redis.sadd(self.keys.netlocs, _member(site_id, netloc))

    def add_freshness(self, site_id: int, urls) -> None:
        urls = [_member(site_id, u) for u in urls]
        if urls:
            self.redis.sadd(self.keys.freshness, *urls)

    def by_site(self, key: str) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for m in self.redis.smembers(key):
            site, _, value = m.decode().partition("\t")
            out.setdefault(int(site), set()).add(value)
        return out

    def started(self, site_ids) -> dict[int, float]:
        """Seconds since each site's crawl started in the scan (the first worker to open starts it)."""
        ids = [int(s) for s in site_ids]
        if not ids:
            return {}
        return {s: ms / 1000 for s, ms in zip(ids, self._started(keys=[self.keys.started], args=ids))}
