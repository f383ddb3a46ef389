"""An interrupted scan leaves the database consistent and the previous scan's findings intact;
--unit and --max-pages limit what a scan touches."""

import os
import signal
import subprocess
import sys
import time

from conftest import Route, findings_jsonl, govcheck, html, write_registry
from sqlalchemy import select

from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import PageRow, ScanRow


def many_pages(n: int, delay: float = 0.0) -> dict[str, Route]:
    routes = {"/": Route(body=html("首页", "".join(f'<a href="/p{i}.html">第{i}篇</a>' for i in range(n)) + '<a href="/gone">坏链</a>'))}
    routes.update({f"/p{i}.html": Route(body=html(f"第{i}篇", "<p>正文</p>"), delay=delay) for i in range(n)})
    return routes


def test_interrupted_scan_keeps_previous_findings(tmp_path, serve):
    server = serve({"www.i.gov.cn": many_pages(40)})
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "中断单位", "sites": [{"url": f"http://www.i.gov.cn:{server.port}/"}]}],
                              resolve={"www.i.gov.cn": "127.0.0.1"}, settings={"concurrency_per_host": 1})
    db = tmp_path / "g.db"
    govcheck("scan", str(registry), "--db", str(db))
    before = findings_jsonl(db)
    assert [r["check"] for r in before if r["check"].startswith("link_")] == ["link_broken"]

    # Scan 2: the broken link is repaired but every page is now slow; stop it half-way.
    server.hosts["www.i.gov.cn"] = many_pages(40, delay=0.2)
    server.hosts["www.i.gov.cn"]["/gone"] = Route(body=html("已修复", "<p>正文</p>" * 40))
    already = len(server.requests)
    proc = subprocess.Popen([sys.executable, "-m", "govcheck", "scan", str(registry), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(server.requests) < already + 4:  # scan 2 is crawling
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "interrupted" in err, err[-2000:]

    with session_factory(open_db(str(db)))() as s:
        statuses = [sc.status for sc in s.scalars(select(ScanRow).order_by(ScanRow.id))]
        assert statuses == ["done", "failed"]
    after = findings_jsonl(db)          # latest completed scan is still scan 1, unchanged
    assert after == before
    assert all(r["status"] == "open" for r in after)  # not marked fixed by the half-done scan


def test_unit_filter_and_max_pages(tmp_path, serve):
    server = serve({"www.a.gov.cn": many_pages(30), "www.b.gov.cn": many_pages(3)})
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": "甲单位", "sites": [{"url": f"http://www.a.gov.cn:{server.port}/"}]},
        {"name": "乙单位", "sites": [{"url": f"http://www.b.gov.cn:{server.port}/"}]},
    ], resolve={"www.a.gov.cn": "127.0.0.1", "www.b.gov.cn": "127.0.0.1"})
    db = tmp_path / "g.db"
    govcheck("scan", str(registry), "--db", str(db), "--unit", "甲单位", "--max-pages", "5")
    assert not any(h == "www.b.gov.cn" for h, _m, _p in server.requests)
    with session_factory(open_db(str(db)))() as s:
        assert len(s.scalars(select(PageRow)).all()) == 5
    # Pages beyond the limit are still checked as link targets (GET, not parsed).
    assert server.count("www.a.gov.cn", "/p20.html") == 1
    assert {r["unit"] for r in findings_jsonl(db)} == {"甲单位"}
