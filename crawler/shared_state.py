"""The site spider's scan-wide sets and counters in Redis, for several workers of one scan.

A single process keeps them in memory (crawler/spiders/site.py): the pages scheduled per site
and the site's page budget, the targets checked anywhere in the scan and the link budget, the
hosts a site lives on, budgets that ended, when each site's crawl started. With N workers each
decision must be taken once for the scan, in Redis (a Lua script where a test and a change
must not be split by another worker); the claims a page's links make are one call. Crawl outcomes (homepage errors, events,
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

# Every claim — a page of a site (and its budget), a checked target (and the site's link
# budget), a mark — is an entry of this one script, so a page's new links are claimed in one
# round trip (SharedScanState.claim_many). KEYS: pages, budgets, checked (hashes member →
# owner). ARGV[1]: owner; then per entry 6 fields: which hash (1 pages, 3 checked), member,
# budget field ('' none), cap (-1 none), a URL marked checked with it ('' none), and '1' when
# the entry is tried only if the entry before it did not claim (a page link already taken is
# checked as a target instead). Per entry: 1 claimed, 2 already the owner's, 0 someone
# else's, -1 the budget is used up, -2 not tried.
_CLAIM = """
local owner = ARGV[1]
local out = {}
local last = 0
for i = 2, #ARGV, 6 do
  local r
  if ARGV[i + 5] == '1' and last > 0 then
    r = -2
  else
    local h = KEYS[tonumber(ARGV[i])]
    local member, field, cap, also = ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4]
    local cur = redis.call('HGET', h, member)
    if cur then
      if cur == owner and owner ~= '' then r = 2 else r = 0 end
    elseif field ~= '' and cap >= 0 and tonumber(redis.call('HGET', KEYS[2], field) or '0') >= cap then
      r = -1
    else
      redis.call('HSET', h, member, owner)
      if field ~= '' then redis.call('HINCRBY', KEYS[2], field, 1) end
      if also ~= '' then redis.call('HSETNX', KEYS[3], also, owner) end
      r = 1
    end
  end
  out[#out + 1] = r
  last = r
end
return out
"""

# Entries of _CLAIM (without the owner) that were claimed (1) and then not used: given back,
# budgets uncounted, where the owner still holds them.
_UNCLAIM = """
local owner = ARGV[1]
for i = 2, #ARGV, 6 do
  local h = KEYS[tonumber(ARGV[i])]
  if redis.call('HGET', h, ARGV[i + 1]) == owner then
    redis.call('HDEL', h, ARGV[i + 1])
    if ARGV[i + 2] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[i + 2], -1) end
    if ARGV[i + 4] ~= '' and redis.call('HGET', KEYS[3], ARGV[i + 4]) == owner then
      redis.call('HDEL', KEYS[3], ARGV[i + 4])
    end
  end
end
return 1
"""

_PAGES, _CHECKED = 1, 3


def page_claim(site_id: int, url: str, max_pages: int) -> tuple:
    """A claim entry: `url` scheduled as a page of the site, within its page budget."""
    return (_PAGES, _member(site_id, url), f"pages:{site_id}", int(max_pages), url, "")


def check_claim(site_id: int, url: str, cap: int, unless_claimed: bool = False) -> tuple:
    """A claim entry: target `url` checked once in the scan, within the site's link budget
    (cap 0: none); `unless_claimed`: only tried if the entry before it did not claim."""
    return (_CHECKED, url, f"links:{site_id}", int(cap) if cap else -1, "", "1" if unless_claimed else "")


def mark_claim(url: str) -> tuple:
    """A claim entry: `url` recorded as checked (no budget)."""
    return (_CHECKED, url, "", -1, "", "")


def seen_claim(site_id: int, url: str) -> tuple:
    """A claim entry: `url` crawled as a page of the site (no budget)."""
    return (_PAGES, _member(site_id, url), "", -1, "", "")


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
        self._claim = client.register_script(_CLAIM)
        self._unclaim = client.register_script(_UNCLAIM)
        self.claim_calls = 0   # round trips of claims made (a page's batch is one)
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

    def claim_many(self, entries, owner: str = "") -> list[int]:
        """Claim every entry (page_claim, check_claim, …) in order, in one round trip: their
        results (1 claimed, 2 already the owner's, 0 someone else's, -1 budget used up, -2
        not tried)."""
        entries = list(entries)
        if not entries:
            return []
        k = self.keys
        self.claim_calls += 1
        args = [owner]
        for e in entries:
            args.extend(e)
        return [int(r) for r in self._claim(keys=[k.pages, k.budgets, k.checked], args=args)]

    def unclaim(self, entries, owner: str) -> None:
        """Give back entries this owner claimed (result 1) and did not use after all."""
        entries = list(entries)
        if entries and owner:
            k = self.keys
            args = [owner]
            for e in entries:
                args.extend(e)
            self._unclaim(keys=[k.pages, k.budgets, k.checked], args=args)

    def _one(self, entry, owner: str) -> int:
        return min(self.claim_many([entry], owner)[0], 1)

    def claim_page(self, site_id: int, url: str, max_pages: int, owner: str = "") -> int:
        """1 claimed (or already the owner's), 0 already scheduled, -1 the site's page budget is used up."""
        return self._one(page_claim(site_id, url, max_pages), owner)

    def page_seen(self, site_id: int, url: str, owner: str = "") -> bool:
        """Mark `url` crawled as a page of the site (a redirect's target); True if another
        request had it already."""
        return self._one(seen_claim(site_id, url), owner) == 0

    def claim_check(self, site_id: int, url: str, cap: int, owner: str = "") -> int:
        """1 claimed (or already the owner's), 0 already checked, -1 the site's link budget is used up."""
        return self._one(check_claim(site_id, url, cap), owner)

    def seed_checked(self, urls) -> None:
        """A resumed scan: targets it holds a result for count as checked (no owner claims them again)."""
        urls = list(urls)
        for i in range(0, len(urls), 1000):
            self.redis.hset(self.keys.checked, mapping=dict.fromkeys(urls[i:i + 1000], "stored"))

    def mark_checked(self, url: str, owner: str = "") -> bool:
        """True when `url` is new to the scan (an invalid link, recorded without a request)."""
        return self._one(mark_claim(url), owner) == 1

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
