"""After the crawl: one site's stored pages, links and fetch results → findings.

Pages are re-read from their snapshots (the evidence), so a site can be re-analysed without
being crawled again. Check functions stay pure; this module only gathers their inputs.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

import checks  # noqa: F401  (every family registers its runners)
from checks.footer import footer_identifiers
from checks.freshness import ColumnState, Probe, infer_rule
from checks.inputs import (
    ColumnsInput,
    FeedInput,
    FooterInput,
    HomepageInput,
    ProbesInput,
    SiteCrawlInput,
    TextInput,
)
from checks.links import LinkOccurrence, SiteLinks, TargetResult, classify
from checks.links import homepage_not_judged as homepage_not_judged_finding
from checks.registry import run_checks
from govcheck.attachments import Limits, attachment_text
from govcheck.config import Settings
from govcheck.dates import article_date
from govcheck.feeds import skipped_bad_dates
from govcheck.findings import Finding
from govcheck.listing import (
    OPEN_GOV,
    TREE,
    discover_columns,
    main_list,
    newest_item,
    page_items,
)
from govcheck.page import ParsedPage, decode_html, included_page
from govcheck.pagefacts import facts_findings, facts_hold
from govcheck.registry import Account, Site
from govcheck.store.queries import load_snapshot
from govcheck.store.schema import (
    AttachmentRow,
    ColumnRow,
    FeedFetchRow,
    LinkRow,
    PageRow,
    PostRow,
    ProbeRow,
    SnapshotRow,
    TargetRow,
)
from govcheck.store.writer import chunks
from govcheck.urls import is_external

ARTICLES_PER_UNDATED_LIST = 3   # undated rows: read the newest items' article pages


def load_results(session: Session, scan_id: int) -> dict[str, TargetResult]:
    """The scan's fetch results that are findings material (broken or undetermined): a working
    target yields no link finding, so the many that worked are never held in memory."""
    out = {}
    for row in session.scalars(select(TargetRow).where(TargetRow.scan_id == scan_id).execution_options(yield_per=2000)):
        result = TargetResult(url=row.url, status=row.status, error=row.error, final_url=row.final_url,
                              redirects=tuple(row.redirects or ()), content_type=row.content_type,
                              title=row.title, snippet=row.snippet, size=row.size, method=row.method)
        if classify(result) is not None:
            out[row.url] = result
    return out


class SiteCrawl:
    """One site's crawl in one scan, read back from storage."""

    def __init__(self, session: Session, scan_id: int, site: Site, site_id: int, results: dict[str, TargetResult],
                 wordlists: str = ""):
        self.session, self.scan_id, self.site, self.site_id, self.results = session, scan_id, site, site_id, results
        self.wordlists = wordlists
        rows = session.execute(select(PageRow.url, PageRow.final_url, PageRow.content_hash, PageRow.encoding, PageRow.content_type)
                               .where(PageRow.scan_id == scan_id, PageRow.site_id == site_id)
                               .order_by(PageRow.depth, PageRow.final_url, PageRow.id)).all()
        self.pages = {}
        # each crawled page once, shallowest first, then by address (not by crawl timing, so the
        # footer sample of a carried-over scan is the one a full scan takes)
        self.page_urls: list[str] = []
        for url, final_url, content_hash, encoding, content_type in rows:
            if final_url not in self.pages:
                self.page_urls.append(final_url)
            self.pages.setdefault(url, (final_url, content_hash, encoding, content_type))
            self.pages.setdefault(final_url, (final_url, content_hash, encoding, content_type))
        rows = session.scalars(select(AttachmentRow).where(AttachmentRow.scan_id == scan_id,
                                                            AttachmentRow.site_id == site_id)).all()
        self.attachments = {r.url: r.content_hash for r in rows}
        self.attachment_types = {r.url: r.content_type for r in rows}
        # Only the pages a freshness or footer check reads are parsed here (the homepage, columns,
        # a few articles); a small cache keeps memory independent of the site's size.
        self.parsed = lru_cache(maxsize=32)(self._parse)

    @property
    def snapshots(self) -> dict[str, str]:
        return {url: v[1] for url, v in self.pages.items()} | self.attachments

    def _parse(self, url: str) -> ParsedPage | None:
        entry = self.pages.get(url)
        if entry is None:
            return None
        final_url, content_hash, encoding, content_type = entry
        row = self.session.get(SnapshotRow, content_hash)
        if row is None:
            return None
        body = zlib.decompress(row.data)
        try:
            text = body.decode(encoding) if encoding else decode_html(body, content_type)[0]
        except (LookupError, UnicodeDecodeError):
            text = decode_html(body, content_type)[0]
        return ParsedPage(final_url, text)

    def included(self, page: ParsedPage) -> list[ParsedPage]:
        """The footer includes of a page that the crawl fetched (stored beside attachments)."""
        out = []
        for url in page.footer_includes:
            body = load_snapshot(self.session, self.attachments[url]) if url in self.attachments else None
            if body:
                out.append(included_page(url, body, self.attachment_types.get(url)))
        return out

    def _links_of_pages(self):
        return (select(LinkRow, PageRow.final_url).join(PageRow, PageRow.id == LinkRow.page_id)
                .where(PageRow.scan_id == self.scan_id, PageRow.site_id == self.site_id))

    def occurrences(self) -> list[LinkOccurrence]:
        """The link occurrences a link finding can come from: those of targets that failed,
        lie outside the site's domains, or are hidden somewhere. check_links judges each target
        from its own occurrences alone, so the rest (most links of a site) are never loaded."""
        site = self.site
        wanted = set(self.results)
        distinct = select(LinkRow.target_url).join(PageRow, PageRow.id == LinkRow.page_id).where(
            PageRow.scan_id == self.scan_id, PageRow.site_id == self.site_id).distinct()
        for (url,) in self.session.execute(distinct.execution_options(yield_per=5000)):
            if url not in wanted and is_external(url, site.url, site.allow_domains):
                wanted.add(url)
        wanted |= set(self.session.scalars(distinct.where(LinkRow.hidden.is_not(None))))
        out: list[LinkOccurrence] = []
        # Shallowest page first, then by address: the order does not depend on crawl timing, so
        # a carried-over scan names the same first page as a full one.
        for batch in chunks(sorted(wanted), 500):
            rows = self.session.execute(self._links_of_pages().where(LinkRow.target_url.in_(batch))
                                        .add_columns(PageRow.depth))
            out += [(depth, source, link.id, LinkOccurrence(source, link.target_url, link.tag, link.anchor or "",
                                                            link.hidden)) for link, source, depth in rows]
        out.sort(key=lambda o: o[:3])
        return [o[3] for o in out]

    def page_facts(self):
        """(final url, stored page-local results) of each page of the scan, shallowest first."""
        seen: set[str] = set()
        rows = self.session.execute(select(PageRow.final_url, PageRow.facts)
                                    .where(PageRow.scan_id == self.scan_id, PageRow.site_id == self.site_id)
                                    .order_by(PageRow.depth, PageRow.final_url, PageRow.id).execution_options(yield_per=500))
        for final_url, facts in rows:
            if final_url not in seen:
                seen.add(final_url)
                yield final_url, facts


