"""Incremental re-scans (issue 15): an unchanged page is not re-parsed, a target that worked
within the recheck window is not requested again, nothing unchanged is stored twice — and the
findings are exactly those a full scan of the same site gives."""

import datetime as dt

import pytest
from conftest import Route, findings_jsonl, govcheck, html, write_registry
from sqlalchemy import func, select

from govcheck.pagefacts import facts_hold
from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import CrawlEventRow, FindingRow, LinkRow, PageRow, SiteOutcomeRow, SnapshotRow, TargetRow

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


def scanned_once(tmp_path, serve, **settings):
    """The site served and scanned once into a fresh database: (server, registry, db, row counts)."""
    server = serve({HOST: {}})
    server.hosts[HOST] = site(server.port)
    reg = registry(tmp_path, server.port, **settings)
    db = tmp_path / "g.db"
    scan(reg, db)
    return server, reg, db, counts(db)


def test_unchanged_rescan_carries_everything_and_matches_a_full_scan(tmp_path, serve):
    server, reg, db, first = scanned_once(tmp_path, serve)
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
    server, reg, db, first = scanned_once(tmp_path, serve)
    server.hosts[HOST]["/tzgg/a1.html"] = Route(body=html("关于开展检查的通知", "<p>已更正。</p>"))
    scan(reg, db)
    checks = {(f["check"], f["url"].rsplit("/", 1)[-1], f["status"]) for f in findings_jsonl(db)}
    assert ("word_serious", "a1.html", "fixed") in checks
    assert counts(db)["pages"] == first["pages"] + 1     # one new version, the rest shared


def test_recheck_window_zero_requests_every_target_again(tmp_path, serve):
    server, reg, db, first = scanned_once(tmp_path, serve, recheck_hours=0)
    before = len(server.requests)
    scan(reg, db)
    assert {"/logo.png", "/img/a1.jpg", "/files/a1.pdf"} <= {p for _h, _m, p in server.requests[before:]}
    assert counts(db)["targets"] == first["targets"]   # the same results, confirmed in place
    with session_factory(open_db(str(db)))() as s:
        assert s.scalar(select(func.count()).select_from(TargetRow).where(TargetRow.first_scan_id == 2)) == 0


def test_prune_keeps_what_findings_refer_to(tmp_path, serve):
    server, reg, db, _first = scanned_once(tmp_path, serve)
    scan1 = findings_jsonl(db, scan="1")
    server.hosts[HOST]["/tzgg/a2.html"] = Route(body=html("联系方式公示", "<p>联系人：张三。</p>"))
    scan(reg, db)
    with session_factory(open_db(str(db))).begin() as s:
        old_version = s.scalar(select(func.count()).select_from(PageRow).where(PageRow.scan_id == 1))
        assert old_version == 1          # a2's first version, seen by scan 1 only
        s.add_all(CrawlEventRow(scan_id=n, site="x", kind="budget", message="m") for n in (1, 2))
    out = govcheck("db", "prune", "--db", str(db), "--keep-scans", "1").stdout
    assert "removed 1 page versions" in out and "1 site outcomes, 1 crawl events" in out
    with session_factory(open_db(str(db)))() as s:
        assert s.scalar(select(func.count()).select_from(PageRow).where(PageRow.scan_id == 1)) == 0
        # The crawl outcomes go with their scan's crawl data; the kept scan's stay.
        assert sorted(s.scalars(select(SiteOutcomeRow.scan_id))) == [2]
        assert sorted(s.scalars(select(CrawlEventRow.scan_id))) == [2]
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


