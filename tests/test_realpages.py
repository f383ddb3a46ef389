"""Real saved government pages (../shared/realpages): what the link extraction sees on them."""

import csv

import pytest
from conftest import SHARED

from checks.links import LinkOccurrence, SiteLinks, check_links
from govcheck.page import ParsedPage, decode_html

PAGES = SHARED / "realpages" / "pages"
pytestmark = pytest.mark.skipif(not PAGES.is_dir(), reason="../shared/realpages not present")


def sources():
    with open(SHARED / "realpages" / "SOURCES.csv", encoding="utf-8") as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


def parsed(name: str) -> ParsedPage:
    url = sources()[name]["original_url"] or f"http://unknown.gov.cn/{name}"
    text, _ = decode_html((PAGES / name).read_bytes(), None)
    return ParsedPage(url, text)


@pytest.mark.parametrize("name", sorted(p.name for p in PAGES.glob("*.html")) if PAGES.is_dir() else [])
def test_every_real_page_parses(name):
    page = parsed(name)
    assert page.visible_text  # decoded and parsed, whatever the markup
    assert all(link.url.startswith(("http://", "https://")) for link in page.links)


def test_hidden_jiucuo_and_vendor_links_are_hidden_but_not_dark_links():
    # 006 (fgw.zj.gov.cn) hides its 我为政府网站找错 link with display:none, and its Hanweb
    # template carries a hidden "Produced By 大汉网络" credit to www.hanweb.com.
    page = parsed("006.html")
    jiucuo = [link for link in page.links if "jiucuo" in link.url or "zfwzgl" in link.url]
    assert jiucuo and any(link.hidden for link in jiucuo)
    assert any(link.hidden and "hanweb.com" in link.url for link in page.links)
    occs = [LinkOccurrence(page.url, link.url, link.tag, link.text, link.hidden) for link in page.links]
    assert not [f for f in check_links(SiteLinks(page.url, occurrences=occs), {}) if f.check == "link_hidden"]


def test_gov_homepage_links_are_not_external():
    # 001 is www.gov.cn's homepage: its links to other government sites are not 外链.
    page = parsed("001.html")
    occs = [LinkOccurrence(page.url, link.url, link.tag, link.text, link.hidden) for link in page.links]
    external = {f.subject for f in check_links(SiteLinks(page.url, occurrences=occs), {}) if f.check == "link_external"}
    assert len(page.links) > 100
    assert not any(".gov.cn" in u.split("/")[2] for u in external)
