"""Hostile sites on loopback (issue 11): the fault-and-injection run that tests/hostile and
bench/hostile.py replay. A LoopbackSites (Host-header virtual hosts) with behaviours no honest
server has — endless bodies, slow-loris trickles, answers that change from one request to the
next, gzip bombs — and the hostile sites, feeds and attachments themselves, each beside a
healthy site whose findings must come out as complete as when it is scanned alone.
"""

from __future__ import annotations

import gzip
import io
import itertools
import threading
import time
import zipfile
from dataclasses import dataclass, field

from govcheck.demo.loopback import LoopbackSites, Route

HEALTHY = "www.healthy.gov.cn"
FEEDS = "rsshub.example"


@dataclass
class Hostile(Route):
    """A Route with a behaviour: `endless` (chunked body forever), `slowloris` (a byte a second),
    `cycle` (statuses taken in turn from `statuses`, e.g. every third answer a 429)."""

    behaviour: str = ""
    statuses: tuple[int, ...] = ()
    counter: itertools.count = field(default_factory=itertools.count)


class HostileSites(LoopbackSites):
    def __init__(self, hosts, **kw):
        super().__init__(hosts, **kw)
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def _respond(self, h, route, head: bool) -> None:
        if not isinstance(route, Hostile) or not route.behaviour:
            return super()._respond(h, route, head)
        if route.behaviour == "cycle":
            status = route.statuses[next(route.counter) % len(route.statuses)]
            return super()._respond(h, Route(status, route.body, route.content_type, dict(route.headers)), head)
        h.send_response(200)
        h.send_header("Content-Type", route.content_type)
        if route.behaviour == "endless":
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            chunk = ("<p>" + "无尽的页面" * 400 + "</p>").encode()
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            while not self.stopping.is_set():
                h.wfile.write(frame)
        elif route.behaviour == "slowloris":
            body = route.payload()
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            for i in range(len(body)):
                if self.stopping.is_set():
                    return
                h.wfile.write(body[i:i + 1])
                h.wfile.flush()
                time.sleep(1.0)


def page(title: str, body: str = "") -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


def docx_bomb(mb: int = 120) -> bytes:
    """A small .docx whose document.xml inflates to `mb` megabytes."""
    para = "<w:p><w:r><w:t>填充内容填充内容</w:t></w:r></w:p>"
    xml = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
           'wordprocessingml/2006/main"><w:body>' + para * (mb * 1024 * 1024 // len(para.encode())) +
           "</w:body></w:document>")
    return _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": xml})


def xlsx_empty_rows(rows: int = 3_000_000) -> bytes:
    """A small .xlsx declaring millions of empty rows."""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData>' + "".join(f'<row r="{i}"/>' for i in range(1, rows + 1)) +
             "</sheetData></worksheet>")
    return _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>", "xl/worksheets/sheet1.xml": sheet})


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


def healthy_routes() -> dict[str, Route]:
    items = "".join(f'<li><a href="/art/a{i}.html">第{i}条工作动态</a><span>2024-04-1{i}</span></li>' for i in range(1, 6))
    return {
        "/": Route(body=page("健康区人民政府", f'<ul class="list">{items}</ul><a href="/gone.html">失效链接</a>'
                                         '<img src="/logo.png"><p>主办单位：健康区人民政府办公室</p>')),
        **{f"/art/a{i}.html": Route(body=page(f"第{i}条", f"<p>发布时间：2024-04-1{i}</p><p>各单位要再接再励。</p>"))
           for i in range(1, 6)},
        "/logo.png": Route(body=b"\x89PNG", content_type="image/png"),
    }


