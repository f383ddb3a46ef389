"""Analysis as its own step: `govcheck scan --crawl-only` stores the crawl and its outcomes
(homepage errors included) as rows; `govcheck analyse --scan ID` turns them into the same
findings a one-process scan gives, once — a second run changes nothing."""

import socket
import subprocess
import sys

from conftest import Route, findings_jsonl, govcheck, html, write_registry
from sqlalchemy import func, select

from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import ScanRow, SightingRow

HOST, DOWN = "www.step.gov.cn", "www.down.gov.cn"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def registry(tmp_path, serve):
    server = serve({HOST: {
        "/": Route(body=html("分步测试区", '<p>各单位要再接再励。</p><a href="/a.html">文章</a><a href="/gone.html">坏链</a>')),
        "/a.html": Route(body=html("文章", "<p>正文</p>" * 30)),
    }})
    return write_registry(tmp_path / "sites.yaml", [
        {"name": "分步单位", "sites": [{"url": f"http://{HOST}:{server.port}/"}]},
        {"name": "打不开单位", "sites": [{"url": f"http://{DOWN}:{closed_port()}/"}]},
    ], resolve={HOST: "127.0.0.1", DOWN: "127.0.0.1"}, as_of="2024-05-06")


def view(records):
    return sorted((r["check"], r["unit"], r["subject"] or "", r["status"], r["severity"]) for r in records)


def test_crawl_then_analyse_gives_the_one_process_findings_once(tmp_path, serve):
    reg = registry(tmp_path, serve)
    one = tmp_path / "one.db"
    govcheck("scan", str(reg), "--db", str(one))
    expected = view(findings_jsonl(one))
    assert ("link_broken", "分步单位") in {r[:2] for r in expected}
    assert "打不开单位" in {r[1] for r in expected}          # the homepage error made it into a finding

    two = tmp_path / "two.db"
    out = govcheck("scan", str(reg), "--db", str(two), "--crawl-only").stdout
    assert "govcheck analyse --scan 1" in out
    nothing = govcheck("findings", "--db", str(two), check=False)
    assert nothing.returncode == 2                            # crawled is not completed
    govcheck("analyse", "--db", str(two), "--scan", "1")
    first = findings_jsonl(two)
    assert view(first) == expected

    again = govcheck("analyse", "--db", str(two), "--scan", "1").stdout
    assert "already analysed" in again
    assert findings_jsonl(two) == first


def test_analyse_refuses_an_unknown_or_unfinished_scan(tmp_path, serve):
    reg = registry(tmp_path, serve)
    db = tmp_path / "g.db"
    govcheck("scan", str(reg), "--db", str(db), "--crawl-only")
    unknown = govcheck("analyse", "--db", str(db), "--scan", "7", check=False)
    assert unknown.returncode == 2 and "--scan 7" in unknown.stderr
    with session_factory(open_db(str(db))).begin() as s:
        s.add(ScanRow(started_at=s.get(ScanRow, 1).started_at, as_of=s.get(ScanRow, 1).as_of, status="failed",
                      stats={"failed_reason": "SIGTERM received, crawl stopped"}))
    unfinished = govcheck("analyse", "--db", str(db), "--scan", "2", check=False)
    assert unfinished.returncode == 2 and "crawl" in unfinished.stderr


def test_two_analysers_at_once_on_postgresql_merge_once(tmp_path, serve, pg_url):
    reg = registry(tmp_path, serve)
    govcheck("scan", str(reg), "--db", pg_url, "--crawl-only")
    cmd = [sys.executable, "-m", "govcheck", "analyse", "--db", pg_url, "--scan", "1"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=240), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    # One analyses; the other finds it analysed or the analysis lock held (exit 2, nothing written).
    assert codes[0] == 0 and codes[1] in (0, 2), results
    assert all("another scan is running" in err for code, _, err in results if code == 2)
    records = findings_jsonl(pg_url)
    assert records and {r["check"] for r in records} >= {"link_broken"}
    with session_factory(open_db(pg_url))() as s:
        assert s.scalar(select(func.count()).select_from(SightingRow)) == len(records)
        assert s.get(ScanRow, 1).status == "done"
