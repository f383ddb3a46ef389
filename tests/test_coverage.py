"""A check that did not run never changes the status of its findings (issue 10's data-loss
bug): coverage — which checks may turn an open finding fixed — is what really ran on the
site or account in this scan, derived from the catalogue's runners."""

from __future__ import annotations

import datetime as dt

from conftest import Route, govcheck, html, write_registry
from sqlalchemy import select

from govcheck.analysis import SiteCrawl, analyse_site, load_results
from govcheck.lifecycle import merge_findings
from govcheck.registry import load_registry
from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import FindingRow, ScanRow, SiteRow

HOST = "www.cover.gov.cn"
TYPO_HOME = html("覆盖测试区", "<p>各单位要再接再励，做好工作。联系电话：13812345678（身份证 11010519491231002X）</p>"
                 "<a href='/gzdt/'>工作动态</a>")
COLUMN = html("工作动态", "<ul><li><a href='/gzdt/1.html'>会议召开</a><span>2024-04-10</span></li></ul>")


def statuses(db) -> dict[str, str]:
    with session_factory(open_db(f"sqlite:///{db}"))() as session:
        return {f"{r.check}:{r.subject}": r.status for r in session.scalars(select(FindingRow))}


def registry_for(tmp_path, port, accounts=()):
    return write_registry(tmp_path / "sites.yaml", [{
        "name": "覆盖测试单位", "group": "部门",
        "sites": [{"url": f"http://{HOST}:{port}/",
                   "columns": [{"name": "工作动态", "url": f"http://{HOST}:{port}/gzdt/", "rule": "2w"}]}],
        "accounts": list(accounts)}], resolve={HOST: "127.0.0.1"})


def test_homepage_that_does_not_parse_leaves_homepage_findings_as_they_were(tmp_path, serve):
    server = serve({HOST: {"/": Route(body=html("覆盖测试区", "<p>欢迎</p><a href='/gzdt/'>工作动态</a>")),
                           "/gzdt/": Route(body=COLUMN)}})
    reg, db = registry_for(tmp_path, server.port), tmp_path / "g.db"
    govcheck("scan", str(reg), "--db", str(db), "--as-of", "2024-04-19")
    before = statuses(db)
    assert before["home_not_updated:None"] == "open" and before["site_https:None"] == "open"
    # The homepage now answers 200 with something that is not HTML: it cannot be judged, but
    # the registered column is still crawled and judged.
    server.hosts[HOST]["/"] = Route(body=b"\x00\x01binary", content_type="application/octet-stream")
    server.hosts[HOST]["/gzdt/"] = Route(body=html("工作动态", "<ul><li><a href='/gzdt/1.html'>会议召开</a>"
                                                         "<span>2024-01-02</span></li></ul>"))
    govcheck("scan", str(reg), "--db", str(db), "--as-of", "2024-04-20")
    after = statuses(db)
    assert after["home_not_updated:None"] == "open"      # was turned fixed before the catalogue's coverage
    assert after["site_https:None"] == "open"
    assert after["column_stale:工作动态"] == "open"       # the column checks did run


FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>覆盖发布</title>
<item><title>旧消息</title><link>http://www.cover.gov.cn/wx/1.html</link>
<pubDate>Mon, 01 Apr 2024 09:00:00 +0800</pubDate><description>内容</description></item></channel></rss>"""


def test_feed_that_was_not_fetched_leaves_stale_findings_as_they_were(tmp_path, serve):
    server = serve({HOST: {"/": Route(body=TYPO_HOME), "/gzdt/": Route(body=COLUMN),
                           "/feed.xml": Route(body=FEED, content_type="application/rss+xml")}})
    account = {"platform": "wechat", "name": "覆盖发布", "feed": f"http://{HOST}:{server.port}/feed.xml"}
    reg, db = registry_for(tmp_path, server.port, [account]), tmp_path / "g.db"
    govcheck("scan", str(reg), "--db", str(db), "--as-of", "2024-04-19")
    assert statuses(db)["account_stale:覆盖发布"] == "open"
    server.hosts[HOST]["/feed.xml"] = Route(500, "error")
    govcheck("scan", str(reg), "--db", str(db), "--as-of", "2024-04-20")
    after = statuses(db)
    assert after["account_unreachable:覆盖发布"] == "open"
    assert after["account_stale:覆盖发布"] == "open"     # unknown this time, not fixed


def test_scan_without_wordlists_leaves_word_findings_as_they_were(tmp_path, serve):
    server = serve({HOST: {"/": Route(body=TYPO_HOME), "/gzdt/": Route(body=COLUMN)}})
    reg, db = registry_for(tmp_path, server.port), tmp_path / "g.db"
    govcheck("scan", str(reg), "--db", str(db), "--as-of", "2024-04-19")
    assert statuses(db)["word_typo:再接再励"] == "open"
    # Re-analyse that crawl with the word automaton absent (wordlists failed to load).
    registry = load_registry(reg)
    site = registry.sites[0]
    sessions = session_factory(open_db(f"sqlite:///{db}"))
    with sessions.begin() as session:
        first = session.get(ScanRow, 1)
        site_id = session.scalar(select(SiteRow.id).where(SiteRow.url == site.url))
        crawl = SiteCrawl(session, first.id, site, site_id, load_results(session, first.id))
        seen_at = dt.datetime(2024, 4, 20, 9, 0)
        report = analyse_site(session, crawl, registry.settings, dt.date(2024, 4, 20), seen_at, None, automaton=None)
        assert not {"word_typo", "word_serious", "word_sensitive"} & report.checks_run
        assert {"privacy_leak", "link_broken", "footer_missing", "home_not_updated"} <= report.checks_run
        scan = ScanRow(started_at=seen_at, as_of=dt.date(2024, 4, 20), status="running", units=["覆盖测试单位"])
        session.add(scan)
        session.flush()
        observed = [f.placed(site.unit, "site", site.url) for f in report.findings]
        merge_findings(session, scan, observed, {("site", site.url, c) for c in report.checks_run}, seen_at)
    after = statuses(db)
    assert after["word_typo:再接再励"] == "open"
    assert after["privacy_leak:mobile"] == "open"
