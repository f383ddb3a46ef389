"""DNS with the registry's `resolve:` overrides (like curl --resolve).

Applied on the reactor, so it covers every request the crawl makes: pages, assets and
external targets. With `resolve_only` a host missing from the map fails as a DNS error
without any lookup — tests and the demo use this so that no traffic leaves loopback.
"""

from __future__ import annotations

import ipaddress

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer


class RegistryResolver(CachingThreadedResolver):
    def __init__(self, reactor, cache_size: int, timeout: float, overrides: dict[str, str], resolve_only: bool):
        super().__init__(reactor, cache_size, timeout)
        self.overrides = {k.lower(): v for k, v in overrides.items()}
        self.resolve_only = resolve_only

    @classmethod
    def from_crawler(cls, crawler, reactor):
        s = crawler.settings
        return cls(reactor, s.getint("DNSCACHE_SIZE") if s.getbool("DNSCACHE_ENABLED") else 0,
                   s.getfloat("DNS_TIMEOUT"), s.getdict("GOVCHECK_RESOLVE"), s.getbool("GOVCHECK_RESOLVE_ONLY"))

    def getHostByName(self, name: str, timeout=()):
        host = name.lower().rstrip(".")
        if host in self.overrides:
            return defer.succeed(self.overrides[host])
        if self.resolve_only:
            from crawler.middlewares import NotInResolveMap

            return defer.fail(NotInResolveMap(f"{name}: not in the registry's resolve: map (resolve_only)"))
        try:
            ipaddress.ip_address(host)
            return defer.succeed(host)
        except ValueError:
            pass
        return super().getHostByName(name, timeout)
