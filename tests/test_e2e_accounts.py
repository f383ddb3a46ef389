"""End to end: accounts read from loopback feeds at a fixed --as-of; a malformed feed and a 500
do not affect the others; posts are kept once across scans; post text is word-checked."""

import json

from conftest import Route, findings_jsonl, govcheck, write_registry
from sqlalchemy import func, select

from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import FeedFetchRow, PostRow

HOST = "rsshub.example"


def rss(title: str, items: list[tuple[str, str, str]]) -> str:
    body = "".join(f"<item><title>{t}</title><link>https://mp.weixin.qq.com/s/{k}</link><guid>{k}</guid>"
                   f"<pubDate>{d}</pubDate><description><![CDATA[<p>{t}内容</p>]]></description></item>" for k, t, d in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>{body}</channel></rss>'


def test_accounts_end_to_end(tmp_path, serve):
    feeds = {
        "/fresh.xml": Route(body=rss("新鲜发布", [("a1", "各单位要再接再励做好工作", "Thu, 18 Apr 2024 09:00:00 +0800")]),
                            content_type="application/rss+xml"),
        "/stale.json": Route(body=json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "陈旧", "items": [
            {"id": "s1", "title": "旧视频", "date_published": "2024-03-20T10:00:00"}]}), content_type="application/feed+json"),
        "/near.atom": Route(body="""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>临近</title><id>n</id>
            <updated>2024-04-07T02:00:00Z</updated><entry><title>临近单否</title><id>n1</id><updated>2024-04-07T02:00:00Z</updated>
            </entry></feed>""", content_type="application/atom+xml"),
        "/broken.xml": Route(body="<rss><channel><item><title>半截", content_type="application/rss+xml"),
        "/error.xml": Route(500, "Internal Server Error"),
    }
    server = serve({HOST: feeds})
    base = f"http://{HOST}:{server.port}"
    accounts = [{"platform": p, "name": n, "feed": f"{base}{path}"} for p, n, path in [
        ("wechat", "新鲜发布", "/fresh.xml"), ("douyin", "陈旧发布", "/stale.json"), ("weibo", "临近发布", "/near.atom"),
        ("wechat", "坏源发布", "/broken.xml"), ("toutiao", "报错发布", "/error.xml")]]
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "新媒体单位", "accounts": accounts}],
                              resolve={HOST: "127.0.0.1"}, as_of="2024-04-19")
    db = tmp_path / "g.db"
    proc = govcheck("scan", str(registry), "--db", str(db))
    assert "政务新媒体" in proc.stdout
    records = findings_jsonl(db)
    got = {(r["check"], r["subject"], r["target_kind"], r["target"]) for r in records}
    assert got == {
        ("account_stale", "陈旧发布", "account", "陈旧发布"),
        ("account_near_stale", "临近发布", "account", "临近发布"),
        ("account_unreachable", "坏源发布", "account", "坏源发布"),
        ("account_unreachable", "报错发布", "account", "报错发布"),
        ("word_typo", "再接再励", "account", "新鲜发布"),
    }
    by = {r["subject"]: r for r in records}
    assert by["陈旧发布"]["detail"]["age_days"] == 30 and by["陈旧发布"]["url"] == f"{base}/stale.json"
    assert by["临近发布"]["detail"]["age_days"] == 12   # 02:00Z on the 7th is 10:00 in Beijing
    assert "无法识别" in by["坏源发布"]["evidence"] and "cannot be parsed" in by["坏源发布"]["detail"]["error"]
    assert "服务器返回错误（HTTP 500）" in by["报错发布"]["evidence"]
    assert by["再接再励"]["url"] == "https://mp.weixin.qq.com/s/a1"
    assert server.count(HOST, "/error.xml") == 2   # one retry (the test registry sets retries: 1)

    # Next week: a new post on the fresh account; the old one is not stored twice.
    feeds["/fresh.xml"] = Route(body=rss("新鲜发布", [("a2", "新的动态", "Thu, 25 Apr 2024 09:00:00 +0800"),
                                                    ("a1", "各单位要再接再励做好工作", "Thu, 18 Apr 2024 09:00:00 +0800")]),
                                content_type="application/rss+xml")
    govcheck("scan", str(registry), "--db", str(db), "--as-of", "2024-04-26")
    with session_factory(open_db(str(db)))() as s:
        assert s.scalar(select(func.count()).select_from(PostRow).where(PostRow.key.in_(["a1", "a2"]))) == 2
        assert s.scalar(select(func.count()).select_from(FeedFetchRow)) == 10
    status = {(r["check"], r["subject"]): r["status"] for r in findings_jsonl(db)}
    assert status[("account_near_stale", "临近发布")] == "fixed"        # now 19 days: stale instead
    assert status[("account_stale", "临近发布")] == "open"
