"""Incremental re-scans (issue 15): an unchanged page is not re-parsed, a target that worked
within the recheck window is not requested again, nothing unchanged is stored twice — and the
findings are exactly those a full scan of the same site gives."""

import datetime as dt

import pytest
from conftest import Route, findings_jsonl, govcheck, html, write_registry
from sqlalchemy import func, select

from govcheck.pagefacts import facts_hold
from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import FindingRow, LinkRow, PageRow, SnapshotRow, TargetRow

HOST = "www.inc.gov.cn"
AS_OF = "2024-04-19"
COMPARED = ("unit", "target_kind", "target", "check", "severity", "url", "subject", "evidence", "detail", "status")


def site(port: int) -> dict[str, Route]:
    home = html("增量测试区人民政府", f"""
      <div class="nav"><a href="/tzgg/">通知公告</a><a href="/gzdt/">工作动态</a></div>
      <ul><li><a href="/tzgg/a1.html">关于开展检查的通知</a><span>2024-04-10</span></li></ul>
      <a href="/missing.html">已删除的文章</a> <a href="http://www.tour-portal.com:{port}/">旅游资讯网</a>
      <div style="display:none"><a href="http://www.casino-x.com:{port}/">娱乐城</a></div>
      <img src="/logo.png"><script src="/js/app.js"></script>
      <div class="footer">主办单位：增量测试区人民政府办公室 网站标识码：1599000002</div>""")
    routes = {
        "/": Route(body=home),
        "/tzgg/": Route(body=html("通知公告", '<ul><li><a href="a1.html">关于开展检查的通知</a><span>2024-04-10</span></li>'
                                           '<li><a href="a2.html">联系方式公示</a><span>2023-01-05</span></li></ul>')),
        "/gzdt/": Route(body=html("工作动态", '<ul><li><a href="/tzgg/a2.html">联系方式公示</a><span>2023-01-05</span></li></ul>')),
        "/tzgg/a1.html": Route(body=html("关于开展检查的通知", '<p>台湾政府有关人士表示。</p><a href="/files/a1.pdf">附件</a>'
                                                       '<img src="/img/a1.jpg">')),
        "/tzgg/a2.html": Route(body=html("联系方式公示", "<p>联系人：张三，电话 13912345678。</p><img src='/img/gone.jpg'>")),
        "/logo.png": Route(body=b"\x89PNG", content_type="image/png"),
        "/js/app.js": Route(body=b"var a;", content_type="application/javascript"),
        "/files/a1.pdf": Route(body=b"%PDF-1.4", content_type="application/pdf"),
        "/img/a1.jpg": Route(body=b"\xff\xd8", content_type="image/jpeg"),
    }
    return routes


def registry(tmp_path, port, **settings):
    return write_registry(tmp_path / "sites.yaml", [{"name": "增量测试区人民政府", "sites": [
        {"url": f"http://{HOST}:{port}/", "site_code": "1599000002"}]}],
        resolve={HOST: "127.0.0.1", "www.tour-portal.com": "127.0.0.1", "www.casino-x.com": "127.0.0.1"},
        settings=settings, as_of=AS_OF)


def comparable(findings):
    return sorted(({k: f[k] for k in COMPARED} for f in findings), key=lambda f: (f["check"], f["target"], f["url"]))


def counts(db):
    with session_factory(open_db(str(db)))() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in (PageRow, LinkRow, TargetRow, SnapshotRow)}


def scan(reg, db):
    govcheck("scan", str(reg), "--db", str(db))


def test_unchanged_rescan_carries_everything_and_matches_a_full_scan(tmp_path, serve):
    server = serve({HOST: {}})
    server.hosts[HOST] = site(server.port)
    reg = registry(tmp_path, server.port)
    db = tmp_path / "nightly.db"
    scan(reg, db)
    first = counts(db)
    before = len(server.requests)
    scan(reg, db)
    second_requests = server.requests[before:]
    rescan = findings_jsonl(db)

    # The same site scanned from scratch: the carried-over scan must report exactly this.
    scan(reg, tmp_path / "full.db")
    full = findings_jsonl(tmp_path / "full.db")
    assert {f["check"] for f in full} >= {"link_broken", "link_external", "link_hidden", "word_serious", "privacy_leak"}
    assert comparable(rescan) == comparable(full)

    # Pages were asked conditionally (304), assets that worked were not asked at all, the
    # broken targets were asked again.
    assert all(m == "GET" for h, m, p in second_requests if h == HOST and p.endswith(".html") and p != "/missing.html")
    assert not [p for h, m, p in second_requests if p in ("/logo.png", "/js/app.js", "/img/a1.jpg", "/files/a1.pdf")]
    assert {"/missing.html", "/img/gone.jpg"} <= {p for _h, _m, p in second_requests}
    assert (HOST, "/tzgg/a1.html") in server.conditional
    # Nothing unchanged was stored again.
    assert counts(db) == first
    with session_factory(open_db(str(db)))() as s:
        assert s.scalar(select(func.count()).select_from(PageRow).where(PageRow.scan_id == 2)) == first["pages"]
        assert s.scalar(select(func.count()).select_from(TargetRow).where(TargetRow.scan_id == 2)) == first["targets"]


