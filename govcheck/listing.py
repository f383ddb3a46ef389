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

from govcheck import clock
from govcheck.dates import FULL_DATE, make_date, short_date, split_date, url_date, url_month
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
YEAR_ONLY = re.compile(r"[\[【(（]?((?:19|20)\d{2})\s*年?度?[\]】)）]?")
# Boxes beside a column's list that show other columns' items (热点信息, 最新公开, 相关链接).
SIDEBAR = re.compile(r"(^|[\s_-])(aside|sidebar|side|sider|sidebox|hot|hotnews|rdxx|rdtj|rmxx|rmtj|tjyd|xgxx|xgwz|"
                     r"related|recommend|ranking|phb|zxgk)([\s_-]|\d|$)", re.I)
SIDEBAR_HEADING = re.compile(r"热点|热门|推荐|相关|排行|点击|精彩|猜你|最新公开|最新信息|最新发布")
NOTHING_LISTED = re.compile(r"暂无(信息|数据|内容|记录|相关|文章)|没有(相关|找到|任何)(信息|记录|数据|内容)|无相关信息")
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
            # One <dl> per item (<dl><dt><a>…</a></dt><dd>2024-03-28</dd></dl>): the row is the <dl>.
            parent = el.getparent()
            if el.tag == "dt" and parent is not None and parent.tag == "dl" and len(parent.findall("dt")) == 1:
                return parent
            return el
        el = el.getparent()
        depth += 1
    # No row tag near the link (card layouts nest it deeper: <li><div><div><h4><span><a>, or rows
    # of <div>s): the row is the nearest ancestor repeated beside siblings of its own tag and class.
    el = a.getparent()
    for _ in range(6):
        parent = el.getparent()
        if parent is None or not isinstance(parent.tag, str):
            break
        if sum(1 for c in parent if c.tag == el.tag and c.get("class") == el.get("class")) >= 2:
            return el
        el = parent
    return a.getparent()


def _row_pieces(row) -> list[str]:
    """The row's text pieces in document order; a <dt> takes its <dd> (a <dl> of title/date pairs)."""
    pieces = [t.strip() for t in row.itertext() if t.strip()]
    nxt = row.getnext()
    if row.tag == "dt" and nxt is not None and nxt.tag == "dd" and nxt.find(".//a") is None:
        pieces += [t.strip() for t in nxt.itertext() if t.strip()]
    return pieces


def _year_marks(parent, cache: dict) -> dict:
    """child element → the year heading in force at that child of `parent`: archives group their
    rows under headings (<h3>2023年</h3><ul>…</ul>, a <tr> holding only 2022年, bare 2021年
    text between lists) and print only month-day in the rows."""
    # Keyed by the elements themselves: lxml proxies stay the same only while referenced.
    key = parent
    if key not in cache:
        marks: dict = {}
        current = _year_only(parent.text)
        for child in parent:
            if isinstance(child.tag, str):
                own = _year_only(child.text_content()) if len(child) < 4 else None
                current = own or current
            marks[child] = current
            current = _year_only(child.tail) or current
        cache[key] = marks
    return cache[key]


def _year_only(text: str | None) -> int | None:
    m = YEAR_ONLY.fullmatch((text or "").strip())
    return int(m.group(1)) if m else None


def _heading_year(row, cache: dict) -> int | None:
    el = row
    for _ in range(3):
        parent = el.getparent()
        if parent is None:
            return None
        year = _year_marks(parent, cache).get(el)
        if year:
            return year
        el = parent
    return None


def _edge_date(a) -> dt.date | None:
    """A date printed as its own element at the start or end of the link
    (<a><span>2017-10-15</span>标题</a>, as 国家旅游局's TRS lists do). It is the row's printed
    date and beats the date in the URL, which is the day the article was created (t20171013).
    A date inside the title's wording (关于<b>2024年5月1日</b>起施行…) sits between other pieces
    and is not taken."""
    pieces = [t.strip() for t in a.itertext() if t.strip()]
    if len(pieces) < 2:
        return None
    for piece in (pieces[0], pieces[-1]):
        m = FULL_DATE.fullmatch(piece.strip("[]()【】（）"))
        if m:
            return make_date(*m.groups())
    return None


