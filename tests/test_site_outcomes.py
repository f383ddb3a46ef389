"""Issue 18: crawl outcomes are database rows (`site_outcomes`, `crawl_events`), written by the
spider beside the pages, and what the analysis judges from (not spider attributes)."""

import os
import signal
import socket
import subprocess
import sys
import time

from conftest import Route, findings_jsonl, govcheck, html, write_registry
from sqlalchemy import select

from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import CrawlEventRow, ScanRow, SiteOutcomeRow, SiteRow

OK, CUT, DOWN = "www.ok.gov.cn", "www.cut.gov.cn", "www.down.gov.cn"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def outcomes(db) -> dict[str, SiteOutcomeRow]:
    with session_factory(open_db(str(db)))() as s:
        rows = s.execute(select(SiteRow.url, SiteOutcomeRow).join(SiteRow, SiteRow.id == SiteOutcomeRow.site_id)).all()
        s.expunge_all()
        return {url: row for url, row in rows}


def test_outcome_rows_say_how_each_site_went(tmp_path, serve):
    links = "".join(f'<a href="/p{i}.html">第{i}篇</a>' for i in range(6))
    server = serve({
        OK: {"/": Route(body=html("正常站", links + '<a href="/gone">坏链</a>')),
             **{f"/p{i}.html": Route(body=html(f"第{i}篇", "<p>正文</p>")) for i in range(6)}},
        CUT: {"/": Route(body=html("链接很多", "".join(f'<a href="/x{i}.png">图</a>' for i in range(30))))},
    })
    dead = f"http://{DOWN}:{closed_port()}/"
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": "正常单位", "sites": [{"url": f"http://{OK}:{server.port}/"}]},
        {"name": "链接单位", "sites": [{"url": f"http://{CUT}:{server.port}/"}]},
        {"name": "停机单位", "sites": [{"url": dead}]},
    ], resolve={h: "127.0.0.1" for h in (OK, CUT, DOWN)}, settings={"max_links_per_site": 5, "probes": 1})
    db = tmp_path / "g.db"
    govcheck("scan", str(registry), "--db", str(db))

    got = outcomes(db)
    ok, cut, down = got[f"http://{OK}:{server.port}/"], got[f"http://{CUT}:{server.port}/"], got[dead]
    assert (ok.status, ok.homepage_error, ok.partial) == ("complete", None, None)
    assert ok.pages == 7 and ok.targets == 8 and ok.budget_cut == 0      # 7 pages + the broken link
    assert ok.started_at <= ok.finished_at
    assert cut.status == "partial" and "max_links_per_site" in cut.partial and cut.events >= 1
    assert down.status == "complete" and down.homepage_error.startswith("refused") and down.pages == 0
    with session_factory(open_db(str(db)))() as s:
        scan = s.scalar(select(ScanRow))
        kinds = [e.kind for e in s.scalars(select(CrawlEventRow).where(CrawlEventRow.scan_id == scan.id))]
        assert "budget" in kinds
        assert scan.stats["targets"] == ok.targets + cut.targets + down.targets
    # The analysis judged from those rows: the dead homepage, the cut site marked partial.
    records = findings_jsonl(db)
    assert [r["check"] for r in records if r["unit"] == "停机单位"] == ["site_unreachable"]
    assert all(r["detail"].get("partial") for r in records if r["unit"] == "链接单位")
    assert [r["subject"] for r in records if r["unit"] == "正常单位" and r["check"] == "link_broken"] == \
        [f"http://{OK}:{server.port}/gone"]


def test_interrupted_crawl_marks_unfinished_sites_failed(tmp_path, serve):
    slow = {"/": Route(body=html("慢站", "".join(f'<a href="/p{i}.html">第{i}篇</a>' for i in range(40))))}
    slow.update({f"/p{i}.html": Route(body=html(f"第{i}篇", "<p>正文</p>"), delay=0.3) for i in range(40)})
    server = serve({OK: {"/": Route(body=html("快站", "<p>首页</p>"))}, CUT: slow})
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": "快单位", "sites": [{"url": f"http://{OK}:{server.port}/"}]},
        {"name": "慢单位", "sites": [{"url": f"http://{CUT}:{server.port}/"}]},
    ], resolve={OK: "127.0.0.1", CUT: "127.0.0.1"}, settings={"concurrency_per_host": 1, "probes": 0})
    db = tmp_path / "g.db"
    proc = subprocess.Popen([sys.executable, "-m", "govcheck", "scan", str(registry), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.count(CUT, "/p3.html") + server.count(CUT, "/p4.html") < 1:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err[-2000:]
    got = outcomes(db)
    assert got[f"http://{OK}:{server.port}/"].status == "complete"
    slow_row = got[f"http://{CUT}:{server.port}/"]
    assert slow_row.status == "failed" and slow_row.finished_at is not None


READER_BUG = """import runpy, sys
import crawler.spiders.accounts as accounts
real = accounts.parse_feed
def parse_feed(body, content_type):
    # A bug of our own feed reader, on this one feed (no real feed is known to trigger one).
    if b"READER-BUG" in body:
        raise RuntimeError("reader bug")
    return real(body, content_type)
accounts.parse_feed = parse_feed
sys.argv = ["govcheck", *sys.argv[1:]]
runpy.run_module("govcheck", run_name="__main__")
"""


def test_a_feed_our_reader_fails_on_is_a_stored_outcome_any_analysis_reports(tmp_path, serve):
    from govcheck.store.schema import FeedFetchRow

    rss = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{t}</title><item><title>动态</title>'
           '<guid>p1</guid><pubDate>Thu, 18 Apr 2024 09:00:00 +0800</pubDate></item></channel></rss>')
    feeds = {"/ok.xml": Route(body=rss.format(t="正常发布"), content_type="application/rss+xml"),
             "/bug.xml": Route(body=rss.format(t="READER-BUG"), content_type="application/rss+xml")}
    server = serve({"rsshub.example": feeds})
    base = f"http://rsshub.example:{server.port}"
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "新媒体单位", "accounts": [
        {"platform": "wechat", "name": "正常发布", "feed": f"{base}/ok.xml"},
        {"platform": "weibo", "name": "读不了发布", "feed": f"{base}/bug.xml"}]}],
        resolve={"rsshub.example": "127.0.0.1"}, as_of="2024-04-19")
    db = tmp_path / "g.db"
    wrapper = tmp_path / "reader_bug.py"
    wrapper.write_text(READER_BUG, encoding="utf-8")
    # The crawl in one process (the reader failing there), the analysis in another that never
    # saw the spider: what it reports comes from the database alone.
    subprocess.run([sys.executable, str(wrapper), "scan", str(registry), "--db", str(db), "--crawl-only"], check=True,
                   capture_output=True, env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1"), timeout=240)
    with session_factory(open_db(str(db)))() as s:
        fetches = {f.account_id: f for f in s.scalars(select(FeedFetchRow))}
        assert sorted((f.not_judged or "") for f in fetches.values()) == ["", "RuntimeError: reader bug"]
        events = [(e.kind, e.site) for e in s.scalars(select(CrawlEventRow))]
        assert events == [("feed_reader_error", f"{base}/bug.xml")]
    out = govcheck("analyse", "--scan", "1", "--db", str(db)).stdout
    assert "读不了发布" in out and "未判定" in out
    records = findings_jsonl(db)
    # No verdict on the account whose feed was not read; the other one is judged as usual.
    assert not [r for r in records if r["target"] == "读不了发布"]