@dataclass
class SiteReport:
    findings: list[Finding] = field(default_factory=list)
    checks_run: set[str] = field(default_factory=set)
    pages: int = 0
    columns: list[ColumnState] = field(default_factory=list)
    partial: str | None = None      # why the site's findings are incomplete (a budget ended its crawl)


def newest_of(crawl: SiteCrawl, items, as_of: dt.date, articles: int) -> tuple[dt.date | None, str | None, str | None]:
    """(date, title, source) of the newest item: row dates first, else the article pages."""
    best = newest_item(items)
    if best is not None:
        return best.date, best.title, best.date_source
    found = []
    for item in items[:articles]:
        page = crawl.parsed(item.url)
        got = article_date(page, as_of) if page is not None else None
        if got:
            found.append((got.date, item.title))
    if found:
        date, title = max(found)
        return date, title, "article"
    return None, None, None


def column_state(crawl: SiteCrawl, name: str, url: str, rule: str, rule_source: str, as_of: dt.date) -> ColumnState:
    state = ColumnState(name, url, rule, rule_source, fetched=False)
    page = crawl.parsed(url)
    if page is None:
        result = crawl.results.get(url)
        verdict = classify(result) if result is not None else None
        if verdict is not None and verdict.kind == "broken":
            state.fetched, state.error = True, verdict.message
        return state
    state.fetched = True
    items = main_list(page, as_of, scope_url=url)
    state.items = len(items)
    state.newest, state.newest_title, state.newest_source = newest_of(crawl, items, as_of, ARTICLES_PER_UNDATED_LIST)
    return state