def test_carried_pages_read_in_chunks_give_what_one_page_at_a_time_gives(tmp_path):
    # More page ids than CARRY_CHUNKS_KEPT chunks hold, read forwards, backwards and at random:
    # chunks are evicted and read again, and every answer must be the unchunked read's.
    import random

    from govcheck.page import LinkRef
    from govcheck.store.schema import ScanRow, SiteRow, UnitRow
    from govcheck.store.writer import CARRIED_FACTS, CARRY_CHUNK, CARRY_CHUNKS_KEPT, ScanStore

    sessions = session_factory(open_db(f"sqlite:///{tmp_path / 'c.db'}"))
    now = dt.datetime(2024, 4, 19, 1, 0)
    with sessions.begin() as s:
        unit = UnitRow(name="增量测试区人民政府")
        s.add(unit)
        s.flush()
        site_row = SiteRow(unit_id=unit.id, url=f"http://{HOST}/")
        scans = [ScanRow(started_at=now, as_of=now.date(), status="done") for _ in range(3)]
        s.add_all([site_row, *scans])
        s.flush()
        site_id, scan_ids = site_row.id, [scan.id for scan in scans]
    scan_id = scan_ids[0]
    store = ScanStore(sessions, scan_id)
    n_pages = (CARRY_CHUNKS_KEPT + 2) * CARRY_CHUNK + 37
    for i in range(n_pages):
        links = [LinkRef(f"http://{HOST}/p{(i * 7 + k) % 400}.html", "a" if k else "img", f"第{k}条", None, k == 2)
                 for k in range(i % 5)]
        if i % 11 == 0:
            links.append(LinkRef(f"http://{HOST}:99999/x{i}", "a", "坏", None, invalid="地址格式错误"))
        facts = {"findings": [{"check": "word_typo", "n": i}], "includes": [f"http://{HOST}/foot{i % 3}.html"],
                 **({"columns": [f"http://{HOST}/c{i}/"]} if i % 13 == 0 else {}),
                 **({"links_capped": f"page {i}"} if i % 17 == 0 else {})}
        store.add_page(site_id, f"http://{HOST}/page{i}.html", f"<html>{i}</html>".encode(), links=links,
                       final_url=f"http://{HOST}/page{i}.html", status=200, fetched_at=now, facts=facts)
    store.flush()
    # Results of the targets: some too old, some recent, some asked again since (the newest counts).
    for n, ages in enumerate(({0: 30, 1: 2, 2: 30}, {2: 1})):
        results = ScanStore(sessions, scan_ids[n])
        for k in range(400):
            age = ages.get(k % 3)
            if age is not None:
                results.add_target(url=f"http://{HOST}/p{k}.html", method="GET", status=200 if k % 4 else 404,
                                   error=None, final_url=None, redirects=[], content_type="text/html", title=None,
                                   snippet=f"{age}h", size=10, elapsed=0.1, checked_at=now - dt.timedelta(hours=age))
        results.flush()

    since = now - dt.timedelta(hours=20)
    with sessions() as s:   # the unchunked read: every page's own rows
        stored = {pid: (facts, []) for pid, facts in s.execute(select(PageRow.id, PageRow.facts))}
        for pid, *link in s.execute(select(LinkRow.page_id, LinkRow.target_url, LinkRow.tag, LinkRow.anchor,
                                           LinkRow.hidden, LinkRow.pagination, LinkRow.invalid).order_by(LinkRow.id)):
            stored[pid][1].append(tuple(link))
    ids = sorted(stored)
    assert len({pid // CARRY_CHUNK for pid in ids}) > CARRY_CHUNKS_KEPT
    newest = {u: (r.id, r.snippet) for u, r in store.recent_results([f"http://{HOST}/p{k}.html" for k in range(400)],
                                                                    since).items()}
    assert newest[f"http://{HOST}/p2.html"][1] == "1h" and f"http://{HOST}/p0.html" not in newest

    reader = ScanStore(sessions, scan_ids[2])
    reader.recheck_since = since
    order = ids + ids[::-1] + random.Random(15).sample(ids, 600)
    loads = []
    real_read = reader._carried_chunk.__func__

    def counting(self, page_id):
        if page_id // CARRY_CHUNK not in self._chunks:
            loads.append(page_id // CARRY_CHUNK)
        return real_read(self, page_id)

    reader._carried_chunk = counting.__get__(reader)
    for pid in order:
        facts, links = stored[pid]
        assert reader.page_links(pid) == links
        assert reader.page_facts(pid) == {k: v for k, v in facts.items() if k in CARRIED_FACTS}
        urls = [u for u, *_rest, invalid in links if not invalid]
        recent = reader.carried_recent(pid)
        assert ({u: (recent[u].id, recent[u].snippet) for u in urls if u in recent}
                == {u: newest[u] for u in urls if u in newest})
        assert len(reader._chunks) <= CARRY_CHUNKS_KEPT
    assert len(loads) > len(set(loads))   # chunks were evicted and read again


def test_carried_attachments_move_on_once_per_url(tmp_path):
    # One flush carries several attachments at once: each URL's newest row of its site moves
    # on to the new scan, once per URL (one row per scan and URL), never a row this scan has.
    from govcheck.store.schema import AttachmentRow, ScanRow, SiteRow, UnitRow
    from govcheck.store.writer import ScanStore

    sessions = session_factory(open_db(f"sqlite:///{tmp_path / 'a.db'}"))
    now = dt.datetime(2024, 4, 19, 1, 0)
    with sessions.begin() as s:
        unit = UnitRow(name="增量测试区人民政府")
        s.add(unit)
        s.flush()
        sites = [SiteRow(unit_id=unit.id, url=f"http://s{i}.gov.cn/") for i in range(2)]
        scans = [ScanRow(started_at=now, as_of=now.date(), status="done") for _ in range(4)]
        s.add_all([*sites, *scans])
        s.flush()
        a, b = (site.id for site in sites)
        one, two, other, three = (scan.id for scan in scans)
    for scan_id, site_id, url in [(one, a, "u1"), (two, a, "u1"), (other, b, "u1"), (one, a, "u2"), (one, b, "u3"),
                                  (one, a, "u4")]:
        store = ScanStore(sessions, scan_id)
        store.add_attachment(site_id, f"http://x.gov.cn/{url}.pdf", f"{url}{scan_id}{site_id}".encode(), None)
        store.flush()
    store = ScanStore(sessions, three)
    store.add_attachment(a, "http://x.gov.cn/u4.pdf", b"new", None)   # fetched again in this scan
    for site_id, url in [(a, "u1"), (b, "u1"), (a, "u1"), (a, "u2"), (a, "u3"), (a, "u4")]:
        store.carry_attachment(site_id, f"http://x.gov.cn/{url}.pdf")
    store.flush()
    with sessions() as s:
        rows = {(r.site_id, r.url.rsplit("/", 1)[-1], r.scan_id) for r in s.scalars(select(AttachmentRow))}
    assert rows == {(a, "u1.pdf", one), (a, "u1.pdf", three), (b, "u1.pdf", other),  # a's newest moved, b's not
                    (a, "u2.pdf", three),                                            # moved
                    (b, "u3.pdf", one),                                              # site a has no u3
                    (a, "u4.pdf", one), (a, "u4.pdf", three)}                        # this scan's own row stays
