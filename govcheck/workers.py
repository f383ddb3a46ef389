"""One scan crawled by several worker processes, on one machine or many (issue 18, DESIGN §8).

The coordinator (`govcheck scan … --redis URL --workers N`) creates the scan as usual, writes
what a worker needs to join it to Redis (the registry, the site plans, the crawl settings),
pushes the sites' homepages and columns onto the scan's queue, marks the scan active and
starts N local worker processes. Every `govcheck worker --db … --redis …` — on this machine
or another, sharing the database and the Redis — joins active scans too. Workers run the same
site spider over the shared, leased queue (crawler/redis_queue.py) with the scan-wide sets in
Redis (crawler/shared_state.py) and write pages and targets to the database; the per-host
limit is shared through crawler/host_slots.py. The coordinator itself runs the timed homepage
probes and the accounts' feeds, waits until the scan has nothing queued, leased or deferred,
and hands the scan to the analysis (govcheck.scan), which reads the crawl's outcomes from the
rows every process's spider wrote.

A worker crawls one scan per child process: Twisted's reactor runs once per process, and a
fresh process per scan also frees whatever the last one held.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace

from redis import RedisError

from crawler.items import SitePlan
from crawler.redis_queue import (
    LeasedPriorityQueue,
    ScanDupeFilter,
    active_scans_key,
    connect,
    drop_scan,
    scan_keys,
    scan_pending,
    settings_for,
)
from crawler.shared_state import SharedScanState
from govcheck import clock
from govcheck.stops import WorkersFailed

log = logging.getLogger("govcheck.workers")

# A killed worker's requests go back on the queue this long after its last renewal.
LEASE_SECONDS = float(os.environ.get("GOVCHECK_QUEUE_LEASE_SECONDS", "30"))
POLL_SECONDS = 0.5


def redis_prefix() -> str:
    from crawler import settings as crawl_settings

    return crawl_settings.GOVCHECK_REDIS_PREFIX


@dataclass
class ScanSpec:
    """What a worker needs to join a scan (pickled into the scan's `spec` key)."""

    scan_id: int
    registry: object             # govcheck.registry.Registry, units already selected
    plans: list[SitePlan]
    settings: dict               # crawler.settings.for_scan(...) of the coordinator
    check_external: bool
    wordlists: str               # matcher digest, as the coordinator computed it
    as_of: object
    recheck_hours: float
    lease_seconds: float
    # The coordinator's word matcher itself: every worker judges with exactly the scan's lists
    # (no wordlist files needed on the worker's machine) and skips building it (~2 s).
    automaton: object = None


# ---------------------------------------------------------------------------- coordinator


def crawl_with_workers(registry, scan_id: int, plans: list[SitePlan], account_plans, settings: dict, store,
                       check_external: bool, redis_url: str, workers: int, db_url: str, automaton, wordlists: str,
                       as_of, recheck_hours: float, *, run_crawl, interruptible, checked=()):
    """Crawl scan `scan_id` with `workers` local worker processes (and any `govcheck worker`
    joining); the crawl's outcomes are the rows every process's spider wrote
    (govcheck.scan.CrawlOutcome.load).
    `run_crawl` and `interruptible` are govcheck.scan's (which calls this: no import back)."""
    from crawler.spiders.site import SiteSpider

    client = connect(redis_url)
    prefix = redis_prefix()
    keys = scan_keys(scan_id, prefix)
    drop_scan(client, keys)   # a scan id reused by another database sharing this Redis
    shared = SharedScanState(client, keys)
    shared.seed_checked(checked)   # a resumed scan: the targets it holds a result for
    worker_plans = [replace(p, probes=0) for p in plans]
    spec = ScanSpec(scan_id, registry, worker_plans, settings, check_external, wordlists, as_of, recheck_hours,
                    LEASE_SECONDS, automaton)
    client.set(keys.spec, pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL))
    seeded = seed(client, keys, SiteSpider(plans=worker_plans, check_external=check_external, shared=shared))
    log.info("scan %s: %d start requests queued for the workers", scan_id, seeded)
    client.set(keys.state, "crawling")
    shared.expire()
    client.sadd(active_scans_key(prefix), scan_id)
    procs: list[subprocess.Popen] = []
    try:
        procs = [spawn_worker(db_url, redis_url, scan_id, prefix) for _ in range(workers)]
        if any(p.probes for p in plans) or account_plans:
            # The timed homepage probes (once per scan) and the feeds run here, with the
            # per-host limit shared with the workers.
            run_crawl(
                plans if any(p.probes for p in plans) else [], account_plans, settings, store, check_external,
                automaton=automaton, wordlists=wordlists, as_of=as_of, recheck_hours=recheck_hours, probes_only=True)
        with interruptible("the workers' crawl"):
            wait_for_crawl(client, keys, procs)
        client.set(keys.state, "crawled")
        # Every worker wrote its share of each site's outcome; whether a site's crawl was
        # cut by a budget is the scan's (a worker elsewhere may not have flushed it yet).
        partial = shared.partial()
        for plan in plans:
            store.site_state(plan.site_id, status="partial" if plan.site_id in partial else "complete",
                             partial=partial.get(plan.site_id), finished_at=clock.now())
        store.flush()
    except BaseException as exc:
        if _alive(client):
            client.set(keys.state, "stopped")
            client.srem(active_scans_key(prefix), scan_id)
        stop_workers(procs, grace=0)
        if isinstance(exc, RedisError):
            raise WorkersFailed(f"Redis failed during the crawl ({type(exc).__name__}: {exc}); scan again") from None
        raise
    client.srem(active_scans_key(prefix), scan_id)
    stop_workers(procs)
    drop_scan(client, keys)


