"""End to end at a fixed --as-of: fresh, stale (each rule) and blank columns, an old homepage,
a probe history in the window, and a closed port."""

import datetime as dt
import socket

from conftest import Route, findings_jsonl, govcheck, html, write_registry

from govcheck.registry import load_registry
from govcheck.store.engine import open_db, session_factory
from govcheck.store.queries import sync_registry
from govcheck.store.schema import ProbeRow

HOST, DOWN = "www.fresh.gov.cn", "www.down.gov.cn"


def rows(prefix: str, dates: list[str], dated: bool = True) -> str:
    return '<ul class="list">' + "".join(
        f'<li><a href="{prefix}{i}.html">{prefix.strip("/")}第{i}条</a>{"<span>" + d + "</span>" if dated else ""}</li>'
        for i, d in enumerate(dates)) + "</ul>"


def site() -> dict[str, Route]:
    r = {"/": Route(body=html("新鲜度测试区人民政府", '<div class="nav"><a href="/gzdt/">工作动态</a></div>'
                                                 + rows("/gzdt/", ["2024-03-01", "2024-02-20"])))}
    columns = {
        "/gzdt/": ["2024-03-01", "2024-02-20"],     # 2w: 49 days → stale
        "/tzgg/": ["2024-01-10", "2023-12-01"],     # 6m: fresh
        "/zcwj/": ["2023-08-01"],                   # 6m (explicit): stale
        "/rsxx/": ["2022-12-01", "2022-06-01"],     # 1y: stale
        "/jgzn/": ["2010-01-01"],                   # rule none: never judged
    }
    for path, dates in columns.items():
        r[path] = Route(body=html("栏目", rows(path, dates)))
        for i, d in enumerate(dates):
            r[f"{path}{i}.html"] = Route(body=html("文章", f"<p>发布时间：{d}</p>"))
    r["/ghjh/"] = Route(body=html("规划计划", '<ul class="list"></ul>'))   # blank
    r["/tpxw/"] = Route(body=html("图片新闻", rows("/tpxw/", ["", ""], dated=False)))
    r["/tpxw/0.html"] = Route(body=html("图", "<p>正文</p>", head='<meta name="PubDate" content="2024-04-18 09:00">'))
    r["/tpxw/1.html"] = Route(body=html("图", "<p>正文</p>", head='<meta name="PubDate" content="2024-04-10 09:00">'))
    return r                                     # /tjsj/ is missing: a column page that 404s


def test_freshness_end_to_end(tmp_path, serve):
    server = serve({HOST: site()})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    base = f"http://{HOST}:{server.port}"
    columns = [{"name": "工作动态", "url": f"{base}/gzdt/"}, {"name": "通知公告", "url": f"{base}/tzgg/"},
               {"name": "重要文件", "url": f"{base}/zcwj/", "rule": "6m"}, {"name": "人事信息", "url": f"{base}/rsxx/"},
               {"name": "机构职能", "url": f"{base}/jgzn/", "rule": "none"}, {"name": "规划计划", "url": f"{base}/ghjh/"},
               {"name": "图片新闻", "url": f"{base}/tpxw/"}, {"name": "统计数据", "url": f"{base}/tjsj/"}]
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": "新鲜度测试区", "sites": [{"url": f"{base}/", "columns": columns}]},
        {"name": "停机单位", "sites": [{"url": f"http://{DOWN}:{closed}/"}]},
    ], resolve={HOST: "127.0.0.1", DOWN: "127.0.0.1"})
    db = tmp_path / "g.db"
    # A week of daytime probes before this scan: 1 failure in 20 (the scheduler's, issue 7).
    sessions = session_factory(open_db(str(db)))
    with sessions.begin() as s:
        site_id = sync_registry(s, load_registry(registry))[f"{base}/"]
        for i in range(20):
            s.add(ProbeRow(site_id=site_id, at=dt.datetime(2024, 4, 14, 8) + dt.timedelta(hours=i), ok=i != 5,
                           status=200 if i != 5 else None, error=None if i != 5 else "timeout"))
        s.add(ProbeRow(site_id=site_id, at=dt.datetime(2024, 3, 1, 8), ok=False, error="outside the window"))

    govcheck("scan", str(registry), "--db", str(db), "--as-of", "2024-04-19")
    freshness = {"home_not_updated", "column_stale", "column_blank", "site_unreachable"}
    records = [r for r in findings_jsonl(db) if r["check"] in freshness]
    got = {(r["unit"], r["check"], r["subject"], r["severity"]) for r in records}
    assert got == {
        ("新鲜度测试区", "home_not_updated", None, "veto"),
        ("新鲜度测试区", "column_stale", "工作动态", "deduct"),
        ("新鲜度测试区", "column_stale", "重要文件", "deduct"),
        ("新鲜度测试区", "column_stale", "人事信息", "deduct"),
        ("新鲜度测试区", "column_blank", "规划计划", "deduct"),
        ("新鲜度测试区", "column_blank", "统计数据", "deduct"),
        ("新鲜度测试区", "site_unreachable", None, "warn"),     # 1 of 23 probes: 4.3 %
        ("停机单位", "site_unreachable", None, "veto"),
    }
    by = {(r["check"], r["subject"]): r for r in records if r["unit"] == "新鲜度测试区"}
    home = by[("home_not_updated", None)]
    assert home["detail"]["newest"] == "2024-03-01" and home["detail"]["age_days"] == 49
    gzdt = by[("column_stale", "工作动态")]
    assert gzdt["detail"]["rule"] == "2w" and gzdt["detail"]["age_days"] == 49 and gzdt["url"] == f"{base}/gzdt/"
    assert by[("column_stale", "重要文件")]["detail"]["rule_source"] == "registry"
    assert by[("column_stale", "人事信息")]["detail"]["rule"] == "1y"
    assert "HTTP 404" in by[("column_blank", "统计数据")]["evidence"]
    unreachable = by[("site_unreachable", None)]
    assert unreachable["detail"]["probes"] == 23 and unreachable["detail"]["failures"] == 1

    # The unit updates its homepage and 工作动态; a week later both findings are fixed.
    server.hosts[HOST]["/"] = Route(body=html("首页", rows("/gzdt/", ["2024-04-25", "2024-03-01"])))
    server.hosts[HOST]["/gzdt/"] = Route(body=html("工作动态", rows("/gzdt/", ["2024-04-25", "2024-03-01"])))
    govcheck("scan", str(registry), "--db", str(db), "--as-of", "2024-04-26")
    status = {(r["check"], r["subject"]): r["status"] for r in findings_jsonl(db) if r["unit"] == "新鲜度测试区"}
    assert status[("home_not_updated", None)] == "fixed" and status[("column_stale", "工作动态")] == "fixed"
    assert status[("column_stale", "人事信息")] == "open"
