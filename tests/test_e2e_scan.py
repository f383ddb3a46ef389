"""End to end: a generated site on loopback, the real `govcheck scan` and `govcheck findings`.

Every kind of broken target DESIGN §2 names is planted; the exact set of findings is asserted,
then the site is fixed and scanned again (fixed findings, conditional GET, shared targets).
"""

import socket

from conftest import Route, findings_jsonl, govcheck, html, write_registry
from sqlalchemy import func, select

from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import PageRow

E2E, OTHER, DEAD_UNIT_HOST = "www.e2e.gov.cn", "www.other.gov.cn", "www.down.gov.cn"


def e2e_site(port: int) -> dict[str, Route]:
    home = html("E2E测试区人民政府", f"""
      <div class="nav"><a href="/list/">通知公告</a></div>
      <a href="/a.html">正常文章</a> <a href="/missing.html">已删除的文章</a> <a href="/err500">统计查询</a>
      <a href="/forbidden">内部系统</a> <a href="/busy">办事大厅</a> <a href="/slow.html">实时数据</a>
      <a href="/soft.html">政策图解</a> <a href="/old/page.html">旧版链接</a> <a href="/loop1">循环跳转</a>
      <a href="http://dead.gov.cn/">原网站</a> <a href="http://www.example-portal.com:{port}/">旅游资讯网</a>
      <div style="display:none"><a href="http://www.casino-x.com:{port}/">娱乐城</a></div>
      <img src="/logo.png"><img src="/missing.png"><script src="/js/app.js"></script>
      <a href="/files/report.pdf">年度报告.pdf</a><a href="http://{OTHER}:{port}/">兄弟单位</a>""")
    return {
        "/": Route(body=home, encoding="gb18030", content_type="text/html"),  # undeclared GBK
        "/a.html": Route(body=html("正常文章", "<p>正文内容</p>" * 50)),
        "/err500": Route(500, "Internal Server Error"),
        "/forbidden": Route(403, html("403 Forbidden")),
        "/busy": Route(429, "Too Many Requests", headers={"Retry-After": "1"}),
        "/slow.html": Route(body=html("慢"), delay=5),
        "/soft.html": Route(body=html("提示信息", "对不起，您访问的页面不存在！")),
        "/old/page.html": Route(redirect="/"),
        "/loop1": Route(redirect="/loop2"), "/loop2": Route(redirect="/loop1"),
        "/logo.png": Route(body=b"\x89PNG", content_type="image/png", head_status=405),
        "/js/app.js": Route(body=b"var a;", content_type="application/javascript"),
        "/files/report.pdf": Route(body=b"%PDF-1.4", content_type="application/pdf"),
        "/list/": Route(body=html("通知公告", '<a href="b.html">通知一</a><a href="index_1.html">下一页</a>')),
        "/list/index_1.html": Route(body=html("通知公告", '<a href="c.html">通知二</a>')),
        "/list/b.html": Route(body=html("通知一", "<p>内容</p>")),
        "/list/c.html": Route(body=html("通知二", '<a href="gone.html">相关附件</a>')),
    }