def _alive(client) -> bool:
    try:
        return bool(client.ping())
    except RedisError:
        return False


def seed(client, keys, spider) -> int:
    """Push the sites' homepages and columns onto the scan's queue (claimed in Redis, as a
    worker would claim them)."""
    queue = LeasedPriorityQueue(client, spider, keys.queue, keys=keys, lease_seconds=LEASE_SECONDS)
    dupes = ScanDupeFilter(client, keys.dupefilter, scan_id=keys.scan_id)
    n = 0
    for request in spider.start_requests_of_plans():
        if not dupes.request_seen(request):
            queue.push(request)
            n += 1
    return n


def spawn_worker(db_url: str | None, redis_url: str, scan_id: int, prefix: str) -> subprocess.Popen:
    db = ["--db", db_url] if db_url else []
    verbose = ["-v"] if logging.getLogger().getEffectiveLevel() <= logging.INFO else []
    return subprocess.Popen([sys.executable, "-m", "govcheck", *verbose, "worker", *db, "--redis", redis_url,
                             "--scan", str(scan_id)],
                            env=dict(os.environ, GOVCHECK_REDIS_PREFIX=prefix, GOVCHECK_COORDINATOR_PID=str(os.getpid()),
                                     GOVCHECK_QUEUE_LEASE_SECONDS=str(LEASE_SECONDS)))


def wait_for_crawl(client, keys, procs: list[subprocess.Popen]) -> None:
    """Until nothing of the scan is queued, leased or deferred. Local workers that died are
    fine while another works (their leases run out and are crawled again); all of them gone
    with work left fails the scan."""
    while True:
        left = scan_pending(client, keys)
        if client.get(keys.state) != b"crawling":
            # The scan's keys are gone: Redis was restarted (it keeps nothing on disk) or
            # flushed. Whatever is pending now, the crawl cannot be complete.
            raise WorkersFailed("the scan's queue is gone from Redis (restarted or flushed?); scan again")
        if left == 0:
            return
        if procs and all(p.poll() is not None for p in procs):
            codes = [p.returncode for p in procs]
            # A last look: a worker may have acked the end just before it exited.
            if scan_pending(client, keys) == 0:
                return
            raise WorkersFailed(f"all {len(procs)} workers ended (exit codes {codes}) with {left} requests of the "
                                "scan left")
        time.sleep(POLL_SECONDS)


