"""The leased Redis frontier of a scan (crawler/redis_queue.py), against the local Redis: each
test has a key prefix of its own, removed afterwards (other engineers' runs share the Redis)."""

import time

import pytest
from conftest import REDIS

redis = pytest.importorskip("redis")

import scrapy  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402

from crawler.redis_queue import (  # noqa: E402
    LEASE,
    SLOT,
    LeasedPriorityQueue,
    LeasedScheduler,
    ScanDupeFilter,
    connect,
    fingerprint,
    scan_keys,
    settings_for,
)


class Spider(scrapy.Spider):
    name = "t"

    def parse(self, response):
        pass

    def on_error(self, failure):
        pass


@pytest.fixture
def server():
    return redis.Redis.from_url(REDIS)


def queue(server, prefix, scan_id=1, lease=30.0):
    keys = scan_keys(scan_id, prefix)
    return LeasedPriorityQueue(server, Spider(), keys.queue, keys=keys, lease_seconds=lease)


def req(path, priority=0, **meta):
    return scrapy.Request(f"http://www.a.gov.cn{path}", priority=priority, meta={"role": "page", "site_id": 1, **meta},
                          callback=Spider.parse, errback=Spider.on_error)


def bound(spider, r):
    return r.replace(callback=spider.parse, errback=spider.on_error)


def test_pop_leases_in_priority_order_and_ack_ends_the_scan(server, prefix):
    q = queue(server, prefix)
    for path, prio in (("/low", -3), ("/home", 2), ("/mid", 0)):
        q.push(bound(q.spider, req(path, prio)))
    assert q.pending() == 3
    first = q.pop()
    assert first.url.endswith("/home") and first.callback == q.spider.parse
    assert first.meta[LEASE]
    # Leased, not forgotten: the scan is not empty while the request is being crawled.
    assert len(q) == 2 and q.leased() == 1 and q.pending() == 3
    assert [q.pop().url[-4:] for _ in range(2)] == ["/mid", "/low"]
    assert q.pop() is None
    assert q.pending() == 3
    assert q.ack([first.meta[LEASE]]) == 1
    assert q.ack([first.meta[LEASE]]) == 0   # acked once only
    assert q.pending() == 2


def test_an_ended_lease_goes_back_on_the_queue_for_another_worker(server, prefix):
    dead, alive = queue(server, prefix, lease=0.3), queue(server, prefix, lease=30)
    dead.push(bound(dead.spider, req("/a", 1)))
    dead.push(bound(dead.spider, req("/b", 0)))
    taken = dead.pop()   # this worker is then killed: it never acks nor renews
    assert taken.url.endswith("/a")
    got = alive.pop()
    assert got.url.endswith("/b")   # /a is still leased to the dead worker
    assert alive.pop() is None
    time.sleep(0.45)
    again = alive.pop()
    assert again is not None and again.url.endswith("/a") and again.meta[LEASE] != taken.meta[LEASE]
    assert again.meta["site_id"] == 1 and again.priority == 1
    alive.ack([got.meta[LEASE], again.meta[LEASE]])
    # The dead worker's late ack no longer holds anything: nobody else's lease is released by it.
    assert dead.ack([taken.meta[LEASE]]) == 0
    assert alive.pending() == 0


def test_pending_requeues_ended_leases_without_popping(server, prefix):
    q = queue(server, prefix, lease=0.2)
    q.push(bound(q.spider, req("/a")))
    q.pop()
    time.sleep(0.3)
    assert q.pending() == 1 and len(q) == 1 and q.leased() == 0


def test_renewed_leases_are_not_taken_from_a_live_worker(server, prefix):
    live, other = queue(server, prefix, lease=0.4), queue(server, prefix, lease=0.4)
    live.push(bound(live.spider, req("/slow")))
    held = live.pop()
    for _ in range(4):
        time.sleep(0.2)
        assert live.renew([held.meta[LEASE]]) == 1
        assert other.pop() is None
    assert live.ack([held.meta[LEASE]]) == 1
    assert other.pending() == 0


def test_deferred_requests_wait_until_nothing_is_queued_or_leased(server, prefix):
    q = queue(server, prefix)
    q.push(bound(q.spider, req("/page")))
    q.defer(bound(q.spider, req("/other-site", -5, role="check")))
    assert q.pending() == 2
    page = q.pop()
    assert page.url.endswith("/page")
    assert q.pop() is None   # the page is still in flight: it may yet link the other site's page
    q.ack([page.meta[LEASE]])
    later = q.pop()
    assert later.url.endswith("/other-site") and later.meta["role"] == "check"
    q.ack([later.meta[LEASE]])
    assert q.pending() == 0


