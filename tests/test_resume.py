"""Issue 18: `govcheck scan --resume ID` continues a scan whose process was killed mid-crawl:
finished sites are not crawled again, pages the scan stored are not fetched again, and the
findings equal those of a scan that was never interrupted."""

import json
import os
import signal
import subprocess
import sys
import time

from conftest import Route, findings_jsonl, govcheck, html, stored_pages, write_registry
from sqlalchemy import func, select

from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import PageRow, ScanRow, SiteOutcomeRow, SiteRow

SMALL, BIG = "www.small.gov.cn", "www.big.gov.cn"


def big_site(n: int) -> dict[str, Route]:
    """A tree of n articles under 5 list pages, a few planted problems deep inside."""
    lists = {f"/list{j}/": Route(body=html(f"栏目{j}", "".join(
        f'<a href="/list{j}/a{i}.html">文章{i}</a>' for i in range(j, n, 5)))) for j in range(5)}
    routes = {"/": Route(body=html("大站首页", "".join(f'<a href="/list{j}/">栏目{j}</a>' for j in range(5))))}
    routes.update(lists)
    for i in range(n):
        extra = f'<a href="/gone{i}.html">失效{i}</a>' if i % 17 == 0 else ""
        extra += '<p>本网站由南朝鲜提供</p>' if i == n - 3 else ""
        routes[f"/list{i % 5}/a{i}.html"] = Route(body=html(f"文章{i}", f"<p>正文{i}</p>{extra}"), delay=0.1)
    return routes


def small_site() -> dict[str, Route]:
    return {"/": Route(body=html("小站", '<a href="/x.html">文章</a><a href="/missing.html">坏链</a>')),
            "/x.html": Route(body=html("文章", "<p>内容</p>"))}


def comparable(records: list[dict]) -> list[str]:
    keep = ("unit", "check", "severity", "target", "subject", "url", "evidence", "detail", "status")
    return sorted(json.dumps({k: r.get(k) for k in keep}, ensure_ascii=False, sort_keys=True) for r in records)


def requests_since(server, start: int, host: str) -> list[str]:
    return [path for h, _method, path in server.requests[start:] if h == host]


def test_resume_after_sigkill_gives_the_uninterrupted_findings(tmp_path, serve):
    server = serve({SMALL: small_site(), BIG: big_site(60)})
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": "小单位", "sites": [{"url": f"http://{SMALL}:{server.port}/"}]},
        {"name": "大单位", "sites": [{"url": f"http://{BIG}:{server.port}/"}]},
    ], resolve={SMALL: "127.0.0.1", BIG: "127.0.0.1"}, settings={"concurrency_per_host": 1, "probes": 2},
        as_of="2024-04-19")
    whole = tmp_path / "whole.db"
    govcheck("scan", str(registry), "--db", str(whole))
    expected = comparable(findings_jsonl(whole))
    assert any(r.startswith('{"check": "link_broken"') for r in expected)

    db = tmp_path / "g.db"
    proc = subprocess.Popen([sys.executable, "-m", "govcheck", "scan", str(registry), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1"))
    deadline = time.monotonic() + 90
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        stored = stored_pages(db)
        if stored >= 20:   # a good part of the big site is stored, not all of it
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert stored >= 20
    sessions = session_factory(open_db(str(db)))
    with sessions() as s:
        assert s.scalar(select(ScanRow.status)) == "running"
        before = {(site, url) for site, url in s.execute(select(SiteRow.url, PageRow.url).join(
            SiteRow, SiteRow.id == PageRow.site_id))}
        status = dict(s.execute(select(SiteRow.url, SiteOutcomeRow.status).join(
            SiteRow, SiteRow.id == SiteOutcomeRow.site_id)).all())
    small_url, big_url = f"http://{SMALL}:{server.port}/", f"http://{BIG}:{server.port}/"
    assert status == {small_url: "complete", big_url: "crawling"}
    big_pages = {url for site, url in before if site == big_url}
    assert 0 < len(big_pages) < 66

    resumed_from = len(server.requests)
    out = govcheck("scan", str(registry), "--db", str(db), "--resume", "1")
    assert "巡检批次 1" in out.stdout
    again = requests_since(server, resumed_from, BIG)
    assert requests_since(server, resumed_from, SMALL) == []     # the finished site is left alone
    prefix = big_url.rstrip("/")
    refetched = [u for u in big_pages if u[len(prefix):] in again]
    assert refetched == []                                         # stored pages are not fetched again
    assert again                                                   # the rest was
    assert comparable(findings_jsonl(db)) == expected
    with session_factory(open_db(str(db)))() as s:
        assert s.scalar(select(ScanRow.status)) == "done"
        assert set(s.scalars(select(SiteOutcomeRow.status))) == {"complete"}
        assert s.scalar(select(func.count()).select_from(PageRow)) == \
            session_factory(open_db(str(whole)))().scalar(select(func.count()).select_from(PageRow))


def test_resume_refuses_unknown_and_finished_scans(tmp_path, serve):
    server = serve({SMALL: small_site()})
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "小单位", "sites": [{"url": f"http://{SMALL}:{server.port}/"}]}],
                              resolve={SMALL: "127.0.0.1"}, as_of="2024-04-19")
    db = tmp_path / "g.db"
    govcheck("scan", str(registry), "--db", str(db))
    unknown = govcheck("scan", str(registry), "--db", str(db), "--resume", "7", check=False)
    assert unknown.returncode == 2 and "--resume 7: no such scan" in unknown.stderr
    done = govcheck("scan", str(registry), "--db", str(db), "--resume", "1", check=False)
    assert done.returncode == 2 and "complete already" in done.stderr
    missing = govcheck("scan", str(registry), "--db", str(tmp_path / "none.db"), "--resume", "1", check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