def site_columns(session: Session, crawl: SiteCrawl, home: ParsedPage | None) -> list[tuple[str, str, str, str]]:
    """(name, url, rule, rule_source) for every column judged: the registry's, else those
    discovered from the homepage navigation (remembered in the columns table)."""
    site = crawl.site
    if site.columns:
        return [(c.name, c.url, c.rule or infer_rule(c.name, registered=True), "registry" if c.rule else "inferred")
                for c in site.columns]
    if home is None:
        return []
    found = discover_columns(home)
    for col in list(found):
        if OPEN_GOV.search(col.name):  # 政务公开 / 信息公开: its directory tree holds the columns
            tree_page = crawl.parsed(col.url)
            if tree_page is not None:
                found += [c for c in discover_columns(tree_page, containers=TREE) if c.url not in {f.url for f in found}]
    out = []
    for col in found:
        rule = infer_rule(col.name)
        row = session.scalar(select(ColumnRow).where(ColumnRow.site_id == crawl.site_id, ColumnRow.url == col.url))
        if row is None:
            session.add(ColumnRow(site_id=crawl.site_id, url=col.url, name=col.name, rule=None, source="discovered"))
        elif row.rule:  # a rule set by hand on a discovered column overrides the inference
            rule = row.rule
        if rule != "none":
            out.append((col.name, col.url, rule, "inferred"))
    return out


def content_findings(crawl: SiteCrawl, settings: Settings, as_of: dt.date, resources: dict, ran: set[str]) -> list[Finding]:
    """Checks on every page's text and every readable attachment; 标识 on a sample."""
    findings: list[Finding] = []
    for url, facts in crawl.page_facts():
        if facts_hold(facts, crawl.wordlists, as_of, url):
            findings += facts_findings(facts, ran)
            continue
        page = crawl._parse(url)   # stored before these checks ran in the crawl, or out of date
        if page is None:
            continue
        dated = article_date(page, as_of)  # date-limited wordlist entries (南朝鲜|before:1992-08-24)
        findings += run_checks("page", TextInput(url, page.visible_text, as_of, published=dated.date if dated else None),
                               resources, ran)
    sample = [p for p in (crawl.parsed(u) for u in crawl.page_urls[:settings.footer_sample]) if p is not None]
    if sample:
        infos = [footer_identifiers(p, crawl.included(p)) for p in sample]
        findings += run_checks("footer_sample", FooterInput(infos, crawl.site.site_code), resources, ran)
    for url, content_hash in crawl.attachments.items():
        body = load_snapshot(crawl.session, content_hash)
        text = attachment_text(url, body, Limits(cpu_seconds=settings.attachment_cpu_seconds)) if body else None
        if text:
            findings += run_checks("attachment", TextInput(url, text, as_of, where="附件"), resources, ran)
    return findings


