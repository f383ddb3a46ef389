"""One scan: registry → crawl (Scrapy) → checks → findings merged into the database."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace

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
from govcheck.history import scan_seen_at
from govcheck.lifecycle import MergeResult, Observed, merge_findings
from govcheck.registry import Registry
from govcheck.store.engine import open_db, session_factory
from govcheck.store.queries import previous_pages, sync_registry
from govcheck.store.schema import ScanRow
from govcheck.store.writer import ScanStore
from govcheck.wordlists import load_matcher, matcher_digest, registry_terms

log = logging.getLogger("govcheck.scan")


class ScanInterrupted(RuntimeError):
    pass


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


def run_crawl(plans: list[SitePlan], account_plans: list[AccountPlan], settings: dict, store: ScanStore,
              check_external: bool, **site_options):
    """Run the site and account spiders side by side in this process (one reactor, one
    downloader policy); returns the site spider (its counters and errors) or None."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.accounts import AccountSpider
    from crawler.spiders.site import SiteSpider

    process = CrawlerProcess(settings=dict(settings, LOG_INSTALL_ROOT_HANDLER=False))
    crawlers = []
    if plans:
        crawlers.append(process.create_crawler(SiteSpider))
        process.crawl(crawlers[-1], plans=plans, store=store, check_external=check_external, **site_options)
    if account_plans:
        crawlers.append(process.create_crawler(AccountSpider))
        process.crawl(crawlers[-1], plans=account_plans, store=store)
    process.start()
    for crawler in crawlers:
        reason = crawler.stats.get_value("finish_reason")
        if reason != "finished":
            raise ScanInterrupted(f"crawl ended early ({reason})")
    return crawlers[0].spider if plans else None


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
             max_pages: int | None = None, progress: bool = False) -> ScanOutcome:
    cfg = registry.settings
    if max_pages is not None:
        cfg = replace(cfg, max_pages=max_pages)
    as_of = as_of or registry.as_of or dt.date.today()
    # lists, term guard (with the registry's own unit and place names) and context detector;
    # a bad user list fails before any request
    terms = registry_terms(u.name for u in registry.units)
    automaton = load_matcher(registry.wordlists, terms)
    wordlists = matcher_digest(registry.wordlists, terms)
    engine = open_db(db_url)
    sessions = session_factory(engine)
    started = clock.now()
    with sessions.begin() as session:
        account_ids: dict[tuple[str, str], int] = {}
        site_ids = sync_registry(session, registry, account_ids)
        scan = ScanRow(started_at=started, as_of=as_of, status="running", registry_path=registry.path,
                       units=[u.name for u in registry.units])
        session.add(scan)
        session.flush()
        scan_id = scan.id
        plans = [SitePlan(site_id=site_ids[s.url], url=s.url, allow_domains=s.allow_domains,
                          seeds=tuple(c.url for c in s.columns), max_pages=cfg.max_pages, max_depth=cfg.max_depth,
                          previous=previous_pages(session, site_ids[s.url], wordlists, as_of), probes=cfg.probes,
                          probe_interval=cfg.probe_interval, probe_day=as_of)
                 for s in registry.sites]
        account_plans = [AccountPlan(account_ids[(a.unit, a.name)], a.name, a.feed) for a in registry.accounts]
    store = ScanStore(sessions, scan_id, batch_size=crawl_settings.GOVCHECK_BATCH_SIZE)
    seen_at = _seen_at(as_of, started)
    try:
        spider = run_crawl(plans, account_plans, crawl_settings.for_scan(cfg, db_url=str(engine.url), scan_id=scan_id,
                                                                         resolve=registry.resolve, progress=progress),
                           store, cfg.check_external, automaton=automaton, wordlists=wordlists, as_of=as_of,
                           recheck_hours=cfg.recheck_hours) if plans or account_plans else None
        store.flush()
        crawled = clock.now()
        homepage_errors = spider.homepage_error if spider is not None else {}
        with sessions.begin() as session:
            scan = session.get(ScanRow, scan_id)
            observed, covered, reports = _analyse(session, registry, site_ids, scan_id, as_of, seen_at, homepage_errors,
                                                  automaton, wordlists)
            accounts = _analyse_accounts(session, registry, account_ids, scan_id, as_of, automaton, observed, covered)
            merge = merge_findings(session, scan, observed, covered, seen_at)
            site_pages = {url: r.pages for url, r in reports.items()}
            scan.status, scan.finished_at = "done", clock.now()
            scan.stats = {"pages": sum(site_pages.values()), "findings": len(observed), "new": merge.new,
                          "fixed": merge.fixed, "crawl_seconds": round((crawled - started).total_seconds(), 1),
                          "analysis_seconds": round((clock.now() - crawled).total_seconds(), 1),
                          "targets": spider.counts["targets"] if spider else 0,
                          "carried_over": spider.counts["carried"] if spider else 0,
                          "pages_carried_over": spider.counts["pages_carried"] if spider else 0}
    except BaseException:
        with sessions.begin() as session:
            scan = session.get(ScanRow, scan_id)
            scan.status, scan.finished_at = "failed", clock.now()
        raise
    by_id = {v: k for k, v in site_ids.items()}
    errors = {by_id[i]: e for i, e in homepage_errors.items()}
    return ScanOutcome(scan_id, as_of, merge, errors, site_pages, (clock.now() - started).total_seconds(), reports,
                       accounts)


def _analyse_accounts(session, registry: Registry, account_ids, scan_id: int, as_of: dt.date, automaton,
                      observed: list[Observed], covered: set) -> list[AccountState]:
    states = []
    for account in registry.accounts:
        ran: set[str] = set()
        findings, state = analyse_account(session, scan_id, account, account_ids[(account.unit, account.name)],
                                          registry.settings, as_of, automaton, ran)
        states.append(state)
        observed.extend(Observed(account.unit, "account", account.name, f) for f in findings)
        covered |= {("account", account.name, c) for c in ran}
    return states


def _analyse(session, registry: Registry, site_ids: dict[str, int], scan_id: int, as_of: dt.date,
             seen_at: dt.datetime, homepage_errors: dict[int, str], automaton, wordlists: str = ""):
    results = load_results(session, scan_id)
    observed: list[Observed] = []
    covered: set[tuple[str, str, str]] = set()
    reports: dict[str, SiteReport] = {}
    for site in registry.sites:
        site_id = site_ids[site.url]
        crawl = SiteCrawl(session, scan_id, site, site_id, results, wordlists)
        report = analyse_site(session, crawl, registry.settings, as_of, seen_at, homepage_errors.get(site_id), automaton)
        reports[site.url] = report
        covered |= {("site", site.url, check) for check in report.checks_run}
        snapshots = crawl.snapshots
        observed.extend(Observed(site.unit, "site", site.url, f, snapshots.get(f.url)) for f in report.findings)
    return observed, covered, reports
