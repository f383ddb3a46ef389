"""Issue 15: a whole-site crawl may be cut by the site's time budget (site_time_budget), but
never before its freshness is judged. The homepage, the registry's columns and the columns the
homepage navigation names (the columns a site without registered ones is judged by) are crawled before everything else of the site and are still crawled
after the budget ends, so the stale column below is reported (marked partial) although the
budget ran out while the homepage was still loading."""

from conftest import Route, findings_jsonl, govcheck, html, write_registry
from sqlalchemy import select

from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import ScanRow

HOST = "www.budget.gov.cn"
ARTICLES = 30


def rows(prefix: str, dates: list[str]) -> str:
    return '<ul class="list">' + "".join(
        f'<li><a href="{prefix}{i}.html">{prefix.strip("/")}第{i}条</a><span>{d}</span></li>'
        for i, d in enumerate(dates)) + "</ul>"


def site() -> dict[str, Route]:
    nav = '<div class="nav"><a href="/gzdt/">工作动态</a><a href="/tzgg/">通知公告</a></div>'
    # The homepage is slow: the 1-second budget is over before it arrives.
    r = {"/": Route(body=html("预算测试区人民政府", nav + rows("/news/", ["2024-04-18"] * ARTICLES)), delay=2.5)}
    r["/gzdt/"] = Route(body=html("工作动态", rows("/gzdt/", ["2024-03-01", "2024-02-20"])))   # 2w rule: stale
    r["/tzgg/"] = Route(body=html("通知公告", rows("/tzgg/", ["2024-04-10"])))                 # fresh
    for prefix, n in (("/news/", ARTICLES), ("/gzdt/", 2), ("/tzgg/", 1)):
        for i in range(n):
            r[f"{prefix}{i}.html"] = Route(body=html("文章", "<p>发布时间：2024-04-18</p>"), delay=0.3)
    return r


def test_budget_cut_still_judges_homepage_and_columns(tmp_path, serve):
    server = serve({HOST: site()})
    base = f"http://{HOST}:{server.port}"
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": "预算测试区", "sites": [{"url": f"{base}/"}]},   # columns found in the navigation
    ], resolve={HOST: "127.0.0.1"}, settings={"site_time_budget": 1, "timeout": 10, "probes": 1})
    db = tmp_path / "g.db"
    govcheck("scan", str(registry), "--db", str(db), "--as-of", "2024-04-19")

    with session_factory(open_db(str(db)))() as s:
        stats = s.scalars(select(ScanRow)).one().stats
    assert stats["partial_sites"] == [f"{base}/"]          # the budget did end the crawl
    fetched = {p for h, m, p in server.requests if h.startswith(HOST)}
    assert {"/", "/gzdt/", "/tzgg/"} <= fetched            # the homepage and the columns it names
    assert not [p for p in fetched if p.startswith("/news/")]   # the rest was cut

    records = findings_jsonl(db)
    columns = {(r["check"], r["subject"]) for r in records if r["check"].startswith("column_")}
    assert columns == {("column_stale", "工作动态")}
    assert all(r["detail"].get("partial") for r in records if r["check"] == "column_stale")
    assert not [r for r in records if r["check"] == "home_not_updated"]   # judged: fresh
