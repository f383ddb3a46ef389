"""The same storage code on PostgreSQL (DESIGN §7 --db URL), against the local server.

Each run works in its own schema so that it never touches other data in database `test`.
"""

from conftest import Route, findings_jsonl, govcheck, html, write_registry
from sqlalchemy import create_engine, text


def test_scan_and_findings_on_postgresql(tmp_path, serve, pg_url):
    server = serve({"www.pg.gov.cn": {
        "/": Route(body=html("首页", '<a href="/a.html">文章</a><a href="/gone.html">坏链</a><img src="/x.png">')),
        "/a.html": Route(body=html("文章", "<p>正文</p>" * 30)),
    }})
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "PG测试单位", "group": "部门",
                                                        "sites": [{"url": f"http://www.pg.gov.cn:{server.port}/"}]}],
                              resolve={"www.pg.gov.cn": "127.0.0.1"}, as_of="2024-04-19")
    govcheck("scan", str(registry), "--db", pg_url)
    records = findings_jsonl(pg_url)
    assert {(r["check"], r["subject"].rsplit("/", 1)[1]) for r in records if r["check"].startswith("link_")} == {("link_broken", "gone.html"), ("link_broken", "x.png")}
    # A second scan on the same database keeps identities: nothing new, last_seen moves.
    govcheck("scan", str(registry), "--db", pg_url, "--as-of", "2024-04-20")
    again = findings_jsonl(pg_url)
    assert {r["id"] for r in again} == {r["id"] for r in records}
    assert all(r["last_seen"].startswith("2024-04-20") and r["status"] == "open" for r in again)
    with create_engine(pg_url).connect() as conn:
        assert conn.execute(text("select count(*) from snapshots")).scalar() >= 2
        # Unchanged pages are one version shared by both scans (issue 15), not copied per scan.
        assert conn.execute(text("select count(*) from pages where first_scan_id = 1 and scan_id = 2")).scalar() == 2
