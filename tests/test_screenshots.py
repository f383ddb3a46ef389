"""Screenshots as evidence (govcheck.screenshots): every page finding gets a PNG of the page as
served, with the problem outlined in OUTLINE_RGB and scrolled into view; rendering talks only to
the scanned site; without Chromium the scan works and says screenshots are off."""

from __future__ import annotations

import io
import os
import re

import pytest
from conftest import Route, govcheck, html, write_registry
from PIL import Image
from sqlalchemy import select

from govcheck.screenshots import OUTLINE_RGB, host_resolver_rules, mark_for
from govcheck.store.engine import open_db, session_factory
from govcheck.store.queries import load_snapshot, screenshots_of
from govcheck.store.schema import FindingRow, ScreenshotRow

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")
SITE, OTHER = "www.shot.gov.cn", "www.elsewhere.gov.cn"
FILLER = "".join(f"<p>第{i}段：各相关单位要高度重视，明确责任分工，细化工作措施，确保各项任务按时保质完成。</p>" for i in range(40))


def shot_site(port: int) -> dict[str, Route]:
    css = "body{font-family:'Noto Sans CJK SC';margin:0} .hd{background:#b00 url(/img/bg.png);color:#fff;height:80px} .foot{background:#eee;padding:20px}"
    home = html("截图测试区人民政府", f"""
      <div class="hd">截图测试区人民政府</div>
      <a href="/a.html">工作动态文章</a> <a href="/gone.html">已删除的通知</a>
      <img src="http://{OTHER}:{port}/banner.png"> <img src="/bounce.png">
      {FILLER}
      <div style="display:none"><a href="http://www.xpj-casino.com:{port}/">娱乐城</a></div>
      <div class="foot">主办单位：截图测试区人民政府办公室 联系电话：0477-8123456 网站标识码：1506020001
      蒙ICP备05001234号</div>""", head='<link rel="stylesheet" href="/css/site.css">')
    article = html("工作动态文章", f"""<div class="hd">截图测试区人民政府</div>{FILLER}
      <p>会议要求全体干部再接再励，把各项工作落到实处。</p><p>联系人：张三 13812345678</p>
      <div class="foot">主办单位：截图测试区人民政府办公室</div>""", head='<link rel="stylesheet" href="/css/site.css">')
    return {
        "/": Route(body=home),
        "/a.html": Route(body=article),
        "/css/site.css": Route(body=css, content_type="text/css"),
        "/bounce.png": Route(redirect=f"http://{OTHER}:{port}/escaped.png"),
        # Only a browser asks for a stylesheet's images: this redirect tests the browser alone.
        "/img/bg.png": Route(redirect=f"http://{OTHER}:{port}/escaped-bg.png"),
    }


def scan(tmp_path, serve, **settings):
    sites = serve({SITE: {}, OTHER: {"/banner.png": Route(body=b"x", content_type="image/png")}})
    sites.hosts[SITE.lower()] = shot_site(sites.port)
    reg = write_registry(tmp_path / "sites.yaml", [{"name": "截图测试区人民政府", "sites": [{"url": f"http://{SITE}:{sites.port}/"}]}],
                         resolve={SITE: "127.0.0.1", OTHER: "127.0.0.1", "www.xpj-casino.com": "127.0.0.1"},
                         settings={"check_external": False, "screenshots": True, **settings}, as_of="2024-04-19")
    db = tmp_path / "g.db"
    proc = govcheck("scan", str(reg), "--db", str(db))
    return sites, db, proc


def outline_pixels(png: bytes) -> int:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for px in img.get_flattened_data() if px == OUTLINE_RGB)


@needs_chromium
def test_each_page_finding_gets_a_screenshot_with_the_problem_outlined(tmp_path, serve):
    sites, db, proc = scan(tmp_path, serve)
    assert "screenshots:" in proc.stdout
    with session_factory(open_db(f"sqlite:///{db}"))() as session:
        findings = {(f.check, f.subject): f for f in session.scalars(select(FindingRow))}
        shots = screenshots_of(session, [f.id for f in findings.values()])
        pictures = {k: (shots[f.id], load_snapshot(session, shots[f.id].image_hash)) for k, f in findings.items() if f.id in shots}
    expected = {("word_typo", "再接再励"), ("privacy_leak", "mobile"), ("footer_missing", "conac"),
                ("link_hidden", f"http://www.xpj-casino.com:{sites.port}/"), ("link_broken", f"http://{SITE}:{sites.port}/gone.html")}
    assert expected <= set(pictures)
    for key in expected:
        row, png = pictures[key]
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and (row.width, row.height) == (1280, 900), key
        assert Image.open(io.BytesIO(png)).size == (1280, 900)
        assert row.outlined, key
        # A 4-pixel border round the problem plus its label: hundreds of pixels of the outline colour.
        assert outline_pixels(png) > 800, (key, row.located)
    # The typo sits below the fold of its page: it was scrolled into view to be outlined.
    assert "再接再励" in pictures[("word_typo", "再接再励")][0].located


@needs_chromium
def test_rendering_stays_on_the_scanned_site(tmp_path, serve):
    sites, db, proc = scan(tmp_path, serve)
    assert "screenshots: " in proc.stdout
    # The browser is answered from the snapshot and loads the site's own stylesheet and its
    # background image, but not the other host's banner nor where the image redirects to.
    ours = [p for h, m, p in sites.requests if h.split(":")[0] == SITE]
    other = [p for h, m, p in sites.requests if h.split(":")[0] == OTHER]
    assert "/css/site.css" in ours and "/img/bg.png" in ours
    assert "/escaped-bg.png" not in other and "/banner.png" not in other


