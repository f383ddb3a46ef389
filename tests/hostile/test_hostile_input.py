"""Issue 11, hostile input that never reaches the network: bad registries (exit 2 with
file:line), URL forms, attachment bombs, output neutralising."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from conftest import govcheck

from govcheck.attachments import Limits, attachment_text
from govcheck.demo.hostile import docx_bomb, xlsx_empty_rows
from govcheck.feeds import parse_feed
from govcheck.page import ParsedPage
from govcheck.safe_output import neutralise_cell, safe_href
from govcheck.urls import link_target, normalize_url


def write(tmp_path, text: str):
    p = tmp_path / "sites.yaml"
    p.write_text(text, encoding="utf-8")
    return p


SITE = "units:\n  - name: 甲\n    sites:\n      - url: {url}\n"


@pytest.mark.parametrize("text,line,needle", [
    (SITE.format(url='"http://www.a.gov.cn:99999/"'), 4, "Port out of range"),
    (SITE.format(url='"http://www.a.gov.cn:abc/"'), 4, "Port could not be cast"),
    (SITE.format(url='"http://[::1"'), 4, "Invalid IPv6 URL"),
    ("settings: {concurrency_per_host: 0}\n" + SITE.format(url="http://www.a.gov.cn/"), 1, "concurrency_per_host"),
    ("units:\n  - name: 甲\n    sites:\n      - url: http://www.a.gov.cn/\n        url: http://www.b.gov.cn/\n", 5,
     "duplicate key 'url'"),
    ("units:\n  - name: 甲\n    accounts:\n      - {platform: wechat, name: 甲发布, feed: http://f.example/a.xml}\n"
     "      - {platform: weibo, name: 甲发布, feed: http://f.example/b.xml}\n", 5, "duplicate account"),
    ("resolve: {www.a.gov.cn: 169.254.169.254}\n" + SITE.format(url="http://www.a.gov.cn/"), 1, "allow_public"),
    ("resolve: {www.a.gov.cn: 8.8.8.8}\n" + SITE.format(url="http://www.a.gov.cn/"), 1, "allow_public"),
    ("resolve: {www.a.gov.cn: 0.0.0.0}\n" + SITE.format(url="http://www.a.gov.cn/"), 1, "not an address"),
])
def test_bad_registry_exits_2_with_file_and_line(tmp_path, text, line, needle):
    path = write(tmp_path, text)
    proc = govcheck("scan", str(path), "--db", str(tmp_path / "g.db"), check=False)
    assert proc.returncode == 2, proc.stderr
    message = " ".join(proc.stderr.split())
    assert f"{path}:{line}" in message and needle in message, message


def test_public_resolve_entry_needs_allow_public(tmp_path):
    from govcheck.registry import load_registry

    path = write(tmp_path, "resolve:\n  www.a.gov.cn: {address: 203.0.113.7, allow_public: true}\n  mirror.local: 10.1.2.3\n"
                 + SITE.format(url="http://www.a.gov.cn/"))
    assert load_registry(path).resolve == {"www.a.gov.cn": "203.0.113.7", "mirror.local": "10.1.2.3"}


@pytest.mark.parametrize("href,problem", [
    ("http://www.a.gov.cn:99999/", "Port out of range"),
    ("http://[::1/", "Invalid IPv6"),
    ("http://exa mple.gov.cn/", "主机名"),
    ("http://999.1.1.1/", "IP 地址"),
    ("/" + "a" * 2_000_000, "地址过长"),
])
def test_invalid_urls_are_kept_with_their_problem(href, problem):
    url, why = link_target(href, "http://www.a.gov.cn/")
    assert url and problem in why and len(url) <= 2000


def test_browser_url_forms_are_accepted():
    assert normalize_url("http://[::1]:18090/a") == "http://[::1]:18090/a"
    assert normalize_url("p.html", "http://[::1]:18090/a/") == "http://[::1]:18090/a/p.html"
    assert normalize_url("http://127.0.0.1:18095/") == "http://127.0.0.1:18095/"
    assert normalize_url("HTTP://WWW.A.GOV.CN:80/x/../y#f") == "http://www.a.gov.cn/y"


def test_one_bad_link_loses_only_itself():
    page = ParsedPage("http://www.a.gov.cn/", '<a href="http://www.a.gov.cn:99999/">坏</a><a href="http://[::1/">坏</a>'
                                             '<a href="/ok.html">好</a>')
    links = page.links
    assert [lk.url for lk in links if not lk.invalid] == ["http://www.a.gov.cn/ok.html"]
    assert len([lk for lk in links if lk.invalid]) == 2


def test_feed_bad_date_skips_only_that_item():
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            "<item><title>零</title><guid>z</guid><pubDate>0000-00-00 00:00:00</pubDate></item>"
            "<item><title>好</title><guid>g</guid><pubDate>Thu, 18 Apr 2024 09:00:00 +0800</pubDate></item>"
            "</channel></rss>").encode()
    feed = parse_feed(body)
    assert [p.title for p in feed.posts] == ["好"] and feed.bad_dates == ["0000-00-00 00:00:00"]
    assert "bad_dates: 1 items" in feed.notes
    json_feed = b'{"items": [{"id": "a", "title": "x", "date_published": "9999-99-99T99:99:99"}, {"id": "b", "title": "y"}]}'
    assert [p.key for p in parse_feed(json_feed).posts] == ["b"]


def test_docx_bomb_is_read_within_limits():
    body = docx_bomb(120)
    assert len(body) < 1_000_000
    started = time.process_time()
    text = attachment_text("http://x/a.docx", body, Limits(cpu_seconds=5))
    assert time.process_time() - started < 8
    assert text is not None and len(text) <= Limits().max_chars


def test_xlsx_with_millions_of_empty_rows_is_cut():
    started = time.process_time()
    text = attachment_text("http://x/a.xlsx", xlsx_empty_rows(3_000_000), Limits(cpu_seconds=5))
    assert time.process_time() - started < 8
    assert text == ""


def test_docx_text_read_around_entity_references():
    xml = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "展开">]><w:document xmlns:w="http://schemas.openxmlformats.org/'
           'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>身份证号：&#49;10101&e;199003077777</w:t></w:r></w:p>'
           "</w:body></w:document>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", xml)
    text = attachment_text("http://x/a.docx", buf.getvalue())
    assert text.startswith("身份证号：110101") and text.endswith("199003077777")
    assert "展开" not in text        # entities are not expanded (billion laughs)


def test_formula_cells_are_neutralised():
    for bad in ("=HYPERLINK(\"http://evil/\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise_cell(bad).startswith("'")
    assert neutralise_cell("正常文字") == "正常文字" and neutralise_cell(-5) == -5


def test_only_http_urls_become_links():
    assert safe_href("https://www.a.gov.cn/") and safe_href("http://x/")
    for bad in ("javascript:alert(document.domain)", "data:text/html,x", '=HYPERLINK("x")', "vbscript:x", None):
        assert safe_href(bad) is None

