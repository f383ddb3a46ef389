"""Date extraction: every format real sites print, every decoy they carry."""

import datetime as dt
import importlib.util
from pathlib import Path

import pytest

from govcheck.dates import DatedText, article_date, parse_date, short_date, text_dates, url_date
from govcheck.page import ParsedPage

D = dt.date
spec = importlib.util.spec_from_file_location("bench_dates", Path(__file__).resolve().parents[1] / "bench" / "dates.py")
bench_dates = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_dates)


@pytest.mark.parametrize("text, expected", [
    ("2024-04-19", D(2024, 4, 19)), ("2024/04/19 10:30", D(2024, 4, 19)), ("2024.04.19", D(2024, 4, 19)),
    ("2024年04月19日", D(2024, 4, 19)), ("2024年4月9日", D(2024, 4, 9)), ("2024 年 4 月 9 日", D(2024, 4, 9)),
    ("发布于2024-4-9", D(2024, 4, 9)), ("2024-02-30", None), ("索引号 20240419123", None),
    ("东政发〔2019〕12号", None), ("电话 0477-8321234", None), ("2024年", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("url, expected", [
    ("http://x.gov.cn/gzdt/202404/t20240419_123.html", D(2024, 4, 19)),
    ("http://x.gov.cn/art/2024/4/9/art_1229_5521.html", D(2024, 4, 9)),
    ("http://www.kepu.gov.cn/politics/2023-12/01/content_1755244.html", D(2023, 12, 1)),
    ("http://x.gov.cn/xxgk/20240419/a.html", D(2024, 4, 19)),
    ("https://www.gov.cn/yaowen/liebiao/202309/content_6906622.htm", None),  # month only
    ("http://x.gov.cn/content_6906622.htm", None),
])
def test_url_date(url, expected):
    assert url_date(url) == expected


def test_short_dates_take_the_given_year():
    assert short_date("[04-19]", 2024) == D(2024, 4, 19)
    assert short_date("04月09日", 2024) == D(2024, 4, 9)
    assert short_date("2024-04-19", 2024) is None  # a full date is not a short one


def test_text_dates_skip_decoys():
    text = "版权所有 2003-2024 ©2024-01-01 浏览次数：2024-04-01 正文提到 2024-03-05 的会议"
    assert text_dates(text) == [D(2024, 3, 5)]
    assert text_dates("会议定于2024-06-01召开", not_after=D(2024, 4, 19)) == []


def test_meta_without_visible_date():
    page = ParsedPage("http://x.gov.cn/a.html", '<html><head><meta name="PubDate" content="2024-04-02 09:00">'
                                                '<meta name="Maketime" content="2024-04-20"></head><body><p>正文</p></body></html>')
    found = article_date(page)
    assert found.date == D(2024, 4, 2) and found.source == "meta"


def test_no_date_at_all():
    assert article_date(ParsedPage("http://x.gov.cn/a.html", "<html><body><p>正文</p></body></html>")) is None


def cases():
    return list(bench_dates.own_cases())


@pytest.mark.parametrize("name, got, expected", cases(), ids=[c[0] for c in cases()])
def test_labelled_pages(name, got, expected):
    assert got == expected


@pytest.mark.skipif(not bench_dates.REAL.is_dir(), reason="../shared/realpages not present")
def test_real_pages_dev_labels():
    misses = [(f, got, want) for f, got, want in bench_dates.real_cases() if got != want]
    assert misses == []


def test_a_counter_before_the_label_does_not_make_the_labelled_date_a_decoy():
    # www.wanzai.gov.cn (tests/realpages r05): the page was regenerated in 2022 (PubDate meta),
    # the visible 发布日期 after the visit counter is the publication date.
    page = ParsedPage("http://x.gov.cn/a.html", '<html><head><meta name="PubDate" content="2022-04-24 10:00:43"></head><body>'
                      '<span>访问量：<b>199</b></span> <span>发布日期：<b><publishtime>2017-05-15 10:49:00</publishtime></b></span>'
                      '<p>正文</p></body></html>')
    assert article_date(page) == DatedText(D(2017, 5, 15), "label")
    # A label fused to a counter word is still a decoy: 浏览时间 is not a publication date.
    fused = ParsedPage("http://x.gov.cn/a.html", '<html><head><meta name="PubDate" content="2022-04-24"></head><body>'
                       '<span>浏览时间：2024-05-06</span><p>正文</p></body></html>')
    assert article_date(fused) == DatedText(D(2022, 4, 24), "meta")


def test_a_word_ending_in_shijian_is_not_the_publication_label():
    # www.wlmq.gov.cn (tests/realpages r16): the only visible publication date has no label; a
    # notice's 报名时间/培训时间 are dates inside the text; the PubDate meta decides.
    page = ParsedPage("http://www.wlmq.gov.cn/fjbm/llj/tzgg/562718.htm", """<html><head>
        <meta name="PubDate" content="2024-03-03 15:54:07"></head><body>
        <div class="info">2024-03-03 15:54:07 来源:新疆维吾尔自治区文化和旅游厅 阅读:</div>
        <p>报名时间：2024年3月7日-4月26日</p><p>培训时间：2024年3月8日-4月30日</p></body></html>""")
    assert article_date(page) == DatedText(D(2024, 3, 3), "meta")


def test_the_generation_date_of_a_disclosure_table_still_counts():
    # 信息公开 tables print 生成日期 (www.wanzai.gov.cn, tests/realpages r06): a fused label
    # after a prefix that names the document's own date.
    page = ParsedPage("http://www.wanzai.gov.cn/a.shtml", """<html><body><table><tr><td>索引号：</td>
        <td>014742224A/2023-0043406</td><td>生成日期：</td><td>2023-05-11</td></tr></table>
        <p>展会时间：2023年7月12日</p></body></html>""")
    assert article_date(page) == DatedText(D(2023, 5, 11), "label")


def test_split_date_pieces():
    from govcheck.dates import split_date
    assert split_date(["第一号通知", "28", "2024-03"]) == dt.date(2024, 3, 28)
    assert split_date(["2024年03月", "28日"]) == dt.date(2024, 3, 28)
    assert split_date(["2024", "03-28"]) == dt.date(2024, 3, 28)
    assert split_date(["28", "通知", "2024-03"]) is None          # not neighbours
    assert split_date(["31", "2024-02"]) is None                  # no such day
    assert split_date(["2024-03-28"]) is None                     # a full date is FULL_DATE's
