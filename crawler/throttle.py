"""AutoThrottle that counts a 304 as the success it is.

Scrapy's AutoThrottle never lowers a host's delay on a non-200 answer (error pages are small
and fast and would talk it into speeding up). On a nightly re-scan nearly every page answers
304 Not Modified, so one slow early answer left the delay stuck for the whole re-scan: one
request every ~60 ms on loopback, a re-scan slower than the first scan (bench/crawl.py).
"""

from __future__ import annotations

from scrapy.extensions.throttle import AutoThrottle


class ConditionalAwareAutoThrottle(AutoThrottle):
    def _adjust_delay(self, slot, latency: float, response) -> None:
        if response.status == 304:
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)