def test_without_chromium_the_scan_works_and_says_screenshots_are_off(tmp_path, serve):
    sites = serve({SITE: {}})
    sites.hosts[SITE.lower()] = shot_site(sites.port)
    reg = write_registry(tmp_path / "sites.yaml", [{"name": "截图测试区人民政府", "sites": [{"url": f"http://{SITE}:{sites.port}/"}]}],
                         resolve={SITE: "127.0.0.1"}, settings={"check_external": False, "screenshots": True,
                                                             "chromium": str(tmp_path / "no-chromium")})
    db = tmp_path / "g.db"
    proc = govcheck("scan", str(reg), "--db", str(db))
    assert "screenshots off: Chromium not found at" in proc.stdout
    with session_factory(open_db(f"sqlite:///{db}"))() as session:
        assert session.scalars(select(FindingRow)).first() is not None
        assert session.scalars(select(ScreenshotRow)).first() is None


def test_host_resolver_rules_map_resolve_and_fail_every_other_name():
    rules = host_resolver_rules({"www.a.gov.cn": "127.0.0.1", "v6.gov.cn": "::1"}, {"www.a.gov.cn", "www.real.gov.cn"}, False)
    assert rules == "MAP v6.gov.cn [::1], MAP www.a.gov.cn 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE www.real.gov.cn"
    assert "EXCLUDE" not in host_resolver_rules({}, {"www.real.gov.cn"}, True)


def test_marks_say_what_to_outline():
    row = FindingRow(id=1, check="word_typo", subject="按装", detail={})
    assert mark_for(row).kind == "text" and mark_for(row).texts == ["按装"]
    row = FindingRow(id=2, check="link_hidden", subject="http://x.com/", detail={"hidden_by": "display:none"})
    assert mark_for(row).kind == "link" and "display:none" in mark_for(row).label
    assert mark_for(FindingRow(id=3, check="footer_missing", subject="conac", detail={"name": "党政机关网站标识"})).kind == "footer"
    assert mark_for(FindingRow(id=4, check="site_unreachable", subject=None, detail={})) is None


def report_screenshots(out) -> dict[str, list[str]]:
    """unit page → the screenshot files its rows show."""
    import re

    return {p.name: re.findall(r'<a class="shot" href="(snapshots/[0-9a-f]{64}\.png)"[^>]*><img src="data:image/png;base64,',
                                  p.read_text(encoding="utf-8"))
            for p in (out / "reports").glob("问题清单-*.html")}


PAGE_FINDINGS = {"link_broken", "link_external", "link_hidden", "link_undetermined", "column_stale", "column_blank",
                 "word_typo", "word_serious", "word_sensitive", "footer_missing", "footer_invalid", "home_not_updated"}


@needs_chromium
@pytest.mark.slow
def test_demo_reports_show_an_outlined_screenshot_for_each_page_finding(tmp_path):
    import json

    from openpyxl import load_workbook

    out = tmp_path / "demo"
    proc = govcheck("demo", "-o", str(out))
    assert re.search(r"screenshots: (\d+) taken \(\1 with the problem outlined\)", proc.stdout), proc.stdout[:500]
    records = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    # Every finding the units' lists show that sits on an HTML page of a site (not attachments,
    # posts or the homepage probe; review-only findings reach units once a reviewer confirms them).
    on_pages = [r for r in records if r["target_kind"] == "site" and r["severity"] != "review" and (r["check"] in PAGE_FINDINGS or (
                r["check"] == "privacy_leak" and not r["url"].endswith((".xlsx", ".docx", ".pdf"))))]
    shown = report_screenshots(out)
    files = {f for fs in shown.values() for f in fs}
    assert len(files) == len(on_pages) >= 20, (proc.stdout[:600], proc.stderr[-2000:])
    for f in files:
        png = (out / "reports" / f).read_bytes()
        assert Image.open(io.BytesIO(png)).size == (1280, 900)
        assert outline_pixels(png) > 800, f
    # The XLSX 问题清单 carry the same pictures: a thumbnail in the 截图 column, linked to the file.
    ws = load_workbook(out / "reports" / "问题清单-东胜区人民政府.xlsx").active
    header = [c.value for c in ws[1]]
    col = header.index("截图") + 1
    links = [ws.cell(row=i, column=col).hyperlink for i in range(2, ws.max_row + 1)]
    assert len(ws._images) == len(shown["问题清单-东胜区人民政府.html"]) == sum(1 for h in links if h) > 5
    assert all((out / "reports" / h.target).exists() for h in links if h)


@pytest.mark.slow
def test_demo_without_chromium_says_screenshots_are_off(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVCHECK_CHROMIUM", str(tmp_path / "missing" / "chromium"))
    out = tmp_path / "demo"
    proc = govcheck("demo", "-o", str(out))
    assert "screenshots off: Chromium not found at" in proc.stdout and "demo output:" in proc.stdout
    assert (out / "findings.jsonl").read_text(encoding="utf-8").count("\n") > 25
    assert all(files == [] for files in report_screenshots(out).values())
    assert (out / "reports" / "问题清单-东胜区人民政府.xlsx").exists()
