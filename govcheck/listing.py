"""Item lists of column pages and homepages, and column discovery from navigation.

A list is a container whose children are rows, each with a link to an article and usually a
date. Navigation, headers, footers, friend links and pagers are lists too, so they are
recognised by their markup and left out; on a column page the main list is the one whose
links live under the column's own path, which also keeps sidebar lists of other columns
("热点信息", "最新公开") from lending their dates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

from govcheck.dates import FULL_DATE, make_date, short_date, url_date
from govcheck.urls import (
    is_asset,
    is_attachment,
    is_homepage_path,
    netloc_of,
    normalize_url,
)

ROW_TAGS = ("li", "tr", "dd", "dt", "p")
# Containers that are not content lists. Matched against tag, id and class.
CHROME = re.compile(r"(^|[\s_-])(nav|navbar|menu|submenu|daohang|dh|footer|foot|bottom|header|head|top|topbar|"
                    r"friend|friendlink|links|yqlj|share|crumb|breadcrumb|position|location|weizhi|dqwz|pager|"
                    r"pagination|fenye|page_num|pagenav|search|sitemap)([\s_-]|\d|$)", re.I)
NAV = re.compile(r"(^|[\s_-])(nav|navbar|menu|submenu|daohang|dh|lanmu|channel|column)([\s_-]|\d|$)", re.I)
# 信息公开 pages list their columns in a directory tree beside the content.
TREE = re.compile(r"(^|[\s_-])(tree|ztree|catalog|mulu|ml|xxgkml|gkml|left|side|sidebar|leftnav)([\s_-]|\d|$)", re.I)
OPEN_GOV = re.compile(r"公开")
MORE = re.compile(r"^\s*(更多|more|>>|》|更多>>|更多\s*[>》]+)\s*$", re.I)
# Pager anchors are links, not items: "1 2 3 下一页 尾页", "[1]", "首页" of a pager.
PAGER = re.compile(r"^\s*(\[?\d{1,4}\]?|上一页|下一页|上页|下页|首页|尾页|末页|第一页|最后一页|<|>|<<|>>|«|»)\s*$")


@dataclass(frozen=True)
class ListItem:
    url: str
    title: str
    date: dt.date | None
    date_source: str | None  # row | url | None


def newest_item(items: list[ListItem]) -> ListItem | None:
    dated = [i for i in items if i.date]
    return max(dated, key=lambda i: i.date) if dated else None


def _marks(el) -> str:
    return f"{el.tag} {el.get('id') or ''} {el.get('class') or ''}"


def _in_chrome(el) -> bool:
    while el is not None and isinstance(el.tag, str):
        if el.tag in ("nav", "header", "footer") or CHROME.search(f" {el.get('id') or ''} {el.get('class') or ''} "):
            return True
        el = el.getparent()
    return False


def _row_of(a):
    el = a.getparent()
    depth = 0
    while el is not None and depth < 4:
        if el.tag in ROW_TAGS:
            return el
        el = el.getparent()
        depth += 1
    return a.getparent()


def _row_date(row, a, as_of: dt.date | None, url: str) -> tuple[dt.date | None, str | None]:
    # The row's text without the title: a date inside a title ("2024年5月1日起施行") is not
    # the item's date.
    title = a.text_content()
    text = row.text_content().replace(title, " ", 1)
    for m in FULL_DATE.finditer(text):
        found = make_date(*m.groups())
        if found and (as_of is None or found <= as_of):
            return found, "row"
    year = (as_of or dt.date.today()).year
    found = short_date(text, year)
    if found and as_of and found > as_of:
        found = short_date(text, year - 1)
    if found:
        return found, "row"
    found = url_date(url)
    if found and (as_of is None or found <= as_of):
        return found, "url"
    return None, None


def _candidate_lists(page, as_of: dt.date | None) -> dict:
    """container element → [ListItem] for every repeated group of linked rows."""
    groups: dict = defaultdict(list)
    seen: set = set()
    site = netloc_of(page.url)
    for a in page.tree.iter("a"):
        url = normalize_url(a.get("href"), page.base_url)
        if url is None or netloc_of(url) != site or is_asset(url) or is_homepage_path(url):
            continue
        title = re.sub(r"\s+", " ", a.get("title") or a.text_content()).strip()
        if not title or MORE.match(title) or PAGER.match(a.text_content() or "") or url == page.url:
            continue
        row = _row_of(a)
        container = row.getparent() if row is not None else None
        if container is None or (id(container), url) in seen:
            continue
        seen.add((id(container), url))
        date, source = _row_date(row, a, as_of, url)
        groups[container].append(ListItem(url, title[:200], date, source))
    return {c: items for c, items in groups.items() if not _in_chrome(c)}


def _under(url: str, scope: str | None) -> bool:
    if not scope:
        return False
    base = scope.rsplit("/", 1)[0] + "/"
    return url.startswith(base)


def main_list(page, as_of: dt.date | None = None, scope_url: str | None = None) -> list[ListItem]:
    """The item list of a column page ([] when it lists nothing)."""
    lists = _candidate_lists(page, as_of)
    scope = scope_url or page.url

    def score(items):
        inside = sum(1 for i in items if _under(i.url, scope))
        dated = sum(1 for i in items if i.date)
        return (inside * 3 + dated * 2 + len(items), len(items))

    ranked = sorted(lists.items(), key=lambda kv: score(kv[1]), reverse=True)
    if not ranked:
        return []
    best_container, best = ranked[0]
    if len(best) < 2 and not any(i.date for i in best) and not any(_under(i.url, scope) for i in best):
        return []  # a lone link is not a list
    items = list(best)
    # Lists split into several same-styled blocks (groups of five with a rule between them).
    for container, other in ranked[1:]:
        if container.getparent() is best_container.getparent() and _marks(container) == _marks(best_container):
            items.extend(other)
    return items


def page_items(page, as_of: dt.date | None = None, min_rows: int = 2) -> list[ListItem]:
    """Every item of every content list on a page (a homepage's news boxes)."""
    out: list[ListItem] = []
    for items in _candidate_lists(page, as_of).values():
        if len(items) >= min_rows:
            out.extend(items)
    return out


@dataclass(frozen=True)
class DiscoveredColumn:
    name: str
    url: str


def discover_columns(page, limit: int = 60, containers: re.Pattern = NAV) -> list[DiscoveredColumn]:
    """Columns named in the homepage's navigation (menus and their sub-menus) and in the
    titles of its news boxes ("工作动态 更多>>"); with containers=TREE, the columns of a
    信息公开 page's directory tree."""
    site = netloc_of(page.url)
    found: dict[str, DiscoveredColumn] = {}

    def add(name: str, href: str | None) -> None:
        url = normalize_url(href, page.base_url)
        name = re.sub(r"\s+", "", name or "")
        if (url is None or netloc_of(url) != site or is_homepage_path(url) or is_asset(url) or is_attachment(url)
                or url_date(url) or not (2 <= len(name) <= 12) or MORE.match(name) or url in found):
            return
        found[url] = DiscoveredColumn(name, url)

    for el in page.tree.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "nav" or containers.search(f" {el.get('id') or ''} {el.get('class') or ''} "):
            for a in el.iter("a"):
                add(a.get("title") or a.text_content(), a.get("href"))
    for a in page.tree.iter("a"):
        if MORE.match(a.text_content() or "") or MORE.match(a.get("title") or ""):
            box = a.getparent()
            label = re.sub(r"\s+", "", (box.text_content() if box is not None else "").replace(a.text_content(), ""))
            add(label, a.get("href"))
    return list(found.values())[:limit]
