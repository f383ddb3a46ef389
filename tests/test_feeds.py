"""Feeds: RSS 2.0, Atom, JSON Feed; zoned and naive dates; missing dates; HTML; malformed input."""

import datetime as dt
import json

import pytest

from checks.accounts import check_account
from govcheck.feeds import FeedError, parse_feed, to_beijing

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>东胜发布</title>
<item><title>标题一</title><link>https://mp.weixin.qq.com/s/1</link><guid>p1</guid>
<pubDate>Thu, 18 Apr 2024 09:30:00 +0800</pubDate><description><![CDATA[<p>第一段<b>加粗</b></p><script>x()</script>]]></description></item>
<item><title>无日期</title><link>https://mp.weixin.qq.com/s/2</link></item></channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>微博</title><id>x</id>
<updated>2024-04-17T16:00:00Z</updated><entry><title>一条微博</title><id>tag:w,1</id><link href="https://weibo.com/1"/>
<updated>2024-04-17T16:00:00Z</updated><content type="html">&lt;p&gt;内容&lt;/p&gt;</content></entry></feed>"""


def test_rss_zoned_dates_and_html():
    feed = parse_feed(RSS.encode(), "application/rss+xml")
    assert feed.format == "rss" and feed.title == "东胜发布"
    first, undated = feed.posts
    assert first.key == "p1" and first.published == dt.datetime(2024, 4, 18, 9, 30)
    assert first.text.startswith("第一段加粗") and "<" not in first.text
    assert undated.published is None and undated.key == "https://mp.weixin.qq.com/s/2"


def test_atom_utc_becomes_beijing_time():
    [post] = parse_feed(ATOM.encode()).posts
    assert post.published == dt.datetime(2024, 4, 18, 0, 0)   # 16:00Z is midnight in Beijing
    assert post.link == "https://weibo.com/1" and post.text == "内容"


def test_json_feed_naive_dates_are_beijing_time():
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "抖音", "items": [
        {"id": "v1", "url": "https://douyin.com/v1", "title": "视频", "content_html": "<p>描述</p>",
         "date_published": "2024-04-08T10:00:00"},
        {"id": "v2", "title": "带时区", "date_published": "2024-04-08T10:00:00+00:00"},
        {"id": "v3", "title": "无日期"}]}
    posts = parse_feed(json.dumps(doc).encode(), "application/feed+json").posts
    assert [p.published for p in posts] == [dt.datetime(2024, 4, 8, 10), dt.datetime(2024, 4, 8, 18), None]
    assert posts[0].text == "描述"


@pytest.mark.parametrize("body, message", [
    (b"<html><body>not a feed</body></html>", "cannot be parsed"),
    (b"<rss><channel><item><title>broken", "cannot be parsed"),
    (b"{not json", "not valid JSON"),
    (b'{"title": "x"}', "not a JSON Feed"),
])
def test_malformed_input_is_a_clear_error(body, message):
    with pytest.raises(FeedError, match=message):
        parse_feed(body)


def test_to_beijing():
    assert to_beijing("2024-04-08 10:00") == dt.datetime(2024, 4, 8, 10)
    assert to_beijing("Mon, 08 Apr 2024 02:00:00 GMT") == dt.datetime(2024, 4, 8, 10)
    assert to_beijing("昨天") is None and to_beijing(None) is None


AS_OF = dt.date(2024, 4, 19)


@pytest.mark.parametrize("days, check", [(10, None), (11, "account_near_stale"), (14, "account_near_stale"),
                                          (15, "account_stale")])
def test_account_thresholds(days, check):
    newest = dt.datetime.combine(AS_OF - dt.timedelta(days=days), dt.time(9))
    found = check_account("http://f/x.xml", "某发布", None, newest, "标题", AS_OF)
    assert [f.check for f in found] == ([check] if check else [])


def test_account_unreachable_and_undated():
    [f] = check_account("http://f/x.xml", "某发布", "HTTP 500", None, None, AS_OF)
    assert f.check == "account_unreachable" and "HTTP 500" in f.evidence and f.subject == "某发布"
    [f] = check_account("http://f/x.xml", "某发布", None, None, None, AS_OF)
    assert f.check == "account_stale" and f.detail["newest"] is None
    # A per-account warning age.
    newest = dt.datetime.combine(AS_OF - dt.timedelta(days=8), dt.time(9))
    assert [f.check for f in check_account("u", "n", None, newest, "t", AS_OF, warn_days=7)] == ["account_near_stale"]