def other_site(port: int) -> dict[str, Route]:
    return {"/": Route(body=html("兄弟单位", f'<a href="http://{E2E}:{port}/missing.html">链接到坏链</a>'
                                             f'<a href="http://dead.gov.cn/">原网站</a><a href="http://{E2E}:{port}/">E2E</a>'
                                             f'<a href="http://{E2E}:{port}/orphan.html">孤立页面</a>'))}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scan_reports_exactly_the_planted_problems(tmp_path, serve):
    server = serve({})
    port = server.port
    server.hosts = {E2E: e2e_site(port), OTHER: other_site(port),
                    "www.example-portal.com": {"/": Route(body=html("旅游资讯网", "欢迎"))},
                    "www.casino-x.com": {"/": Route(body=html("娱乐城", "欢迎"))}}
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": "E2E测试区人民政府", "group": "旗区", "sites": [{"url": f"http://{E2E}:{port}/"}]},
        {"name": "兄弟单位", "group": "部门", "sites": [{"url": f"http://{OTHER}:{port}/"}]},
        {"name": "停机单位", "group": "部门", "sites": [{"url": f"http://{DEAD_UNIT_HOST}:{closed_port()}/"}]},
    ], resolve={h: "127.0.0.1" for h in (E2E, OTHER, DEAD_UNIT_HOST, "www.example-portal.com", "www.casino-x.com")},
        settings={"timeout": 1.5}, as_of="2024-04-19")
    db = tmp_path / "g.db"

    first = govcheck("scan", str(registry), "--db", str(db))
    assert "首页无法打开" in first.stdout and DEAD_UNIT_HOST in first.stdout   # reported, did not stop the others
    records = findings_jsonl(db)
    base, ext, casino = f"http://{E2E}:{port}", f"http://www.example-portal.com:{port}/", f"http://www.casino-x.com:{port}/"
    expected = {
        ("E2E测试区人民政府", "link_broken", f"{base}/missing.html", "404"),
        ("E2E测试区人民政府", "link_broken", f"{base}/err500", "500"),
        ("E2E测试区人民政府", "link_broken", f"{base}/slow.html", "timeout"),
        ("E2E测试区人民政府", "link_broken", f"{base}/soft.html", "soft404"),
        ("E2E测试区人民政府", "link_broken", f"{base}/old/page.html", "redirect_home"),
        ("E2E测试区人民政府", "link_broken", f"{base}/loop1", "too_many_redirects"),
        ("E2E测试区人民政府", "link_broken", "http://dead.gov.cn/", "dns"),
        ("E2E测试区人民政府", "link_broken", f"{base}/missing.png", "404"),
        ("E2E测试区人民政府", "link_broken", f"{base}/list/gone.html", "404"),
        ("E2E测试区人民政府", "link_undetermined", f"{base}/forbidden", "403"),
        ("E2E测试区人民政府", "link_undetermined", f"{base}/busy", "429"),
        ("E2E测试区人民政府", "link_external", ext, None),
        ("E2E测试区人民政府", "link_external", casino, None),
        ("E2E测试区人民政府", "link_hidden", casino, None),
        ("兄弟单位", "link_broken", f"{base}/missing.html", "404"),
        ("兄弟单位", "link_broken", "http://dead.gov.cn/", "dns"),
        ("兄弟单位", "link_broken", f"{base}/orphan.html", "404"),   # checked once the crawl is idle
    }
    links = [r for r in records if r["check"].startswith("link_")]
    got = {(r["unit"], r["check"], r["subject"], r["detail"].get("reason")) for r in links}
    assert got == expected
    down = [r for r in records if r["unit"] == "停机单位"]
    assert [(r["check"], r["severity"]) for r in down] == [("site_unreachable", "veto")]
    # Units read the reason in Chinese; the technical message stays in the detail for staff.
    assert "连接被拒绝" in down[0]["evidence"] and "refused" not in down[0]["evidence"]
    assert down[0]["detail"]["homepage_error"].startswith("refused")
    assert all(r["status"] == "open" and r["scan_id"] == 1 and r["first_seen"].startswith("2024-04-19") for r in links)

    # Every unique target once per scan, even when two sites link it; assets by HEAD first.
    assert server.count(E2E, "/missing.html", "GET") == 1
    assert server.count(E2E, "/orphan.html", "GET") == 1
    # The PDF link is checked by HEAD; then, being a readable attachment, fetched once to be
    # read for personal data.
    assert server.count(E2E, "/files/report.pdf", "HEAD") == 1 and server.count(E2E, "/files/report.pdf", "GET") == 1
    assert server.count(E2E, "/logo.png", "HEAD") == 1 and server.count(E2E, "/logo.png", "GET") == 1  # HEAD 405 → GET
    # Retry-After: 1 honoured between the two attempts at /busy.
    busy = [t for (h, _m, p), t in zip(server.requests, server.request_times) if h == E2E and p == "/busy"]
    assert len(busy) == 2 and busy[1] - busy[0] >= 0.95
    # The homepage link's evidence names the referring page and the anchor text (decoded from GBK).
    missing = next(r for r in links if r["unit"] == "E2E测试区人民政府" and r["subject"].endswith("/missing.html"))
    assert "HTTP 404" in missing["evidence"] and "已删除的文章" in missing["evidence"]
    assert missing["detail"]["on_homepage"] is True and missing["url"] == f"{base}/"
    gone = next(r for r in links if r["subject"].endswith("/list/gone.html"))
    assert gone["detail"]["on_homepage"] is False and gone["url"] == f"{base}/list/c.html"  # found via pagination

    # The unit fixes two problems; the next scan marks them fixed and sends conditional GETs.
    server.hosts[E2E]["/missing.html"] = Route(body=html("已恢复的文章", "<p>正文</p>" * 50))
    server.hosts[E2E]["/err500"] = Route(body=html("统计查询", "<p>查询系统</p>" * 50))
    conditional_before = len(server.conditional)
    govcheck("scan", str(registry), "--db", str(db), "--as-of", "2024-04-26")
    second = [r for r in findings_jsonl(db) if r["check"].startswith("link_")]
    status = {(r["unit"], r["subject"], r["check"]): r["status"] for r in second}
    assert status[("E2E测试区人民政府", f"{base}/missing.html", "link_broken")] == "fixed"
    assert status[("兄弟单位", f"{base}/missing.html", "link_broken")] == "fixed"
    assert status[("E2E测试区人民政府", f"{base}/err500", "link_broken")] == "fixed"
    still = [r for r in second if r["status"] == "open"]
    assert len(still) == len(expected) - 3
    assert status[("兄弟单位", f"{base}/orphan.html", "link_broken")] == "open"
    assert all(r["first_seen"].startswith("2024-04-19") and r["last_seen"].startswith("2024-04-26") for r in still)
    assert len(server.conditional) > conditional_before
    with session_factory(open_db(str(db)))() as s:
        assert s.scalar(select(func.count()).select_from(PageRow).where(PageRow.scan_id == 2, PageRow.not_modified)) > 0
    # Scan 1 is still there as it was.
    assert {(r["unit"], r["check"], r["subject"], r["detail"].get("reason"))
            for r in findings_jsonl(db, "1") if r["check"].startswith("link_")} == expected