def rss(items: list[tuple[str, str, str]]) -> str:
    body = "".join(f"<item><title>{t}</title><link><![CDATA[{link}]]></link><guid>{t}</guid><pubDate>{d}</pubDate></item>"
                   for t, link, d in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f</title>{body}</channel></rss>'


def dead(n: int) -> str:
    return "".join(f'<a href="http://dead{n}-{i}.example.com:1/">外站{i}</a>' for i in range(120))


def hostile_hosts(port: int) -> dict[str, dict[str, Route]]:
    long_href = "/" + "a" * 2_000_000
    bad = (f'<a href="http://www.badurl.gov.cn:99999/x">端口越界</a><a href="http://[::1/">坏IPv6</a>'
           f'<a href="http://[::1]:{port}/v6.html">IPv6</a><a href="http://www.badurl.gov.cn:abc/">端口非数字</a>')
    deep = "<div>" * 300 + "<p>深层正文：各单位要再接再励。</p>" + "</div>" * 300
    return {
        # 1. malformed links on the homepage and on an inner page
        "www.badurl.gov.cn": {
            "/": Route(body=page("坏链接", bad + f'<a href="{long_href}">超长</a><a href="/inner.html">内页</a>')),
            "/inner.html": Route(body=page("内页", bad + '<a href="/deep-ok.html">正常</a>')),
            "/deep-ok.html": Route(body=page("正常", "<p>正常页面</p>" * 20)),
        },
        # 2. 429 with Retry-After: 30 on 100 links
        "www.ratelimit.gov.cn": {
            "/": Route(body=page("限流", "".join(f'<a href="/r{i}.html">第{i}篇</a>' for i in range(100)))),
            "*": Route(429, page("Too Many Requests"), headers={"Retry-After": "30"}),
        },
        # 2. a page with 20,000 links
        "www.manylinks.gov.cn": {
            "/": Route(body=page("链接海", "".join(f'<img src="/i{i}.png">' for i in range(20_000)))),
            "*": Route(body=b"\x89PNG", content_type="image/png"),
        },
        # 2. thousands of links to dead external hosts
        "www.deadlinks.gov.cn": {
            "/": Route(body=page("死链", "".join(f'<a href="/p{n}.html">第{n}页</a>' for n in range(1, 6)) + dead(0))),
            **{f"/p{n}.html": Route(body=page(f"死链{n}", dead(n))) for n in range(1, 6)},
        },
        # 2. endless and trickling bodies
        "www.stream.gov.cn": {
            "/": Route(body=page("流", '<a href="/endless.html">无尽</a><a href="/slow.html">慢</a>')),
            "/endless.html": Hostile(behaviour="endless"),
            "/slow.html": Hostile(behaviour="slowloris", body=page("慢", "<p>慢慢来</p>" * 50)),
        },
        # 3. a WAF answering 403 on the homepage; a challenge page with 200; probes answering 429
        "www.waf.gov.cn": {"/": Route(403, page("访问被拦截", "<p>Web应用防火墙：您的访问被拦截</p>"))},
        "www.challenge.gov.cn": {"/": Route(body=page("浏览器安全检查", "<p>请开启JavaScript并刷新页面</p>"))},
        "www.flaky.gov.cn": {"/": Hostile(behaviour="cycle", statuses=(429, 200), body=page(
            "时而限流", '<ul><li><a href="/n.html">动态</a><span>2024-04-18</span></li></ul>'))},
        # 4. attachment bombs
        "www.attach.gov.cn": {
            "/": Route(body=page("附件", '<a href="/bomb.docx">名单</a><a href="/rows.xlsx">统计表</a>')),
            "/bomb.docx": Route(body=docx_bomb(), content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            "/rows.xlsx": Route(body=xlsx_empty_rows(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        },
        # 6. an IP-literal link that resolve_only must not reach
        "www.reach.gov.cn": {"/": Route(body=page("直连", f'<a href="http://127.0.0.1:{port}/secret-ip.html">直连IP</a>'))},
        # 7. 300-deep nesting hiding the text after it
        "www.deep.gov.cn": {"/": Route(body=page("深层嵌套", deep))},
        # 3, 5. feeds: a bad date beside a real one; links that are not http(s) / are formulas
        FEEDS: {
            "/baddate.xml": Route(body=rss([("零日期", "https://mp.weixin.qq.com/s/z", "0000-00-00 00:00:00"),
                                            ("十一天前", "https://mp.weixin.qq.com/s/e", "Mon, 08 Apr 2024 09:00:00 +0800")]),
                                  content_type="application/rss+xml"),
            "/inject.xml": Route(body=rss([("要按装新系统", "javascript:alert(document.domain)", "Thu, 18 Apr 2024 09:00:00 +0800"),
                                           ("既使如此", '=HYPERLINK("http://evil.example/","点我")', "Thu, 18 Apr 2024 10:00:00 +0800")]),
                                 content_type="application/rss+xml"),
        },
    }


def more_hostile_hosts() -> dict[str, dict[str, Route]]:
    """Three more for the bench's fourteen: a redirect loop, a gzip bomb, a slow-loris homepage."""
    bomb = gzip.compress(b"<p>" + b"0" * (200 * 1024 * 1024) + b"</p>", compresslevel=9)
    return {
        "www.redirect.gov.cn": {"/": Route(body=page("跳转", '<a href="/loop1">循环</a>')),
                                "/loop1": Route(redirect="/loop2"), "/loop2": Route(redirect="/loop1")},
        "www.gzip.gov.cn": {"/": Route(body=page("压缩", '<a href="/bomb.html">炸弹</a>')),
                            "/bomb.html": Route(body=bomb, headers={"Content-Encoding": "gzip"})},
        "www.slowhome.gov.cn": {"/": Hostile(behaviour="slowloris", body=page("很慢", "<p>慢</p>" * 200))},
    }


def units(port: int, hosts) -> list[dict]:
    out = [{"name": "健康单位", "sites": [{"url": f"http://{HEALTHY}:{port}/"}]}]
    for host in hosts:
        if host != "rsshub.example":
            out.append({"name": host.split(".")[1], "sites": [{"url": f"http://{host}:{port}/"}]})
    out.append({"name": "新媒体单位", "accounts": [
        {"platform": "wechat", "name": "坏日期发布", "feed": f"http://rsshub.example:{port}/baddate.xml"},
        {"platform": "wechat", "name": "注入发布", "feed": f"http://rsshub.example:{port}/inject.xml"}]})
    return out


def more_feeds() -> dict[str, Route]:
    """Feeds that held in the fault run and must keep holding: XXE, billion laughs, truncated XML,
    a JSON feed of junk types, an endless feed."""
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
              + ']><rss version="2.0"><channel><title>&lol9;</title></channel></rss>')
    xxe = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<rss version="2.0"><channel><title>&x;</title><item><title>t</title></item></channel></rss>')
    rss = "application/rss+xml"
    return {"/laughs.xml": Route(body=laughs, content_type=rss), "/xxe.xml": Route(body=xxe, content_type=rss),
            "/cut.xml": Route(body='<rss version="2.0"><channel><item><title>半截', content_type=rss),
            "/junk.json": Route(body='{"items": [1, null, {"title": {"a": 1}, "date_published": []}]}',
                                content_type="application/feed+json"),
            "/endless.xml": Hostile(behaviour="endless", content_type=rss)}


def more_accounts(port: int) -> list[dict]:
    return [{"platform": "other", "name": f"源{path.strip('/').split('.')[0]}", "feed": f"http://{FEEDS}:{port}{path}"}
            for path in more_feeds()]
