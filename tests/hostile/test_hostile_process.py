"""Issue 11, process faults: SIGTERM mid-scan behind a Retry-After host, one scan at a time per
database, stale `running` scans, and Beijing-time "today" on a host whose clock says UTC.
Each beside a healthy site whose findings must be complete."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import Route, findings_jsonl, govcheck, html, write_registry
from sqlalchemy import select

from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import ScanRow

HEALTHY = "www.healthy.gov.cn"
BEIJING = dt.timezone(dt.timedelta(hours=8))


def healthy_routes() -> dict[str, Route]:
    return {"/": Route(body=html("健康区", '<a href="/a.html">动态</a><a href="/gone.html">坏链</a>')),
            "/a.html": Route(body=html("动态", "<p>发布时间：2024-04-18</p>"))}


def slow_routes(n: int = 200) -> dict[str, Route]:
    routes = {"/": Route(body=html("慢站", "".join(f'<a href="/s{i}.html">第{i}篇</a>' for i in range(n))))}
    routes["*"] = Route(429, html("Too Many Requests"), headers={"Retry-After": "30"})
    return routes


def registry(tmp_path, port: int, **kw):
    return write_registry(tmp_path / "sites.yaml", [
        {"name": "健康单位", "sites": [{"url": f"http://{HEALTHY}:{port}/"}]},
        {"name": "限流单位", "sites": [{"url": f"http://www.slow.gov.cn:{port}/"}]}],
        resolve={HEALTHY: "127.0.0.1", "www.slow.gov.cn": "127.0.0.1"}, as_of="2024-04-19", **kw)


def start_scan(reg, db, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "govcheck", "scan", str(reg), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1", **(env or {})))


def wait_for(server, host: str, path_prefix: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(h == host and p.startswith(path_prefix) for h, _m, p in list(server.requests)):
            return
        time.sleep(0.1)
    raise AssertionError(f"no request to {host}{path_prefix}")


def statuses(db) -> list[str]:
    with session_factory(open_db(str(db)))() as s:
        return [sc.status for sc in s.scalars(select(ScanRow).order_by(ScanRow.id))]


@pytest.mark.slow
def test_sigterm_behind_retry_after_stops_within_seconds(tmp_path, serve):
    server = serve({HEALTHY: healthy_routes(), "www.slow.gov.cn": {"/": Route(body=html("慢站", "<p>正常</p>"))}})
    reg = registry(tmp_path, server.port)
    db = tmp_path / "g.db"
    govcheck("scan", str(reg), "--db", str(db))
    before = findings_jsonl(db)
    assert any(r["check"] == "link_broken" and r["subject"].endswith("/gone.html") for r in before)

    server.hosts["www.slow.gov.cn"] = slow_routes()      # now: 429 Retry-After: 30 on 200 links
    proc = start_scan(reg, db)
    wait_for(server, "www.slow.gov.cn", "/s")
    time.sleep(1.0)                                       # the retries are now waiting on the host's slot
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    assert took < 10, f"SIGTERM honoured after {took:.1f}s"
    assert proc.returncode == 1 and "SIGTERM" in err, err[-1500:]
    assert statuses(db) == ["done", "failed"]
    assert findings_jsonl(db) == before                    # the previous scan's findings, untouched


def test_second_scan_on_same_database_is_refused(tmp_path, serve):
    server = serve({HEALTHY: healthy_routes(), "www.slow.gov.cn": slow_routes(20)})
    reg = registry(tmp_path, server.port, settings={"site_time_budget": 120})
    db = tmp_path / "g.db"
    first = start_scan(reg, db)
    wait_for(server, "www.slow.gov.cn", "/s")            # first scan is crawling (behind a Retry-After)
    second = govcheck("scan", str(reg), "--db", str(db), check=False)
    assert second.returncode == 2 and "another scan is running" in second.stderr, second.stderr
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=60)
    # The lock went with the first scan's process: the next scan runs and completes.
    govcheck("scan", str(reg), "--db", str(db), "--unit", "健康单位")
    assert statuses(db) == ["failed", "done"]          # the refused scan left no row
    healthy = [r for r in findings_jsonl(db) if HEALTHY in r["target"]]
    assert any(r["check"] == "link_broken" and r["subject"].endswith("/gone.html") for r in healthy)


def test_stale_running_scan_is_marked_failed_at_next_start(tmp_path, serve):
    server = serve({HEALTHY: healthy_routes(), "www.slow.gov.cn": {"/": Route(body=html("正常", "<p>正常</p>"))}})
    reg = registry(tmp_path, server.port)
    db = tmp_path / "g.db"
    engine = open_db(str(db))
    with session_factory(engine).begin() as s:   # what a SIGKILLed scan leaves behind
        s.add(ScanRow(started_at=dt.datetime(2024, 4, 18, 1, 30), as_of=dt.date(2024, 4, 18), status="running"))
    govcheck("scan", str(reg), "--db", str(db))
    with session_factory(engine)() as s:
        rows = s.scalars(select(ScanRow).order_by(ScanRow.id)).all()
        assert [r.status for r in rows] == ["failed", "done"]
        assert "stale" in rows[0].stats["failed_reason"] and rows[0].finished_at is not None
    assert any(r["subject"] and r["subject"].endswith("/gone.html") for r in findings_jsonl(db))


def rss_item(title: str, when: dt.datetime) -> str:
    return (f"<item><title>{title}</title><link>https://mp.weixin.qq.com/s/{title}</link><guid>{title}</guid>"
            f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S +0800')}</pubDate></item>")


@pytest.mark.parametrize("tz", ["UTC", "Etc/GMT+12"])
def test_today_is_beijing_today_whatever_the_host_clock(tmp_path, serve, tz):
    """A post made 2 hours ago (Beijing time) is today's post, with no --as-of, on a host whose
    clock is UTC (or UTC-12, where the host's date lags Beijing's most of the day)."""
    now = dt.datetime.now(BEIJING).replace(tzinfo=None)
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f</title>'
            + rss_item("两小时前", now - dt.timedelta(hours=2)) + "</channel></rss>")
    server = serve({HEALTHY: healthy_routes(), "rsshub.example": {"/f.xml": Route(body=feed, content_type="application/rss+xml")}})
    reg = write_registry(tmp_path / "sites.yaml", [
        {"name": "健康单位", "sites": [{"url": f"http://{HEALTHY}:{server.port}/"}],
         "accounts": [{"platform": "wechat", "name": "今日发布", "feed": f"http://rsshub.example:{server.port}/f.xml"}]}],
        resolve={HEALTHY: "127.0.0.1", "rsshub.example": "127.0.0.1"})
    db = tmp_path / "g.db"
    proc = subprocess.run([sys.executable, "-m", "govcheck", "scan", str(reg), "--db", str(db)], capture_output=True,
                          text=True, timeout=240, env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1", TZ=tz))
    assert proc.returncode == 0, proc.stderr[-1500:]
    records = findings_jsonl(db)
    assert not [r for r in records if r["target_kind"] == "account"]        # not stale, not unreachable
    with session_factory(open_db(str(db)))() as s:
        scan = s.scalars(select(ScanRow)).one()
        assert scan.as_of == (now - dt.timedelta(seconds=60)).date() or scan.as_of == now.date()
    assert any(r["subject"] and r["subject"].endswith("/gone.html") for r in records)