def _row_date(row, a, as_of: dt.date | None, url: str, cache: dict | None = None) -> tuple[dt.date | None, str | None]:
    # The row's text without the title: a date inside a title ("2024年5月1日起施行") is not
    # the item's date.
    # Pieces are joined with spaces: <b>28</b><i>2024-03</i> must not read as 282024-03.
    title = " ".join(t.strip() for t in a.itertext() if t.strip())
    pieces = _row_pieces(row)
    text = " ".join(pieces).replace(title, " ", 1) if title else " ".join(pieces)
    for m in FULL_DATE.finditer(text):
        found = make_date(*m.groups())
        if found and (as_of is None or found <= as_of):
            return found, "row"
    found = _edge_date(a)
    if found and (as_of is None or found <= as_of):
        return found, "row"
    found = split_date(pieces)
    if found and (as_of is None or found <= as_of):
        return found, "row"
    heading = _heading_year(row, cache if cache is not None else {})
    # A row printing only 10-11 takes its year from the year heading, else from the article's
    # URL (/202310/…: a homepage box of 2023 is not this year's news), else from the scan date.
    month = url_month(url) if not heading else None
    year = heading or (month[0] if month else (as_of or clock.now().date()).year)
    found = short_date(text, year)
    if found and month:
        # Published in the URL's month or just after it: 01-03 under /202312/ is the next January.
        if found.month < month[1] - 6:
            found = short_date(text, year + 1)
        elif found.month > month[1] + 6:
            found = short_date(text, year - 1)
    if found and as_of and found > as_of and not heading and not month:
        found = short_date(text, year - 1)
    if found and as_of and found > as_of:
        found = None
    if found:
        # "guess": the year came from the scan date alone; _candidate_lists asks the row's
        # neighbours (a box whose other rows' URLs say 2023) before believing it.
        return found, "row" if heading or month else "guess"
    found = url_date(url)
    if found and (as_of is None or found <= as_of):
        return found, "url"
    return None, None


def _candidate_lists(page, as_of: dt.date | None) -> dict:
    """container element → [ListItem] for every repeated group of linked rows."""
    groups: dict = defaultdict(list)
    seen: set = set()
    years: dict = {}
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
        date, source = _row_date(row, a, as_of, url, years)
        groups[container].append(ListItem(url, title[:200], date, source))
    return {c: _settle_years(items, as_of) for c, items in groups.items() if not _in_chrome(c)}


def _settle_years(items: list[ListItem], as_of: dt.date | None) -> list[ListItem]:
    """Rows dated by month-day alone whose year was only guessed take the year of the newest
    row of the same list whose year is known (printed, from a heading or from its URL)."""
    known = [i.date for i in items if i.date and i.date_source != "guess"]
    anchor = max(known) if known else None
    out = []
    for item in items:
        if item.date_source != "guess":
            out.append(item)
            continue
        date = item.date
        if anchor is not None:
            year = anchor.year + (1 if date.month < anchor.month - 6 else -1 if date.month > anchor.month + 6 else 0)
            date = make_date(year, date.month, date.day) or date
            if as_of and date > as_of:
                date = make_date(date.year - 1, date.month, date.day) or item.date
        out.append(ListItem(item.url, item.title, date, "row"))
    return out


def _under(url: str, scope: str | None) -> bool:
    if not scope:
        return False
    base = scope.rsplit("/", 1)[0] + "/"
    if url.startswith(base):
        return True
    # Hanweb columns live at /col/col123/index.html and their articles at /art/…/art_123_456.html.
    col = re.search(r"/col/col(\d+)/", scope)
    return bool(col and f"/art_{col.group(1)}_" in url)


def _in_sidebar(container) -> bool:
    el, depth = container, 0
    while el is not None and isinstance(el.tag, str) and depth < 6:
        if el.tag == "aside" or SIDEBAR.search(f" {el.get('id') or ''} {el.get('class') or ''} "):
            return True
        depth += 1
        el = el.getparent()
    # The box's own heading: <div><h3>热点信息</h3><ul>…</ul></div>.
    box = container.getparent()
    if box is not None:
        heading = re.sub(r"\s+", "", (box.text or "") + " ".join(
            c.text_content() for c in box if c is not container and isinstance(c.tag, str) and len(c.text_content()) < 20))
        if SIDEBAR_HEADING.search(heading[:40]):
            return True
    return False


def main_list(page, as_of: dt.date | None = None, scope_url: str | None = None) -> list[ListItem]:
    """The item list of a column page ([] when it lists nothing).

    A column that lists nothing still shows its sidebar ("热点信息", other columns' latest
    items): a sidebar list counts only when its items are the column's own, so such a page
    is blank, and so is one whose content area says 暂无信息 while only other columns' items
    are shown."""
    lists = _candidate_lists(page, as_of)
    scope = scope_url or page.url

    def own(items):
        return sum(1 for i in items if _under(i.url, scope))

    def score(items):
        dated = sum(1 for i in items if i.date)
        return (own(items) * 3 + dated * 2 + len(items), len(items))

    lists = {c: items for c, items in lists.items() if own(items) or not _in_sidebar(c)}
    ranked = sorted(lists.items(), key=lambda kv: score(kv[1]), reverse=True)
    if not ranked:
        return []
    best_container, best = ranked[0]
    if len(best) < 2 and not any(i.date for i in best) and not own(best):
        return []  # a lone link is not a list
    if not own(best) and NOTHING_LISTED.search(page.visible_text):
        return []
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