def analyse_site(session: Session, crawl: SiteCrawl, settings: Settings, as_of: dt.date, seen_at: dt.datetime,
                 homepage_error: str | None, automaton=None, homepage_not_judged: str | None = None) -> SiteReport:
    """Every check whose input this site's crawl really provides; `report.checks_run` is
    what ran (a check whose input is missing — homepage not parsed, no wordlists — did not)."""
    site = crawl.site
    report = SiteReport(pages=len({v[0] for v in crawl.pages.values()}))
    resources = {"wordlists": automaton}
    ran = report.checks_run
    # The window ends with the as-of day (this scan's own probes included).
    until = dt.datetime.combine(as_of, dt.time.max)
    since = until - dt.timedelta(days=settings.probe_window_days)
    probes = [Probe(p.at, p.ok, p.status, p.error) for p in session.scalars(
        select(ProbeRow).where(ProbeRow.site_id == crawl.site_id, ProbeRow.at > since, ProbeRow.at <= until)
        .order_by(ProbeRow.at))]
    report.findings += run_checks("probes", ProbesInput(site.url, probes, homepage_error, settings), resources, ran)
    if homepage_not_judged:
        # A WAF/login/rate limit in front of the homepage: listed for review; nothing else on
        # the site can be judged in this scan (so nothing else ran, nothing is marked fixed).
        report.findings.append(homepage_not_judged_finding(site.url, homepage_not_judged))
        return report
    if not crawl.pages:
        return report  # homepage unreachable: nothing on this site was examined
    report.findings += run_checks("site_crawl", SiteCrawlInput(
        SiteLinks(site.url, site.allow_domains, site.url, crawl.occurrences()), crawl.results), resources, ran)
    home = crawl.parsed(site.url)
    if home is not None:
        items = page_items(home, as_of)
        newest, title, source = newest_of(crawl, items, as_of, articles=10)
        report.findings += run_checks("homepage", HomepageInput(site.url, home.url, home, newest, title, source, as_of,
                                                                settings), resources, ran)
    if site.columns or home is not None:   # registered columns, or the navigation they are found from
        report.columns = [column_state(crawl, *col, as_of) for col in site_columns(session, crawl, home)]
        report.findings += run_checks("columns", ColumnsInput(report.columns, as_of, settings), resources, ran)
    report.findings += content_findings(crawl, settings, as_of, resources, ran)
    return report


@dataclass
class AccountState:
    """One account's standing in the scan (the summary lists accounts by it)."""

    unit: str
    name: str
    platform: str
    feed: str
    error: str | None = None
    newest: dt.datetime | None = None
    age_days: int | None = None
    posts: int = 0
    verdict: str = "ok"   # the code of its feed finding (account_unreachable …), ok, or not_judged


def analyse_account(session: Session, scan_id: int, account: Account, account_id: int, settings: Settings,
                    as_of: dt.date, automaton, ran: set[str] | None = None) -> tuple[list[Finding], AccountState]:
    """The account's checks on what this scan fetched; the codes that ran are added to `ran`."""
    ran = set() if ran is None else ran
    resources = {"wordlists": automaton}
    fetch = session.scalar(select(FeedFetchRow).where(FeedFetchRow.scan_id == scan_id, FeedFetchRow.account_id == account_id)
                           .order_by(FeedFetchRow.id.desc()).limit(1))
    error = "not fetched in this scan" if fetch is None else fetch.error
    state = AccountState(account.unit, account.name, account.platform, account.feed, error)
    until = dt.datetime.combine(as_of, dt.time.max)
    newest = session.scalars(select(PostRow).where(PostRow.account_id == account_id, PostRow.published.is_not(None),
                                                   PostRow.published <= until)
                             .order_by(PostRow.published.desc()).limit(1)).first()
    if newest is not None:
        state.newest, state.age_days = newest.published, (as_of - newest.published.date()).days
    findings: list[Finding] = []
    feed = FeedInput(account.feed, account.name, error, state.newest, newest.title if newest else None, as_of,
                     settings.account_stale_days, account.warn_days or settings.account_warn_days)
    # A feed this scan did not try judges nothing; one it could not read judges reachability only.
    if fetch is not None:
        findings += run_checks("feed", feed, resources, ran)
    if fetch is not None and not fetch.error:
        findings += run_checks("feed_content", feed, resources, ran)
    skipped = skipped_bad_dates(fetch.warning) if fetch is not None else 0
    if skipped:
        for f in findings:
            f.detail["skipped_bad_dates"] = skipped
    state.verdict = findings[0].check if findings else "ok"   # the feed runners' verdict comes first
    if fetch is not None and not fetch.error:
        keys = set(fetch.post_keys or [])
        posts = session.scalars(select(PostRow).where(PostRow.account_id == account_id, PostRow.key.in_(keys))).all() if keys else []
        state.posts = len(posts)
        for post in posts:
            where = post.link or f"{account.feed}#{post.key}"
            findings += run_checks("post", TextInput(where, f"{post.title}\n{post.text}", as_of, where="新媒体内容",
                                                     published=post.published.date() if post.published else None),
                                   resources, ran)
    return findings, state
