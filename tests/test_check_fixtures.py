"""Every case in tests/checks/<code>/ (see its README): small Chinese HTML / feed snippets in,
the finding out — or none. Cases go through the catalogue's runners, as a scan's do."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest
import yaml

import checks  # noqa: F401
from checks.footer import footer_identifiers
from checks.freshness import ColumnState, Probe
from checks.inputs import (
    ColumnsInput,
    FeedInput,
    FooterInput,
    HomepageInput,
    ProbesInput,
    SiteCrawlInput,
    TextInput,
)
from checks.links import LinkOccurrence, SiteLinks, TargetResult
from checks.registry import CHECKS, run_checks
from govcheck.config import Settings
from govcheck.feeds import parse_feed
from govcheck.listing import main_list, newest_item, page_items
from govcheck.page import ParsedPage

FIXTURES = Path(__file__).parent / "checks"
# `results: {URL: ok}` in a site_crawl case: the target answered with an ordinary article page.
NORMAL_PAGE = {"status": 200, "title": "关于做好2024年防汛工作的通知", "snippet": "正文" * 300, "size": 20000,
               "content_type": "text/html"}
CASES = sorted(FIXTURES.glob("*/*.yaml"))


@cache
def automaton():
    # what a scan matches with: lists, term guard and context detector
    from govcheck.wordlists import load_matcher

    return load_matcher()


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _settings(case) -> Settings:
    return Settings(**case.get("settings", {}))


def build(case: dict):
    """The input object of kind case['input'] from the case's plain data."""
    kind = case["input"]
    as_of = _date(case.get("as_of", "2024-04-19"))
    url = case.get("url", "http://www.example.gov.cn/")
    if kind in ("page", "attachment", "post"):
        text = case["text"] if "text" in case else ParsedPage(url, case["html"]).visible_text
        where = {"page": "页面", "attachment": "附件", "post": "新媒体内容"}[kind]
        return TextInput(url, text, as_of, where, _date(case["published"]) if "published" in case else None)
    if kind == "homepage":
        page = ParsedPage(case.get("final_url", url), case["html"])
        best = newest_item(page_items(page, as_of))
        return HomepageInput(url, case.get("final_url", url), page, best.date if best else None,
                             best.title if best else None, best.date_source if best else None, as_of, _settings(case))
    if kind == "columns":
        states = []
        for col in case["columns"]:
            state = ColumnState(col["name"], col["url"], col.get("rule", "2w"), "registry", fetched=True,
                                error=col.get("error"))
            if "html" in col:
                items = main_list(ParsedPage(col["url"], col["html"]), as_of, scope_url=col["url"])
                best = newest_item(items)
                state.items = len(items)
                if best is not None:
                    state.newest, state.newest_title, state.newest_source = best.date, best.title, best.date_source
            states.append(state)
        return ColumnsInput(states, as_of, _settings(case))
    if kind == "site_crawl":
        occurrences = [LinkOccurrence(page_url, link.url, link.tag, link.text, link.hidden)
                       for page_url, body in case["pages"].items() for link in ParsedPage(page_url, body).links]
        results = {u: TargetResult(url=u, **(NORMAL_PAGE if r == "ok" else r)) for u, r in (case.get("results") or {}).items()}
        return SiteCrawlInput(SiteLinks(url, tuple(case.get("allow_domains", ())), url, occurrences), results)
    if kind == "footer_sample":
        infos = [footer_identifiers(ParsedPage(url, body)) for body in case["pages"]]
        return FooterInput(infos, case.get("site_code"))
    if kind == "probes":
        start = dt.datetime.combine(as_of, dt.time(8))
        probes = [Probe(start + dt.timedelta(minutes=30 * i), p["ok"], p.get("status"), p.get("error"))
                  for i, p in enumerate(case.get("probes", []))]
        return ProbesInput(url, probes, case.get("homepage_error"), _settings(case))
    if kind in ("feed", "feed_content"):
        newest = title = None
        if "feed" in case:
            posts = [p for p in parse_feed(case["feed"].encode()).posts if p.published]
            if posts:
                best = max(posts, key=lambda p: p.published)
                newest, title = best.published, best.title
        return FeedInput(url, case.get("name", "测试账号"), case.get("error"), newest, title, as_of,
                         case.get("stale_days", 14), case.get("warn_days", 10))
    raise AssertionError(f"unknown input kind {kind!r}")


def run(code: str, case: dict) -> list:
    spec = CHECKS[code]
    assert case["input"] in spec.inputs, f"{code} does not run on {case['input']!r} (inputs: {spec.inputs})"
    ran: set[str] = set()
    findings = run_checks(case["input"], build(case), {"wordlists": automaton()}, ran)
    assert code in ran
    return [f for f in findings if f.check == code]


def matches(finding, want: dict) -> bool:
    if "subject" in want and finding.subject != want["subject"]:
        return False
    if "url" in want and finding.url != want["url"]:
        return False
    if "evidence" in want and want["evidence"] not in finding.evidence:
        return False
    if "severity" in want and (finding.severity or CHECKS[finding.check].severity) != want["severity"]:
        return False
    return all(finding.detail.get(k) == v for k, v in (want.get("detail") or {}).items())


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_check_fixture(path: Path):
    code = path.parent.name
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = run(code, case)
    if path.stem.startswith("quiet"):
        assert found == [], f"{path.name}: must not fire, got {[(f.subject, f.evidence) for f in found]}"
        return
    assert path.stem.startswith("fire"), f"{path.name}: a case is fire-*.yaml or quiet-*.yaml"
    assert found, f"{path.name}: must fire"
    if "count" in case:
        assert len(found) == case["count"], \
            f"{path.name}: {case['count']} finding(s) expected, got {[(f.subject, f.evidence) for f in found]}"
    for want in case.get("expect") or [{}]:
        assert any(matches(f, want) for f in found), \
            f"{path.name}: no finding matches {want}; got {[(f.subject, f.evidence, f.detail) for f in found]}"
