"""One scan: registry → crawl (Scrapy) → checks → findings merged into the database.

The crawl and the analysis are separate steps joined by the database: the crawl stores its
pages and its outcomes (homepage errors, budgets, events: `scans.stats.crawl`) and marks the
scan `crawled`; the analysis reads them back, runs the checks and merges the findings in one
transaction (`done`). `govcheck scan` runs both; `govcheck scan --crawl-only` and then
`govcheck analyse --scan ID` run them apart (another process, another machine).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select, update

from crawler import settings as crawl_settings
from crawler.items import AccountPlan, SitePlan
from govcheck import clock
from govcheck.analysis import (
    AccountState,
    SiteCrawl,
    SiteReport,
    analyse_account,
    analyse_site,
    load_results,
)
from govcheck.attachments import READABLE
from govcheck.findings import Finding
from govcheck.heartbeat import Heartbeat, beat, describe, wall_now, who
from govcheck.history import scan_seen_at
from govcheck.lifecycle import MergeResult, merge_findings
from govcheck.registry import Registry, load_registry
from govcheck.screenshots import ShotOutcome, take_screenshots
from govcheck.stops import ScanInterrupted
from govcheck.store.engine import open_db, session_factory
from govcheck.store.lock import ScanLocked, scan_lock
from govcheck.store.queries import previous_pages, sync_registry
from govcheck.store.schema import (
    AttachmentRow,
    CrawlEventRow,
    FeedFetchRow,
    ProbeRow,
    ScanRow,
    SiteOutcomeRow,
    TargetRow,
)
from govcheck.store.writer import ScanStore
from govcheck.urls import extension_of
from govcheck.wordlists import load_matcher, matcher_digest, registry_terms

log = logging.getLogger("govcheck.scan")


class AnalyseRefused(ValueError):
    """`govcheck analyse` on a scan it must not analyse (unknown, crawl incomplete, superseded)."""


class ResumeRefused(ValueError):
    """`govcheck scan --resume ID` on a scan it must not continue (unknown, done, superseded,
    other units)."""


# Seconds Scrapy gets to close its spiders after SIGTERM/SIGINT before the reactor is
# stopped under it: in-flight requests (up to the 15-second timeout) and queued retries are
# dropped, not waited for — the scan is failed either way, and the scheduler's SIGTERM must
# be honoured within seconds.
STOP_GRACE_SECONDS = 2.0


def _scan_process_class():
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.ossignal import install_shutdown_handlers

    class ScanProcess(CrawlerProcess):
        interrupted: str | None = None

        def _signal_shutdown(self, signum, _frame):
            from twisted.internet import reactor

            install_shutdown_handlers(self._signal_kill)
            self.interrupted = signal.Signals(signum).name
            reactor.callFromThread(self._stop_soon)

        def _stop_soon(self):
            from twisted.internet import reactor

            self.stop()
            reactor.callLater(STOP_GRACE_SECONDS, lambda: reactor.running and reactor.stop())

    return ScanProcess


@contextmanager
def _interruptible(what: str):
    """Outside the reactor (analysis, merge) SIGTERM would find Scrapy's handlers, which only
    talk to a stopped reactor: turn it into ScanInterrupted so the scan is failed at once."""
    def handler(signum, _frame):
        raise ScanInterrupted(f"{signal.Signals(signum).name} during {what}")

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


@dataclass
class ScanOutcome:
    scan_id: int
    as_of: dt.date
    merge: MergeResult
    site_errors: dict[str, str] = field(default_factory=dict)   # site URL → why its homepage failed
    site_pages: dict[str, int] = field(default_factory=dict)
    duration: float = 0.0
    reports: dict[str, SiteReport] = field(default_factory=dict)
    accounts: list[AccountState] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    screenshots: ShotOutcome | None = None


def run_crawl(plans: list[SitePlan], account_plans: list[AccountPlan], settings: dict, store: ScanStore,
              check_external: bool, **site_options):
    """Run the site and account spiders side by side in this process (one reactor, one
    downloader policy); returns the site spider (its counters and errors) or None."""
    crawl_settings.import_download_handlers()
    from crawler.spiders.accounts import AccountSpider
    from crawler.spiders.site import SiteSpider

    process = _scan_process_class()(settings=dict(settings, LOG_INSTALL_ROOT_HANDLER=False))
    crawlers = []
    site_crawler = account_crawler = None
    if plans:
        site_crawler = process.create_crawler(SiteSpider)
        crawlers.append(site_crawler)
        process.crawl(site_crawler, plans=plans, store=store, check_external=check_external, **site_options)
    if account_plans:
        account_crawler = process.create_crawler(AccountSpider)
        crawlers.append(account_crawler)
        process.crawl(account_crawler, plans=account_plans, store=store)
    process.start()
    if process.interrupted:
        raise ScanInterrupted(f"{process.interrupted} received, crawl stopped")
    for crawler in crawlers:
        reason = crawler.stats.get_value("finish_reason")
        if reason != "finished":
            raise ScanInterrupted(f"crawl ended early ({reason})")
    return (site_crawler.spider if site_crawler else None), (account_crawler.spider if account_crawler else None)


def mark_stale_scans(session, now: dt.datetime) -> list[int]:
    """Scans still `running` while we hold the database's scan lock were left by a process
    that died (SIGKILL, power loss): they are failed, never resumed or counted."""
    stale = list(session.scalars(select(ScanRow).where(ScanRow.status == "running")))
    for row in stale:
        row.status, row.finished_at = "failed", now
        row.stats = dict(row.stats or {}, failed_reason="stale: its process ended without finishing the scan")
    return [row.id for row in stale]


def run_probes(registry: Registry, db_url: str | None = None) -> tuple[int, int]:
    """One availability probe of every homepage (the scheduler's daytime job): (probes, failures)."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.probe import ProbeSpider

    engine = open_db(db_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        site_ids = sync_registry(session, registry)
    store = ScanStore(sessions, scan_id=None)
    settings = crawl_settings.for_scan(registry.settings, db_url=str(engine.url), scan_id=0, resolve=registry.resolve,
                                       progress=False)
    process = CrawlerProcess(settings=dict(settings, LOG_INSTALL_ROOT_HANDLER=False))
    process.crawl(ProbeSpider, sites=[(site_ids[s.url], s.url) for s in registry.sites], store=store)
    process.start()
    store.flush()
    failures = sum(1 for p in store.flushed_probes if not p["ok"])
    return len(store.flushed_probes), failures


def _seen_at(as_of: dt.date, started: dt.datetime) -> dt.datetime:
    # Findings — and the scan's own homepage probes (SitePlan.probe_day) — are dated on the
    # scan's as-of day, so --as-of runs are reproducible and judge the window they describe;
    # at the time of day the scan started (history.scan_seen_at, which reads it back per scan).
    return scan_seen_at(as_of, started)


def run_scan(registry: Registry, db_url: str | None = None, as_of: dt.date | None = None,
             max_pages: int | None = None, progress: bool = False, redis_url: str | None = None,
             analyse: bool = True, workers: int = 0, resume: int | None = None) -> ScanOutcome | int:
    """Crawl and analyse (ScanOutcome); with analyse=False only crawl, and return the scan id.
    `redis_url`: share the per-host limit with every crawl using that Redis (crawler/host_slots.py);
    with `workers` > 0 too, the crawl is done by that many worker processes (and any
    `govcheck worker` on that Redis) over a queue shared through it (govcheck/workers.py).
    `resume`: continue that interrupted scan (`_resume`) instead of starting a new one."""
    if workers and not redis_url:
        raise ValueError("workers need a Redis to share the scan's queue (--redis URL)")
    cfg = registry.settings
    if max_pages is not None:
        cfg = replace(cfg, max_pages=max_pages)
    as_of = as_of or registry.as_of or clock.now().date()
    # lists, term guard (with the registry's own unit and place names) and context detector;
    # a bad user list fails before any request
    terms = registry_terms(u.name for u in registry.units)
    automaton = load_matcher(registry.wordlists, terms)
    wordlists = matcher_digest(registry.wordlists, terms)
    engine = open_db(db_url)
    with ExitStack() as held:
        try:
            held.enter_context(scan_lock(engine))
        except ScanLocked as exc:
            raise ScanLocked(_held_by(engine, str(exc), resume)) from None
        return _run_locked_scan(registry, engine, cfg, as_of, automaton, wordlists, progress, redis_url, analyse,
                                workers, resume)


def _held_by(engine, message: str, resume: int | None) -> str:
    """The scan lock is taken: say by which scan and process, from the running scans' heartbeats."""
    with session_factory(engine)() as session:
        running = list(session.scalars(select(ScanRow).where(ScanRow.status == "running").order_by(ScanRow.id)))
    now = wall_now()
    for scan in running:
        if scan.id == resume:
            return (f"--resume {resume}: scan {resume} is still {describe(scan, now, lock_held=True)}; "
                    "wait for it to end, or stop that process first")
    if running:
        return f"{message} (scan {running[-1].id}: {describe(running[-1], now, lock_held=True)})"
    return message


@dataclass
class _Begun:
    scan_id: int
    as_of: dt.date
    site_ids: dict[str, int]
    account_ids: dict[tuple[str, str], int]
    plans: list[SitePlan]
    account_plans: list[AccountPlan]
    checked: set[str] = field(default_factory=set)   # targets the scan holds a result for already
    crawled: bool = False                            # the crawl was complete: only the analysis is left


def _site_plan(session, site, site_id: int, cfg, wordlists: str, as_of: dt.date, probes: int) -> SitePlan:
    return SitePlan(site_id=site_id, url=site.url, allow_domains=site.allow_domains,
                    seeds=tuple(c.url for c in site.columns), max_pages=cfg.max_pages, max_depth=cfg.max_depth,
                    previous=previous_pages(session, site_id, wordlists, as_of), probes=probes,
                    probe_interval=cfg.probe_interval, probe_day=as_of)


def _begin(session, registry: Registry, cfg, as_of: dt.date, wordlists: str, started: dt.datetime) -> _Begun:
    account_ids: dict[tuple[str, str], int] = {}
    site_ids = sync_registry(session, registry, account_ids)
    scan = ScanRow(started_at=started, as_of=as_of, status="running", registry_path=registry.path,
                   units=[u.name for u in registry.units], heartbeat_at=wall_now(), coordinator=who())
    session.add(scan)
    session.flush()
    plans = [_site_plan(session, s, site_ids[s.url], cfg, wordlists, as_of, cfg.probes) for s in registry.sites]
    account_plans = [AccountPlan(account_ids[(a.unit, a.name)], a.name, a.feed) for a in registry.accounts]
    create_outcomes(session, scan.id, [p.site_id for p in plans], started)
    return _Begun(scan.id, as_of, site_ids, account_ids, plans, account_plans)


def _resume(session, registry: Registry, cfg, scan_id: int, wordlists: str, now: dt.datetime) -> _Begun:
    """An interrupted scan goes on where it stopped: sites whose crawl is finished (outcome
    complete or partial) are left as they are; the others are crawled again, but every page
    the scan stored already is answered from the store (its stored links followed, nothing
    fetched: `PreviousPage.scan_id`), targets it holds a result for are not checked again, and
    only the homepage probes still missing are made. The scan keeps its as-of day and start."""
    scan = session.get(ScanRow, scan_id)
    where = session.bind.url.render_as_string(hide_password=True)
    if scan is None:
        raise ResumeRefused(f"--resume {scan_id}: no such scan in {where}")
    if scan.status == "done":
        raise ResumeRefused(f"--resume {scan_id}: the scan is complete already (nothing to resume)")
    later = session.scalar(select(ScanRow.id).where(ScanRow.status == "done", ScanRow.id > scan_id).limit(1))
    if later is not None:
        raise ResumeRefused(f"--resume {scan_id}: scan {later} has completed since; finishing the older scan "
                            "would judge the past as new")
    units = sorted(u.name for u in registry.units)
    if sorted(scan.units or []) != units:
        raise ResumeRefused(f"--resume {scan_id}: the scan covered units {', '.join(scan.units or [])}, "
                            f"{registry.path} gives {', '.join(units)}; resume with the same registry and --unit")
    account_ids: dict[tuple[str, str], int] = {}
    site_ids = sync_registry(session, registry, account_ids)
    crawled = scan.status == "crawled"
    scan.status, scan.finished_at = "running", None
    session.flush()
    beat(session, scan_id)
    scan.stats = {k: v for k, v in (scan.stats or {}).items() if k not in ("failed_reason", "events")}
    if crawled:
        return _Begun(scan_id, scan.as_of, site_ids, account_ids, [], [], crawled=True)
    finished = set(session.scalars(select(SiteOutcomeRow.site_id).where(
        SiteOutcomeRow.scan_id == scan_id, SiteOutcomeRow.status.in_(("complete", "partial")))))
    again = [s for s in registry.sites if site_ids[s.url] not in finished]
    # Outcomes of the sites crawled again start over (the counters keep adding up).
    session.execute(update(SiteOutcomeRow).where(SiteOutcomeRow.scan_id == scan_id,
                                                 SiteOutcomeRow.site_id.in_([site_ids[s.url] for s in again]))
                    .values(status="crawling", homepage_error=None, homepage_not_judged=None, partial=None,
                            finished_at=None))
    create_outcomes(session, scan_id, [site_ids[s.url] for s in again], now)
    probed = dict(session.execute(select(ProbeRow.site_id, func.count()).where(ProbeRow.scan_id == scan_id)
                                  .group_by(ProbeRow.site_id)).all())
    plans = [_site_plan(session, s, site_ids[s.url], cfg, wordlists, scan.as_of,
                        max(0, cfg.probes - probed.get(site_ids[s.url], 0))) for s in again]
    fetched = set(session.scalars(select(FeedFetchRow.account_id).where(FeedFetchRow.scan_id == scan_id)))
    account_plans = [AccountPlan(account_ids[(a.unit, a.name)], a.name, a.feed) for a in registry.accounts
                     if account_ids[(a.unit, a.name)] not in fetched]
    read = set(session.scalars(select(AttachmentRow.url).where(AttachmentRow.scan_id == scan_id)))
    # A readable attachment is checked, then read: one whose reading was cut off is checked again.
    checked = {url for url in session.scalars(select(TargetRow.url).where(TargetRow.scan_id == scan_id))
               if extension_of(url) not in READABLE or url in read}
    log.info("resuming scan %s: %d of %d sites to crawl, %d targets already checked", scan_id, len(plans),
             len(registry.sites), len(checked))
    return _Begun(scan_id, scan.as_of, site_ids, account_ids, plans, account_plans, checked)


def _run_locked_scan(registry: Registry, engine, cfg, as_of: dt.date, automaton, wordlists: str,
                     progress: bool, redis_url: str | None = None, analyse: bool = True,
                     workers: int = 0, resume: int | None = None) -> ScanOutcome | int:
    sessions = session_factory(engine)
    started = clock.now()
    with sessions.begin() as session:
        stale = [i for i in mark_stale_scans(session, started) if i != resume]
        if stale:
            log.warning("scans %s were left running by a process that died: marked failed", stale)
        if resume is None:
            begun = _begin(session, registry, cfg, as_of, wordlists, started)
        else:
            begun = _resume(session, registry, cfg, resume, wordlists, started)
    scan_id, as_of, site_ids, account_ids = begun.scan_id, begun.as_of, begun.site_ids, begun.account_ids
    plans, account_plans = begun.plans, begun.account_plans
    store = ScanStore(sessions, scan_id, batch_size=crawl_settings.GOVCHECK_BATCH_SIZE,
                      flush_seconds=crawl_settings.GOVCHECK_FLUSH_SECONDS)
    events: list[dict] = []
    # Renewed until the scan ends here, however it ends: a stale one means this process died.
    with Heartbeat(engine, scan_id):
        try:
            if begun.crawled:
                with _interruptible("analysis"):
                    if not analyse:
                        return scan_id
                    done = _analyse_crawled(sessions, registry, site_ids, account_ids, scan_id, automaton, wordlists)
                return _outcome(sessions, registry, cfg, site_ids, scan_id, done, started)
            settings = crawl_settings.for_scan(cfg, db_url=str(engine.url), scan_id=scan_id, resolve=registry.resolve,
                                               progress=progress, redis_url=redis_url)
            if workers and plans:
                from govcheck.workers import crawl_with_workers

                crawl_with_workers(
                    registry, scan_id, plans, account_plans, settings, store, cfg.check_external, redis_url, workers,
                    engine.url.render_as_string(hide_password=False), automaton, wordlists, as_of, cfg.recheck_hours,
                    run_crawl=run_crawl, interruptible=_interruptible, checked=begun.checked)
            elif plans or account_plans:
                run_crawl(
                    plans, account_plans, settings, store, cfg.check_external, automaton=automaton, wordlists=wordlists,
                    as_of=as_of, recheck_hours=cfg.recheck_hours, checked=begun.checked)
            with _interruptible("analysis"):
                store.flush()
                with sessions.begin() as session:
                    crawl = CrawlOutcome.load(session, scan_id)
                    events = crawl.events
                    _record_crawl(session, session.get(ScanRow, scan_id), crawl, started)
                if not analyse:
                    return scan_id
                done = _analyse_crawled(sessions, registry, site_ids, account_ids, scan_id, automaton, wordlists)
        except BaseException as exc:
            try:
                store.flush()   # what was crawled before the stop is kept (a resume starts from it)
            except Exception:  # noqa: BLE001 — the database itself may be what failed
                log.exception("scan %s: crawl data not written", scan_id)
            _mark_failed(sessions, scan_id, exc, events)
            raise
        return _outcome(sessions, registry, cfg, site_ids, scan_id, done, started)


MAX_EVENTS = 500   # kept in the scan row; the count says how many there were


def create_outcomes(session, scan_id: int, site_ids: list[int], started: dt.datetime) -> None:
    """One `crawling` outcome row per site of the scan, before any request: the spiders (in
    this process or a worker elsewhere) update them as the sites' crawls end."""
    have = set(session.scalars(select(SiteOutcomeRow.site_id).where(SiteOutcomeRow.scan_id == scan_id)))
    session.add_all(SiteOutcomeRow(scan_id=scan_id, site_id=site_id, status="crawling", started_at=started, pages=0,
                                   pages_carried=0, targets=0, carried=0, budget_cut=0, events=0)
                    for site_id in dict.fromkeys(site_ids) if site_id not in have)
    session.flush()


def _record_crawl(session, scan: ScanRow, crawl: CrawlOutcome, started: dt.datetime) -> None:
    """The crawl is complete: its outcomes become part of the scan row, ready for analysis."""
    sums = session.execute(select(func.coalesce(func.sum(SiteOutcomeRow.targets), 0),
                                  func.coalesce(func.sum(SiteOutcomeRow.carried), 0),
                                  func.coalesce(func.sum(SiteOutcomeRow.pages_carried), 0))
                           .where(SiteOutcomeRow.scan_id == scan.id)).one()
    scan.status = "crawled"
    scan.stats = {"crawl": crawl.to_json(), "crawl_seconds": round((clock.now() - started).total_seconds(), 1),
                  "targets": int(sums[0]), "carried_over": int(sums[1]), "pages_carried_over": int(sums[2])}


def _mark_failed(sessions, scan_id: int, exc: BaseException, events: list[dict]) -> None:
    # The crawl's stored outcomes stay: a scan whose analysis failed can be analysed again.
    with sessions.begin() as session:
        scan = session.get(ScanRow, scan_id)
        now = clock.now()
        # Sites whose crawl had not finished: `govcheck scan --resume` crawls them again.
        session.execute(update(SiteOutcomeRow).where(SiteOutcomeRow.scan_id == scan_id,
                                                     SiteOutcomeRow.status == "crawling")
                        .values(status="failed", finished_at=now))
        scan.status, scan.finished_at = "failed", now
        scan.stats = dict(scan.stats or {}, failed_reason=f"{type(exc).__name__}: {exc}"[:300],
                          events=events[:MAX_EVENTS])


@dataclass
class _Analysed:
    as_of: dt.date
    merge: MergeResult
    reports: dict[str, SiteReport]
    accounts: list[AccountState]
    events: list[dict]
    crawl: CrawlOutcome


def _analyse_crawled(sessions, registry: Registry, site_ids: dict[str, int], account_ids, scan_id: int, automaton,
                     wordlists: str) -> _Analysed:
    """Checks on a crawled scan and the merge of its findings, in one transaction: the scan is
    `done` with its findings, or (on any error) the findings are as they were before."""
    begun = clock.now()
    with sessions.begin() as session:
        scan = session.get(ScanRow, scan_id)
        crawl = CrawlOutcome.from_json(scan.stats["crawl"])
        events = list(crawl.events)
        as_of, seen_at = scan.as_of, _seen_at(scan.as_of, scan.started_at)
        observed, covered, reports = _analyse(session, registry, site_ids, scan_id, as_of, seen_at, crawl,
                                              automaton, events, wordlists)
        accounts = _analyse_accounts(session, registry, account_ids, scan_id, as_of, automaton, observed,
                                     covered, crawl.accounts_not_judged, events)
        merge = merge_findings(session, scan, observed, covered, seen_at)
        site_pages = {url: r.pages for url, r in reports.items()}
        scan.status, scan.finished_at = "done", clock.now()
        kept = {k: v for k, v in scan.stats.items() if k not in ("failed_reason", "events")}
        scan.stats = {**kept, "pages": sum(site_pages.values()), "findings": len(observed), "new": merge.new,
                      "fixed": merge.fixed, "analysis_seconds": round((clock.now() - begun).total_seconds(), 1),
                      "partial_sites": sorted(r for r, rep in reports.items() if rep.partial),
                      "events": events[:MAX_EVENTS], "event_count": crawl.event_count + len(events) - len(crawl.events)}
    return _Analysed(as_of, merge, reports, accounts, events, crawl)


def _outcome(sessions, registry: Registry, cfg, site_ids: dict[str, int], scan_id: int, done: _Analysed,
             started: dt.datetime) -> ScanOutcome:
    shots = screenshots_after_scan(sessions, scan_id, cfg, registry.resolve)
    by_id = {v: k for k, v in site_ids.items()}
    errors = {by_id[i]: e for i, e in done.crawl.homepage_errors.items() if i in by_id}
    site_pages = {url: r.pages for url, r in done.reports.items()}
    return ScanOutcome(scan_id, done.as_of, done.merge, errors, site_pages, (clock.now() - started).total_seconds(),
                       done.reports, done.accounts, done.events, shots)


def analyse_scan(db_url: str | None, scan_id: int, sites: str | None = None) -> ScanOutcome | None:
    """`govcheck analyse --scan ID`: the analysis of a crawled scan, under the database's scan
    lock (a PostgreSQL advisory lock; the lock file beside a SQLite database). None when the
    scan is done already: analysing twice changes nothing."""
    engine = open_db(db_url)
    sessions = session_factory(engine)
    with scan_lock(engine):
        with sessions() as session:
            scan = session.get(ScanRow, scan_id)
            if scan is None:
                raise AnalyseRefused(f"--scan {scan_id}: no such scan in {engine.url.render_as_string(hide_password=True)}")
            if scan.status == "done":
                return None
            if "crawl" not in (scan.stats or {}):
                why = (scan.stats or {}).get("failed_reason") or scan.status
                raise AnalyseRefused(f"--scan {scan_id}: its crawl did not complete ({why}); scan again")
            later = session.scalar(select(ScanRow.id).where(ScanRow.status == "done", ScanRow.id > scan_id).limit(1))
            if later is not None:
                raise AnalyseRefused(f"--scan {scan_id}: scan {later} has completed since; analysing the older crawl "
                                     "would judge the past as new")
            path, units = sites or scan.registry_path, list(scan.units or [])
        if not path:
            raise AnalyseRefused(f"--scan {scan_id}: no registry recorded; give --sites")
        registry = load_registry(path)
        registry = registry.only_units(units) if units else registry
        terms = registry_terms(u.name for u in registry.units)
        automaton = load_matcher(registry.wordlists, terms)
        wordlists = matcher_digest(registry.wordlists, terms)
        started = clock.now()
        with sessions.begin() as session:
            account_ids: dict[tuple[str, str], int] = {}
            site_ids = sync_registry(session, registry, account_ids)
        try:
            with _interruptible("analysis"):
                done = _analyse_crawled(sessions, registry, site_ids, account_ids, scan_id, automaton, wordlists)
        except BaseException as exc:
            _mark_failed(sessions, scan_id, exc, [])
            raise
        return _outcome(sessions, registry, registry.settings, site_ids, scan_id, done, started)


@dataclass
class CrawlOutcome:
    """What the spiders learnt besides stored pages: per-site failures, budgets, events."""

    homepage_errors: dict[int, str] = field(default_factory=dict)
    homepage_not_judged: dict[int, str] = field(default_factory=dict)
    partial: dict[int, str] = field(default_factory=dict)
    accounts_not_judged: dict[int, str] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)

    event_count: int = 0   # events seen; `events` keeps the first MAX_EVENTS once stored

    def to_json(self) -> dict:
        def keyed(m):
            return {str(k): v for k, v in m.items()}

        return {"homepage_errors": keyed(self.homepage_errors), "homepage_not_judged": keyed(self.homepage_not_judged),
                "partial": keyed(self.partial), "accounts_not_judged": keyed(self.accounts_not_judged),
                "events": self.events[:MAX_EVENTS], "event_count": max(self.event_count, len(self.events))}

    @classmethod
    def from_json(cls, data: dict) -> CrawlOutcome:
        def ids(m):   # JSON object keys are strings; site and account ids are ints
            return {int(k): v for k, v in (m or {}).items()}

        return cls(ids(data.get("homepage_errors")), ids(data.get("homepage_not_judged")), ids(data.get("partial")),
                   ids(data.get("accounts_not_judged")), list(data.get("events") or []), int(data.get("event_count") or 0))

    @classmethod
    def load(cls, session, scan_id: int) -> CrawlOutcome:
        """The crawl's outcomes as the spiders stored them (`site_outcomes`, `crawl_events`,
        `feed_fetches.not_judged`) — whichever processes or machines crawled them."""
        out = cls()
        for row in session.scalars(select(SiteOutcomeRow).where(SiteOutcomeRow.scan_id == scan_id)):
            if row.homepage_error:
                out.homepage_errors[row.site_id] = row.homepage_error
            if row.homepage_not_judged:
                out.homepage_not_judged[row.site_id] = row.homepage_not_judged
            if row.partial:
                out.partial[row.site_id] = row.partial
            out.event_count += row.events
        kept = session.scalars(select(CrawlEventRow).where(CrawlEventRow.scan_id == scan_id)
                               .order_by(CrawlEventRow.id).limit(MAX_EVENTS))
        out.events = [{"site": e.site, "kind": e.kind, "message": e.message, "at": e.at} for e in kept]
        out.accounts_not_judged = dict(session.execute(
            select(FeedFetchRow.account_id, FeedFetchRow.not_judged)
            .where(FeedFetchRow.scan_id == scan_id, FeedFetchRow.not_judged.is_not(None))).all())
        out.event_count = max(out.event_count, len(out.events))
        return out


def screenshots_after_scan(sessions, scan_id: int, cfg, resolve: dict[str, str]) -> ShotOutcome:
    """Screenshots of the pages with open findings; the scan is complete whatever happens here."""
    try:
        shots = take_screenshots(sessions, scan_id, cfg, resolve)
    except Exception as exc:
        log.exception("screenshots of scan %s failed", scan_id)
        shots = ShotOutcome(off=f"failed: {exc}")
    with sessions.begin() as session:
        scan = session.get(ScanRow, scan_id)
        scan.stats = dict(scan.stats or {}, screenshots=shots.taken + shots.reused, screenshot_seconds=round(shots.seconds, 1),
                          **({"screenshots_off": shots.off} if shots.off else {}))
    return shots


def _analyse_accounts(session, registry: Registry, account_ids, scan_id: int, as_of: dt.date, automaton,
                      observed: list[Finding], covered: set, not_judged: dict[int, str],
                      events: list[dict]) -> list[AccountState]:
    states = []
    for account in registry.accounts:
        account_id = account_ids[(account.unit, account.name)]
        if account_id in not_judged:
            # Our reader failed on the feed: no verdict either way, nothing marked fixed.
            states.append(AccountState(account.unit, account.name, account.platform, account.feed,
                                       f"not judged: {not_judged[account_id]}", verdict="not_judged"))
            continue
        ran: set[str] = set()
        try:
            with session.begin_nested():
                findings, state = analyse_account(session, scan_id, account, account_id, registry.settings, as_of,
                                                  automaton, ran)
        except Exception as exc:  # noqa: BLE001 — per-account isolation
            log.exception("analysis of account %s failed", account.name)
            events.append({"site": account.feed, "kind": "analysis_error", "message": f"{type(exc).__name__}: {exc}"[:500]})
            continue
        states.append(state)
        observed.extend(f.placed(account.unit, "account", account.name) for f in findings)
        covered |= {("account", account.name, c) for c in ran}
    return states


def _analyse(session, registry: Registry, site_ids: dict[str, int], scan_id: int, as_of: dt.date,
             seen_at: dt.datetime, crawl_outcome: CrawlOutcome, automaton, events: list[dict], wordlists: str = ""):
    results = load_results(session, scan_id)
    observed: list[Finding] = []
    covered: set[tuple[str, str, str]] = set()
    reports: dict[str, SiteReport] = {}
    for site in registry.sites:
        site_id = site_ids[site.url]
        try:
            # Per-site isolation: one site's hostile pages may break its own analysis, never
            # the scan (a savepoint keeps the session usable for the next site).
            with session.begin_nested():
                crawl = SiteCrawl(session, scan_id, site, site_id, results, wordlists)
                report = analyse_site(session, crawl, registry.settings, as_of, seen_at,
                                      crawl_outcome.homepage_errors.get(site_id), automaton,
                                      crawl_outcome.homepage_not_judged.get(site_id))
                snapshots = crawl.snapshots
        except Exception as exc:  # noqa: BLE001
            log.exception("analysis of site %s failed", site.url)
            events.append({"site": site.url, "kind": "analysis_error", "message": f"{type(exc).__name__}: {exc}"[:500]})
            reports[site.url] = SiteReport(partial=f"analysis failed: {type(exc).__name__}")
            continue
        partial = crawl_outcome.partial.get(site_id)
        if partial:
            # A budget ended the crawl early: what was seen is reported (marked partial), but
            # nothing unseen is marked fixed.
            report.partial = partial
            for f in report.findings:
                f.detail["partial"] = partial
        else:
            covered |= {("site", site.url, check) for check in report.checks_run}
        reports[site.url] = report
        observed.extend(f.placed(site.unit, "site", site.url, snapshots.get(f.url)) for f in report.findings)
    return observed, covered, reports
