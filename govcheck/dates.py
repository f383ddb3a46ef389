"""Date extraction from government list and article pages — the one place dates are parsed.

What real sites do, and what this module therefore handles:
- formats 2024-04-19, 2024/04/19, 2024.04.19, 2024年04月19日, 2024年4月9日, with or without a time;
- list rows that print only [04-19] / 04-19 / 04月19日 under a year heading;
- dates only in the article URL (/art/2024/4/19/art_…, /202404/t20240419_…, /2024-04/19/content_…);
- metas: PubDate, publishdate, article:published_time … (but not Maketime, a CMS build stamp);
- decoys: copyright years, visit counters, document numbers 〔2019〕12号, dates inside titles
  ("关于2024年5月1日起施行…"), calendar widgets, dates in attributes (alt="时间：2017-…").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# A full date: year, month, day with one of the separators real pages use. Digits may not
# touch other digits (document numbers, phone numbers and ids are not dates).
FULL_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?:\s*日)?(?!\d)")
# A date without its year, as list rows print them: 04-19, [04-19], 04/19, 04月19日.
SHORT_DATE = re.compile(r"(?<![\d\-/.年])(\d{1,2})\s*(?:[-/]|月)\s*(\d{1,2})(?:\s*日)?(?![\d\-/.])")
YEAR_HEADING = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年(?!\s*\d)")
URL_DATES = [
    re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_"),                       # TRS: /202404/t20240419_123.html
    re.compile(r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),               # Hanweb: /art/2024/4/19/art_1_2.html
    re.compile(r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/"),                       # /2024-04/19/content_1.htm
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/"),                         # /20240419/
    re.compile(r"[_/-]((?:19|20)\d{2})(\d{2})(\d{2})[_.-]"),                 # …_20240419_… / -20240419.html
]
PUBLISH_METAS = ("pubdate", "publishdate", "publish_date", "publishtime", "firstpublishedtime", "releasedate",
                 "article:published_time", "og:published_time", "dc.date.issued", "dcterms.issued", "created")
# Labels that introduce the publication date, strongest first; 成文日期 is the document's own
# date, used only when nothing better is printed.
LABELS = ("发布时间", "发布日期", "发表时间", "发布于", "信息时间", "日期", "时间", "更新时间", "成文日期")
LABELLED = re.compile(r"(" + "|".join(LABELS) + r")\s*[:：]?\s*(?:\[|【|\()?\s*" + FULL_DATE.pattern)
DECOY_BEFORE = re.compile(r"(©|copyright|版权所有|备案|浏览|访问|点击|阅读)[^。\n]{0,12}$", re.I)
# A label's own decoy is a word fused to it (访问时间, 浏览日期): a counter printed before the
# label ("访问量：199 发布日期：2017-05-15") does not make the labelled date a decoy.
LABEL_DECOY = re.compile(r"(©|copyright|版权所有|备案|浏览|访问|点击|阅读)\s*$", re.I)
# The bare labels 日期/时间 end many other words: 报名时间, 培训时间, 展会时间, 公示时间 in a
# notice's body (www.wlmq.gov.cn) are not the publication date. Fused to a word they count only
# after the prefixes that name the document's own date (生成日期 in 信息公开 tables).
BARE_LABELS = ("日期", "时间")
BARE_PREFIXES = ("生成", "发文", "印发", "公开", "公布", "上传")


def make_date(y: int | str, m: int | str, d: int | str) -> dt.date | None:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None


def parse_date(text: str) -> dt.date | None:
    """The first full date in a short text (a meta value, a table cell, a row)."""
    for m in FULL_DATE.finditer(text or ""):
        found = make_date(*m.groups())
        if found:
            return found
    return None


def url_date(url: str) -> dt.date | None:
    for pattern in URL_DATES:
        m = pattern.search(url or "")
        if m:
            found = make_date(*m.groups())
            if found:
                return found
    return None


# Year and month in an article URL (/202310/…, /2023-10/…, /art/2023/10/…): enough to date a
# list row that prints only 10-11.
URL_MONTH = re.compile(r"/((?:19|20)\d{2})-?(0[1-9]|1[0-2])(?:\d{2})?/|/art/((?:19|20)\d{2})/(\d{1,2})/")


def url_month(url: str) -> tuple[int, int] | None:
    m = URL_MONTH.search(url or "")
    if not m:
        return None
    year, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return (int(year), int(month)) if 1 <= int(month) <= 12 else None


def short_date(text: str, year: int) -> dt.date | None:
    for m in SHORT_DATE.finditer(text or ""):
        found = make_date(year, m.group(1), m.group(2))
        if found:
            return found
    return None


# A date printed in two elements, as calendar-style badges on list rows show it: the day big
# and the year-month below it (<b>28</b><i>2024-03</i>), or the year apart from the month-day
# (<span>2024</span><span>03-28</span>). Concatenated, their text is "282024-03": no date.
_PIECE_DAY = re.compile(r"(\d{1,2})\s*日?")
_PIECE_YEAR_MONTH = re.compile(r"((?:19|20)\d{2})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?")
_PIECE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年?")
_PIECE_MONTH_DAY = re.compile(r"(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?")


def split_date(pieces: list[str]) -> dt.date | None:
    """The date of two neighbouring text pieces of one row (element texts in document order):
    a day and a year-month, either way round, or a year and a month-day."""
    for first, second in zip(pieces, pieces[1:]):
        for day_of, rest_of in ((first, second), (second, first)):
            day, ym = _PIECE_DAY.fullmatch(day_of), _PIECE_YEAR_MONTH.fullmatch(rest_of)
            if day and ym and (found := make_date(ym.group(1), ym.group(2), day.group(1))):
                return found
        year, md = _PIECE_YEAR.fullmatch(first), _PIECE_MONTH_DAY.fullmatch(second)
        if year and md and (found := make_date(year.group(1), md.group(1), md.group(2))):
            return found
    return None


def text_dates(text: str, not_after: dt.date | None = None) -> list[dt.date]:
    """Every plausible full date in running text, decoys (copyright, counters) skipped."""
    out = []
    for m in FULL_DATE.finditer(text or ""):
        if DECOY_BEFORE.search(text[max(0, m.start() - 20):m.start()]):
            continue
        found = make_date(*m.groups())
        if found and (not_after is None or found <= not_after):
            out.append(found)
    return out


@dataclass(frozen=True)
class DatedText:
    date: dt.date
    source: str  # meta | label | url | text


def article_date(page, not_after: dt.date | None = None) -> DatedText | None:
    """Publication date of an article page (a govcheck.page.ParsedPage).

    Visible labelled dates come first (what a reader and an assessor see), then the
    publication metas, then the URL, then the first undecorated date in the body text.
    """
    text = page.visible_text
    best = None
    for m in LABELLED.finditer(text):
        if LABEL_DECOY.search(text[max(0, m.start() - 20):m.start()]):
            continue
        if (m.group(1) in BARE_LABELS and re.match(r"[\u4e00-\u9fff]", text[m.start() - 1:m.start()])
                and text[max(0, m.start() - 2):m.start()] not in BARE_PREFIXES):
            continue
        found = make_date(*m.groups()[1:])
        if found and (not_after is None or found <= not_after):
            rank = LABELS.index(m.group(1))
            if best is None or rank < best[0]:
                best = (rank, found)
            if rank <= 2:
                break
    if best is not None:
        return DatedText(best[1], "label")
    for name in PUBLISH_METAS:
        value = page.meta(name)
        found = parse_date(value or "")
        if found and (not_after is None or found <= not_after):
            return DatedText(found, "meta")
    found = url_date(page.url)
    if found and (not_after is None or found <= not_after):
        return DatedText(found, "url")
    dates = text_dates(text, not_after)
    return DatedText(dates[0], "text") if dates else None