def test_fingerprint_includes_the_scan_and_the_role():
    page, check = req("/x"), req("/x", role="check")
    assert fingerprint(1, page) != fingerprint(2, page)
    assert fingerprint(1, page) != fingerprint(1, check)
    assert fingerprint(1, page) != fingerprint(1, req("/x", site_id=2))   # a page belongs to its site
    assert fingerprint(1, check) == fingerprint(1, req("/x", role="check", site_id=2))   # a target is scan-wide
    assert fingerprint(1, page) != fingerprint(1, req("/X"))   # exact URLs, as the spider's own sets


def scheduler(prefix, scan_id=7, lease=30.0):
    crawler = get_crawler(Spider, settings_for(scan_id, REDIS, prefix, lease_seconds=lease))
    spider = Spider.from_crawler(crawler)
    sched = LeasedScheduler.from_crawler(crawler)
    sched.open(spider)
    return sched, spider


def test_scheduler_filters_per_scan_and_a_retry_releases_the_original_lease(server, prefix):
    a, spider = scheduler(prefix, scan_id=7)
    b, _ = scheduler(prefix, scan_id=8)
    try:
        assert isinstance(a.df, ScanDupeFilter)
        a.enqueue_request(bound(spider, req("/p")))
        a.enqueue_request(bound(spider, req("/p")))
        b.enqueue_request(bound(spider, req("/p")))
        # Buffered until the worker's next call to Redis (here the pending count), where the
        # dupefilter decides: seen in scan 7 …
        assert a.pending() == 1 and len(a.queue) == 1
        assert b.pending() == 1                                  # … not in scan 8
        got = a.next_request()
        token = got.meta[LEASE]
        assert a.held == {token}
        # RetryMiddleware / RedirectMiddleware hand back a copy with the same meta.
        retry = got.replace(dont_filter=True)
        assert a.enqueue_request(retry)
        assert LEASE not in retry.meta and token not in a.held
        assert a.queue.leased() == 0 and a.pending() == 1
        again = a.next_request()
        assert again.url == got.url and again.meta[LEASE] != token
        # Done: acked once the store committed (no store here), on the next tick or on close.
        a.done(again)
        assert a.pending() == 1
        a._tick()
        assert a.pending() == 0
    finally:
        a.close("finished")
        b.close("finished")


def test_a_stopped_worker_gives_its_leases_back_at_once(server, prefix):
    a, spider = scheduler(prefix)
    other, _ = scheduler(prefix)
    try:
        for path in ("/1", "/2"):
            a.enqueue_request(bound(spider, req(path)))
        held = [a.next_request(), a.next_request()]
        a.done(held[0])
        a.close("shutdown")   # SIGTERM: the first is done, the second was still in flight
        assert a.pending() == 1
        back = other.next_request()
        assert back.url == held[1].url
    finally:
        other.close("finished")


def test_admit_drops_or_replaces_a_popped_entry(server, prefix):
    a, spider = scheduler(prefix)
    wanted = {"/keep"}
    spider.admit = lambda r: (r.replace(url=r.url + "?real") if r.url.endswith(tuple(wanted)) else None)
    try:
        a.enqueue_request(bound(spider, req("/drop", 1)))
        a.enqueue_request(bound(spider, req("/keep", 0)))
        got = a.next_request()
        assert got.url.endswith("/keep?real") and got.meta[LEASE] in a.held
        a._tick()
        assert a.queue.leased() == 1   # the dropped one was given up, the admitted one is held
    finally:
        a.close("finished")