def test_a_changed_page_is_parsed_again(tmp_path, serve):
    server = serve({HOST: {}})
    server.hosts[HOST] = site(server.port)
    reg = registry(tmp_path, server.port)
    db = tmp_path / "g.db"
    scan(reg, db)
    first = counts(db)
    server.hosts[HOST]["/tzgg/a1.html"] = Route(body=html("关于开展检查的通知", "<p>已更正。</p>"))
    scan(reg, db)
    checks = {(f["check"], f["url"].rsplit("/", 1)[-1], f["status"]) for f in findings_jsonl(db)}
    assert ("word_serious", "a1.html", "fixed") in checks
    assert counts(db)["pages"] == first["pages"] + 1     # one new version, the rest shared


def test_recheck_window_zero_requests_every_target_again(tmp_path, serve):
    server = serve({HOST: {}})
    server.hosts[HOST] = site(server.port)
    reg = registry(tmp_path, server.port, recheck_hours=0)
    db = tmp_path / "g.db"
    scan(reg, db)
    first = counts(db)
    before = len(server.requests)
    scan(reg, db)
    assert {"/logo.png", "/img/a1.jpg", "/files/a1.pdf"} <= {p for _h, _m, p in server.requests[before:]}
    assert counts(db)["targets"] == first["targets"]   # the same results, confirmed in place
    with session_factory(open_db(str(db)))() as s:
        assert s.scalar(select(func.count()).select_from(TargetRow).where(TargetRow.first_scan_id == 2)) == 0


def test_prune_keeps_what_findings_refer_to(tmp_path, serve):
    server = serve({HOST: {}})
    server.hosts[HOST] = site(server.port)
    reg = registry(tmp_path, server.port)
    db = tmp_path / "g.db"
    scan(reg, db)
    scan1 = findings_jsonl(db, scan="1")
    server.hosts[HOST]["/tzgg/a2.html"] = Route(body=html("联系方式公示", "<p>联系人：张三。</p>"))
    scan(reg, db)
    with session_factory(open_db(str(db)))() as s:
        old_version = s.scalar(select(func.count()).select_from(PageRow).where(PageRow.scan_id == 1))
        assert old_version == 1          # a2's first version, seen by scan 1 only
    out = govcheck("db", "prune", "--db", str(db), "--keep-scans", "1").stdout
    assert "removed 1 page versions" in out
    with session_factory(open_db(str(db)))() as s:
        assert s.scalar(select(func.count()).select_from(PageRow).where(PageRow.scan_id == 1)) == 0
        hashes = {h for h in s.scalars(select(FindingRow.snapshot_hash)) if h}
        assert hashes and all(s.get(SnapshotRow, h) is not None for h in hashes)
    assert findings_jsonl(db, scan="1") == scan1   # the old scan's findings read as before
    # The next scan still works from what was kept, and carries the pages over.
    scan(reg, db)
    still_open = [f for f in findings_jsonl(db, scan="2") if f["status"] == "open"]
    assert comparable(findings_jsonl(db)) == comparable(still_open)
    assert govcheck("db", "prune", "--db", str(db), "--keep-scans", "9").stdout.startswith("fewer than 9")


@pytest.mark.parametrize("then, now, holds", [
    ("2024-04-19", "2024-04-20", True),      # no birth date in between
    ("2024-04-19", "2030-01-02", False),     # an ID born 2030-01-01 becomes plausible
    ("2031-01-01", "2024-04-19", False),     # and stops being so going back
])
def test_page_results_hold_while_no_id_birth_date_is_crossed(then, now, holds):
    facts = {"v": 2, "wordlists": "w", "as_of": then, "births": ["2030-01-01"], "findings": [], "ran": [],
             "includes": []}
    assert facts_hold(facts, "w", dt.date.fromisoformat(now), "http://x/") is holds
    assert not facts_hold(facts, "other wordlists", dt.date.fromisoformat(then), "http://x/")