def stop_workers(procs: list[subprocess.Popen], grace: float = 30.0) -> None:
    """Workers end by themselves once the scan is crawled; on an early stop they get SIGTERM
    (they give their leases back and exit)."""
    deadline = time.monotonic() + grace
    for p in procs:
        if p.poll() is None and grace <= 0:
            p.terminate()
        elif p.poll() is None:
            try:
                p.wait(timeout=max(0.1, min(5.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                p.terminate()
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# ---------------------------------------------------------------------------- worker


def crawl_one_scan(db_url: str | None, redis_url: str, scan_id: int) -> str:
    """This process becomes a worker of scan `scan_id` until its crawl is complete (or SIGTERM);
    returns the crawl's finish reason."""
    from crawler import settings as crawl_settings

    crawl_settings.import_download_handlers()
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.site import SiteSpider
    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.writer import ScanStore
    from govcheck.wordlists import load_matcher, registry_terms

    client = connect(redis_url)
    prefix = redis_prefix()
    keys = scan_keys(scan_id, prefix)
    raw = client.get(keys.spec)
    if raw is None or client.get(keys.state) != b"crawling":
        return "not_crawling"
    spec: ScanSpec = pickle.loads(raw)  # noqa: S301 — written by our own coordinator into our own Redis
    registry = spec.registry
    automaton = spec.automaton
    if automaton is None:
        automaton = load_matcher(registry.wordlists, registry_terms(u.name for u in registry.units))
    engine = open_db(db_url)
    store = ScanStore(session_factory(engine), scan_id, batch_size=crawl_settings.GOVCHECK_BATCH_SIZE,
                      flush_seconds=crawl_settings.GOVCHECK_FLUSH_SECONDS)
    settings = dict(spec.settings, **settings_for(scan_id, redis_url, prefix, spec.lease_seconds),
                    GOVCHECK_DB_URL=str(engine.url), GOVCHECK_PROGRESS=False, LOG_INSTALL_ROOT_HANDLER=False)
    # Scrapy's own SIGTERM handling: the engine closes (the scheduler gives this worker's
    # leases back) once in-flight downloads end; a second signal stops at once.
    process = CrawlerProcess(settings=settings)
    crawler = process.create_crawler(SiteSpider)
    process.crawl(crawler, plans=spec.plans, store=store, check_external=spec.check_external, automaton=automaton,
                  wordlists=spec.wordlists, as_of=spec.as_of, recheck_hours=spec.recheck_hours)
    orphaned = stop_when_orphaned(crawler)
    process.start()
    store.flush()
    reason = crawler.stats.get_value("finish_reason") or "unknown"
    if orphaned:
        return "interrupted (its coordinator is gone)"
    return "interrupted (shutdown)" if reason == "shutdown" else reason


def stop_when_orphaned(crawler, interval: float = 1.0) -> list[bool]:
    """A local worker (spawned by `scan --workers N`, GOVCHECK_COORDINATOR_PID) stops like on
    SIGTERM — its leases go back to the queue — once its coordinator process has died: nobody
    would analyse what it crawls, and an operator who killed the scan expects its crawling to
    end (`--resume` queues the rest again). Being re-parented is certain, unlike a late heartbeat.
    Returns a list that holds True once that happened."""
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet import reactor, task

    parent = os.environ.get("GOVCHECK_COORDINATOR_PID")
    orphaned: list[bool] = []
    if not parent or not parent.isdigit():
        return orphaned

    def check():
        if os.getppid() != int(parent) and not orphaned:
            orphaned.append(True)
            log.warning("coordinator (pid %s) is gone: this worker gives its leases back and stops", parent)
            loop.stop()
            deferred_from_coro(crawler.stop_async())

    loop = task.LoopingCall(check)
    reactor.callWhenRunning(loop.start, interval, now=True)
    return orphaned


def coordinator_gone(engine, scan_id: int) -> str | None:
    """Why scan `scan_id` has no live coordinator (its row's heartbeat: govcheck.heartbeat), or None."""
    from govcheck.heartbeat import coordinator_alive, describe
    from govcheck.store.engine import session_factory
    from govcheck.store.lock import scan_lock_held
    from govcheck.store.schema import ScanRow

    with session_factory(engine)() as session:
        scan = session.get(ScanRow, scan_id)
        if scan is None:
            return "no such scan in this database"
        held = scan_lock_held(engine)
        return None if coordinator_alive(scan, lock_held=held) else describe(scan, lock_held=held)


def worker_loop(db_url: str | None, redis_url: str, poll: float = 2.0, once: bool = False) -> None:
    """`govcheck worker`: join every active scan in turn, each in a child process, until
    SIGTERM/SIGINT (passed on to the child, which gives its leases back)."""
    client = connect(redis_url)
    prefix = redis_prefix()
    child: list[subprocess.Popen] = []
    stopping: list[int] = []

    def stop(signum, _frame):
        stopping.append(signum)
        for p in child:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    from govcheck.store.engine import open_db

    engine = open_db(db_url)
    orphans: set[int] = set()   # scans whose coordinator is gone, said once each
    print(f"govcheck worker: waiting for scans shared through {client.connection_pool.connection_kwargs.get('host')}"
          f" (prefix {prefix})", file=sys.stderr, flush=True)
    try:
        while not stopping:
            for raw in sorted(client.smembers(active_scans_key(prefix)), key=int):
                scan_id = int(raw)
                keys = scan_keys(scan_id, prefix)
                if stopping or client.get(keys.state) != b"crawling" or scan_pending(client, keys) == 0:
                    continue
                gone = coordinator_gone(engine, scan_id)
                if gone:
                    # Nobody would analyse what we crawl: the scan waits for `--resume`, which
                    # queues it afresh under a live coordinator (and we join then).
                    if scan_id not in orphans:
                        orphans.add(scan_id)
                        print(f"govcheck worker: not joining scan {scan_id}: {gone}; resume it with "
                              f"`govcheck scan SITES --resume {scan_id}`", file=sys.stderr, flush=True)
                    continue
                orphans.discard(scan_id)
                print(f"govcheck worker: joining scan {scan_id}", file=sys.stderr, flush=True)
                child[:] = [spawn_worker(db_url, redis_url, scan_id, prefix)]
                child[0].wait()
            if once:
                return
            for _ in range(max(1, int(poll / 0.1))):
                if stopping:
                    break
                time.sleep(0.1)
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