def test_connect_names_a_bad_or_unreachable_url():
    with pytest.raises(ValueError, match="not a Redis URL"):
        connect("http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="cannot be reached"):
        connect("redis://127.0.0.1:1/0")


def test_a_claim_is_its_owners_again_and_nobody_elses(server, prefix):
    from crawler.shared_state import SharedScanState

    state = SharedScanState(server, scan_keys(3, prefix))
    assert state.claim_page(1, "http://a/x", 2, owner="parent-1") == 1
    # The parent's response is crawled again after its worker died: the claim is still its own,
    # and the site's page budget is not counted twice.
    assert state.claim_page(1, "http://a/x", 2, owner="parent-1") == 1
    assert state.claim_page(1, "http://a/x", 2, owner="parent-2") == 0
    assert state.claim_page(1, "http://a/y", 2, owner="parent-2") == 1
    assert state.claim_page(1, "http://a/z", 2, owner="parent-2") == -1   # budget of 2 pages
    assert state.claim_check(1, "http://a/x", 0, owner="parent-3") == 0    # a page is checked
    assert state.claim_check(1, "http://b/", 1, owner="p") == 1
    assert state.claim_check(1, "http://b/", 1, owner="p") == 1
    assert state.claim_check(1, "http://c/", 1, owner="p") == -1           # link budget of 1
    assert state.mark_checked("bad:url", owner="q") and state.mark_checked("bad:url", owner="q")
    assert not state.mark_checked("bad:url", owner="r")
    assert not state.mark_checked("http://b/", owner="")   # no owner: never a re-claim


def on(host, path="/", priority=0):
    return scrapy.Request(f"http://{host}{path}", priority=priority, meta={"role": "page", "site_id": 1},
                          callback=Spider.parse, errback=Spider.on_error)


def slotted_queue(server, prefix, limit=2, lease=30.0):
    keys = scan_keys(1, prefix)
    return LeasedPriorityQueue(server, Spider(), keys.queue, keys=keys, lease_seconds=lease, host_limit=limit,
                               slot_prefix=prefix)


def test_pop_goes_across_hosts_up_to_each_hosts_free_slots(server, prefix):
    from crawler.host_slots import HostSlots

    q = slotted_queue(server, prefix, limit=2)
    for i in range(6):
        q.push(bound(q.spider, on("www.a.gov.cn", f"/a{i}", priority=-i)))
    for i in range(3):
        q.push(bound(q.spider, on("www.b.gov.cn", f"/b{i}", priority=-i - 1)))
    got = [q.pop() for _ in range(4)]
    # Two of a (its limit), then b — not six of a first, though a's requests rank higher.
    assert [r.url.split("/")[-1] for r in got] == ["a0", "a1", "b0", "b1"]
    assert all(r.meta[SLOT][0] == r.url.split("/")[2] for r in got)
    slots = HostSlots(server, prefix)
    assert slots.in_flight("www.a.gov.cn") == 2 and slots.in_flight("www.b.gov.cn") == 2
    assert q.pop() is None and q.busy_hosts == 2 and len(q) == 5
    # A slot of a comes back (its response came): the next pop is a's best request.
    slots.release(*got[0].meta[SLOT])
    assert q.pop().url.endswith("/a2")
    assert q.pending() == 9


def test_a_host_held_off_by_retry_after_is_passed_over(server, prefix):
    from crawler.host_slots import HostSlots

    q = slotted_queue(server, prefix, limit=4)
    q.push(bound(q.spider, on("www.a.gov.cn", "/first", priority=5)))
    q.push(bound(q.spider, on("www.b.gov.cn", "/second")))
    HostSlots(server, prefix).hold("www.a.gov.cn", 30)
    assert q.pop().url == "http://www.b.gov.cn/second"
    assert q.pop() is None and q.busy_hosts == 1


def test_without_a_host_limit_pops_are_by_priority_and_an_ended_lease_keeps_its_host(server, prefix):
    dead, alive = slotted_queue(server, prefix, limit=0, lease=0.3), slotted_queue(server, prefix, limit=0)
    dead.push(bound(dead.spider, on("www.a.gov.cn", "/low", priority=-1)))
    dead.push(bound(dead.spider, on("www.b.gov.cn", "/high", priority=3)))
    taken = dead.pop()
    assert taken.url.endswith("/high") and SLOT not in taken.meta
    time.sleep(0.4)
    # Requeued onto b's own queue, ahead of a's lower-priority request.
    again = alive.pop()
    assert again.url == "http://www.b.gov.cn/high" and again.priority == 3
    assert alive.pop().url.endswith("/low") and alive.pop() is None
    assert len(alive) == 0 and alive.pending() == 2


def test_the_dupefilter_test_and_the_push_are_one_step(server, prefix):
    q = slotted_queue(server, prefix, limit=0)
    r = bound(q.spider, on("www.a.gov.cn", "/p"))
    assert q.push_new(r, "fp1") and not q.push_new(r, "fp1") and len(q) == 1
    assert q.push_new(bound(q.spider, on("www.a.gov.cn", "/p2")), "") and len(q) == 2


def test_drop_scan_removes_the_per_host_queues(server, prefix):
    from crawler.redis_queue import drop_scan

    q = slotted_queue(server, prefix, limit=0)
    q.push(bound(q.spider, on("www.a.gov.cn", "/p")))
    assert list(server.scan_iter(match=f"{prefix}:scan:1:q:*"))
    drop_scan(server, q.keys)
    assert not list(server.scan_iter(match=f"{prefix}:scan:1:*"))


def site_spider(server, prefix, max_pages=3, max_links=0):
    from crawler.items import SitePlan
    from crawler.shared_state import SharedScanState
    from crawler.spiders.site import SiteSpider

    plan = SitePlan(site_id=1, url="http://www.a.gov.cn/", max_pages=max_pages)
    shared = SharedScanState(server, scan_keys(4, prefix))
    crawler = get_crawler(SiteSpider, {"GOVCHECK_MAX_LINKS_PER_SITE": max_links})
    return SiteSpider.from_crawler(crawler, plans=[plan], shared=shared, check_external=True), plan


def test_a_pages_links_are_claimed_in_one_call_as_one_by_one_claims_would_decide(server, prefix):
    from govcheck.page import LinkRef

    links = [LinkRef(f"http://www.a.gov.cn/p{i}.html", "a", "", None) for i in range(4)]
    links += [LinkRef("http://www.a.gov.cn/p0.html", "a", "", None),      # twice on the page
              LinkRef("http://www.a.gov.cn/logo.png", "img", "", None),
              LinkRef("http://www.other.com/", "a", "", None),
              LinkRef("http://bad host/", "a", "", None, invalid="bad host")]
    one, plan = site_spider(server, prefix)
    one.claim_owner = "parent-1"
    out = list(one._follow_all(plan, links, depth=0))
    assert one.shared.claim_calls == 1
    pages = [r.url for r in out if getattr(r, "meta", {}).get("role") == "page"]
    checks = sorted(r.url for r in out if getattr(r, "meta", {}).get("role") == "check")
    # A budget of 3 pages: the fourth page link is checked as a target instead.
    assert pages == [f"http://www.a.gov.cn/p{i}.html" for i in range(3)]
    assert checks == ["http://www.a.gov.cn/logo.png", "http://www.a.gov.cn/p3.html", "http://www.other.com/"]
    assert [i.url for i in out if not hasattr(i, "meta")] == ["http://bad host/"]
    # Another worker's spider, with the same page: everything is claimed already, in one call.
    two, _ = site_spider(server, prefix)
    two.claim_owner = "parent-2"
    assert list(two._follow_all(plan, links, depth=0)) == []
    assert two.shared.claim_calls == 1
    # The first parent crawled again (its worker died before it was acked): its claims are its own.
    three, _ = site_spider(server, prefix)
    three.claim_owner = "parent-1"
    again = list(three._follow_all(plan, links, depth=0))
    assert sorted(r.url for r in again if hasattr(r, "meta")) == sorted(pages + checks)
    assert int(server.hget(one.shared.keys.budgets, "pages:1")) == 3


def test_claims_made_up_front_and_not_used_are_given_back(server, prefix):
    from govcheck.page import LinkRef

    one, plan = site_spider(server, prefix, max_pages=10, max_links=1)
    one.end_budget = lambda site_id, reason: one.partial.setdefault(site_id, reason)   # no engine here
    one.claim_owner = "parent-1"
    links = [LinkRef("http://www.x.com/a", "a", "", None), LinkRef("http://www.x.com/b", "a", "", None),
             LinkRef("http://www.a.gov.cn/p.html", "a", "", None)]
    out = list(one._follow_all(plan, links, depth=0))
    # The link budget (1) ends at the second target: the site is partial, its page is not
    # followed after all, and the page claimed up front is given back (budget uncounted).
    assert [r.url for r in out] == ["http://www.x.com/a"] and 1 in one.partial
    assert one.shared.claim_calls == 1
    assert int(server.hget(one.shared.keys.budgets, "pages:1") or 0) == 0
    assert one.shared.claim_page(1, "http://www.a.gov.cn/p.html", 10, owner="parent-2") == 1


def test_a_responses_slot_release_and_its_pages_requests_ride_on_the_next_pop(server, prefix):
    q = slotted_queue(server, prefix, limit=1)
    q.push(bound(q.spider, on("www.a.gov.cn", "/1")))
    first = q.pop()
    q.buffer(bound(q.spider, on("www.a.gov.cn", "/2")), "fp-2")
    q.buffer(bound(q.spider, on("www.a.gov.cn", "/2")), "fp-2")   # a duplicate: dropped in Redis
    q.release_later(*first.meta[SLOT])   # the response came: a's only slot is free again
    calls = []
    real = server.execute_command
    server.execute_command = lambda *a, **kw: calls.append(a[0]) or real(*a, **kw)
    try:
        second = q.pop()
    finally:
        del server.execute_command
    assert calls == ["EVALSHA"]
    assert second.url.endswith("/2") and len(q) == 0 and q.leased() == 2
