"""Column layouts that real sites use and the first release misjudged: rows grouped under
year headings with month-day dates, and an empty column page whose sidebar lists other
columns' items."""

import datetime as dt

import pytest
from conftest import Route, findings_jsonl, govcheck, html, write_registry

from checks.freshness import ColumnState, check_columns
from govcheck.config import Settings
from govcheck.listing import main_list, newest_item, page_items
from govcheck.page import ParsedPage

AS_OF = dt.date(2024, 4, 19)
YEAR_GROUPED = """<div class="main"><div class="list">
  <h3>2023年</h3><ul><li><a href="t1.html">2023年统计公报</a><span>03-15</span></li>
                     <li><a href="t2.html">2022年四季度数据</a><span>01-20</span></li></ul>
  <h3>2022年</h3><ul><li><a href="t3.html">2022年三季度数据</a><span>10-18</span></li>
                     <li><a href="t4.html">2022年二季度数据</a><span>07-19</span></li></ul></div></div>"""
YEAR_ROWS_TABLE = """<table class="list"><tr><td colspan="2">2023年</td></tr>
  <tr><td><a href="t1.html">统计公报</a></td><td>[03-15]</td></tr><tr><td><a href="t2.html">季度数据</a></td><td>[01-20]</td></tr>
  <tr><td colspan="2">2022年</td></tr><tr><td><a href="t3.html">三季度数据</a></td><td>[10-18]</td></tr></table>"""
SIDEBAR = """<div class="left"><div class="hot"><h3>热点信息</h3><ul>
  <li><a href="/gzdt/202404/t20240418_1.html">市领导调研</a><span>2024-04-18</span></li>
  <li><a href="/gzdt/202404/t20240417_2.html">全市会议召开</a><span>2024-04-17</span></li>
  <li><a href="/zwgk/202404/t20240416_3.html">政策解读</a><span>2024-04-16</span></li></ul></div></div>"""
EMPTY_COLUMN = f"""<div class="container">{SIDEBAR}<div class="right"><div class="crumb">当前位置：通知公告</div>
  <div class="list"><ul></ul></div></div></div>"""
EMPTY_SAYS_SO = f"""<div class="container"><div class="r">{SIDEBAR.replace('class="hot"', 'class="box"')}</div>
  <div class="content">暂无信息</div></div>"""


@pytest.mark.parametrize("layout", [YEAR_GROUPED, YEAR_ROWS_TABLE])
def test_month_day_rows_take_the_year_of_their_heading(layout):
    page = ParsedPage("http://www.ds.gov.cn/tjsj/", html("统计数据", layout))
    items = main_list(page, AS_OF)
    assert newest_item(items).date == dt.date(2023, 3, 15)
    assert dt.date(2022, 10, 18) in {i.date for i in items}


def test_year_grouped_column_is_stale_after_400_days():
    page = ParsedPage("http://www.ds.gov.cn/tjsj/", html("统计数据", YEAR_GROUPED))
    items = main_list(page, AS_OF)
    col = ColumnState("统计数据", page.url, "1y", "inferred", True, items=len(items), newest=newest_item(items).date)
    [f] = check_columns([col], AS_OF, Settings())
    assert f.check == "column_stale" and f.detail["age_days"] == 401


@pytest.mark.parametrize("layout", [EMPTY_COLUMN, EMPTY_SAYS_SO])
def test_empty_column_beside_a_sidebar_of_other_columns_is_blank(layout):
    page = ParsedPage("http://www.ds.gov.cn/tzgg/", html("通知公告", layout))
    assert main_list(page, AS_OF) == []
    col = ColumnState("通知公告", page.url, "6m", "inferred", True, items=0)
    assert [f.check for f in check_columns([col], AS_OF, Settings())] == ["column_blank"]


def test_the_same_sidebar_beside_a_real_list_lends_no_dates():
    rows = '<ul class="list"><li><a href="a.html">通知一</a><span>2023-09-01</span></li><li><a href="b.html">通知二</a><span>2023-08-01</span></li></ul>'
    page = ParsedPage("http://www.ds.gov.cn/tzgg/", html("通知公告", EMPTY_COLUMN.replace("<ul></ul>", rows)))
    assert newest_item(main_list(page, AS_OF)).date == dt.date(2023, 9, 1)


@pytest.mark.slow
def test_scan_judges_both_layouts(tmp_path, serve):
    host = "www.lay.gov.cn"
    server = serve({host: {
        "/": Route(body=html("布局测试区人民政府", '<div class="nav"><a href="/tjsj/">统计数据</a><a href="/tzgg/">通知公告</a></div>'
                                                   '<ul class="news"><li><a href="/gzdt/1.html">要闻</a>2024-04-18</li>'
                                                   '<li><a href="/gzdt/2.html">要闻二</a>2024-04-17</li></ul>')),
        "/tjsj/": Route(body=html("统计数据", YEAR_GROUPED)),
        "/tzgg/": Route(body=html("通知公告", EMPTY_COLUMN))}})
    base = f"http://{host}:{server.port}"
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "布局测试区", "sites": [{"url": f"{base}/", "columns": [
        {"name": "统计数据", "url": f"{base}/tjsj/"}, {"name": "通知公告", "url": f"{base}/tzgg/"}]}]}],
        resolve={host: "127.0.0.1"})
    db = tmp_path / "g.db"
    govcheck("scan", str(registry), "--db", str(db), "--as-of", AS_OF.isoformat())
    found = {(f["check"], f["subject"]) for f in findings_jsonl(db) if f["check"].startswith("column_")}
    assert found == {("column_stale", "统计数据"), ("column_blank", "通知公告")}


# A homepage news box printing only month-day (the 宜春 homepage in tests/realpages, r09): the
# year is the article URL's (/202310/…), not the scan's, and a row whose URL carries no date
# takes the year of its box's other rows. Scanned years later, the box is still 2023's news.
MONTH_DAY_BOX = """<div class="news"><ul class="newsList MM-dd">
  <li><a href="/ycsrmzf/zwyw/202310/a1.shtml">全市综合考核工作部署会召开</a><span class="time">10-11</span></li>
  <li><a href="/ycsrmzf/zwyw/202310/a2.shtml">市政协召开常委会议</a><span class="time">10-10</span></li>
  <li><a href="/ycsrmzf/zxft/zxft_content.shtml?id=e4d6">主要负责人解读营商环境</a><span class="time">10-09</span></li>
  <li><a href="/ycsrmzf/zwyw/202312/a3.shtml">跨年稿件</a><span class="time">01-02</span></li></ul></div>"""


def test_month_day_rows_take_the_year_of_their_url_or_their_box():
    page = ParsedPage("http://www.yichun.gov.cn/", html("中国宜春", MONTH_DAY_BOX))
    dates = {i.title: i.date for i in page_items(page, dt.date(2026, 12, 2))}
    assert dates == {"全市综合考核工作部署会召开": dt.date(2023, 10, 11), "市政协召开常委会议": dt.date(2023, 10, 10),
                     "主要负责人解读营商环境": dt.date(2023, 10, 9), "跨年稿件": dt.date(2024, 1, 2)}
    assert {i.date_source for i in page_items(page, dt.date(2026, 12, 2))} == {"row"}


# Hanweb (大汉) column pages (/col/col1234/index.html, on many provincial and national sites:
# 江苏, 浙江, 国家医保局) ship the first page of the list inside <script type="text/xml"> as a
# <datastore> of CDATA records that the site's jpage script renders into the page; an HTML
# parser alone sees an empty column beside the sidebar.
HANWEB = f"""<div class="container">{SIDEBAR}<div class="right"><div class="crumb">当前位置：首页 &gt; 通知公告</div>
  <div id="4421234"><script type="text/xml"><datastore>
  <nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/&columnid=1234&unitid=4421234"></a>]]></nextgroup>
  <recordset>
  <record><![CDATA[<li><a href="/art/2024/3/28/art_1234_101.html" title="关于开展安全生产大检查的通知" target="_blank">关于开展安全生产大检查的通知</a><span>2024-03-28</span></li>]]></record>
  <record><![CDATA[<li><a href="/art/2024/3/11/art_1234_99.html" title="关于做好春季防火工作的通知" target="_blank">关于做好春季防火工作的通知</a><span>2024-03-11</span></li>]]></record>
  <record><![CDATA[<li><a href="/art/2024/2/6/art_1234_97.html" title="春节期间值班安排" target="_blank">春节期间值班安排</a><span>2024-02-06</span></li>]]></record>
  </recordset></datastore></script>
  <script language="javascript" src="/module/web/jpage/jpage.js"></script></div></div></div>"""


def test_hanweb_datastore_records_are_the_column_list():
    page = ParsedPage("http://www.ds.gov.cn/col/col1234/index.html", html("通知公告", HANWEB))
    items = main_list(page, AS_OF)
    assert [i.title for i in items] == ["关于开展安全生产大检查的通知", "关于做好春季防火工作的通知", "春节期间值班安排"]
    assert newest_item(items).date == dt.date(2024, 3, 28)
    assert "关于开展安全生产大检查的通知" in page.visible_text      # on screen, as a browser renders it
    assert "dataproxy" not in " ".join(i.url for i in items)     # the pager record is no item
    # the same column with an empty recordset is blank, whatever its sidebar lists
    empty = HANWEB.split("<recordset>")[0] + "<recordset></recordset></datastore></script></div></div></div>"
    assert main_list(ParsedPage("http://www.ds.gov.cn/col/col1234/index.html", html("通知公告", empty)), AS_OF) == []


def test_hanweb_table_records_keep_their_dates():
    rows = "".join(f'<record><![CDATA[<tr><td><a href="/art/2024/{m}/{d}/art_77_{m}{d}.html">第{m}月{d}日公告</a></td>'
                   f'<td>2024-{m:02d}-{d:02d}</td></tr>]]></record>' for m, d in ((4, 2), (3, 20), (3, 1)))
    page = ParsedPage("http://www.ds.gov.cn/col/col77/index.html", html("公示公告", f"""<div class="main">
      <script type="text/xml"><datastore><recordset>{rows}</recordset></datastore></script></div>"""))
    assert newest_item(main_list(page, AS_OF)).date == dt.date(2024, 4, 2)
    assert len(main_list(page, AS_OF)) == 3


# Calendar-style date badges: the day printed apart from the year-month (or the year apart from
# the month-day), each in its own element; their concatenated text ("282024-03") is no date.
ROWS = ((2024, 3, 28), (2024, 3, 11), (2024, 2, 6))
BADGES = {
    "day then year-month": '<li><div class="time"><span>{d:02d}</span>{y}-{m:02d}</div><a href="a{i}.html">第{i}号通知</a></li>',
    "year-month then day": '<li><a href="a{i}.html">第{i}号通知</a><div class="date"><p>{y}/{m:02d}</p><span>{d:02d}</span></div></li>',
    "badge inside the link": '<li><a href="a{i}.html"><div class="date"><b>{d:02d}</b><i>{y}.{m:02d}</i></div><h3>第{i}号通知</h3></a></li>',
    "year apart": '<li><a href="a{i}.html">第{i}号通知</a><em>{y}</em><em>{m:02d}-{d:02d}</em></li>',
}


@pytest.mark.parametrize("row", BADGES.values(), ids=BADGES.keys())
def test_split_date_badges_date_their_rows(row):
    body = "".join(row.format(i=i, y=y, m=m, d=d) for i, (y, m, d) in enumerate(ROWS))
    page = ParsedPage("http://www.ds.gov.cn/tzgg/", html("通知公告", f'<ul class="list">{body}</ul>'))
    assert [i.date for i in main_list(page, AS_OF)] == [dt.date(*r) for r in ROWS]


def test_a_view_count_beside_the_date_badge_is_no_day():
    # only neighbouring pieces make a date: 阅读 12 … 2024-03 is not the 12th
    row = '<li><a href="a{i}.html">第{i}号通知</a><span>阅读</span><span>12</span><span>发布</span><span>{y}-{m:02d}</span></li>'
    body = "".join(row.format(i=i, y=y, m=m) for i, (y, m, d) in enumerate(ROWS))
    page = ParsedPage("http://www.ds.gov.cn/tzgg/", html("通知公告", f'<ul class="list">{body}</ul>'))
    assert {i.date for i in main_list(page, AS_OF)} == {None}


def test_one_dl_per_item_and_dt_dd_pairs():
    one = "".join(f'<dl><dt><a href="a{i}.html">第{i}号通知</a></dt><dd>{y}-{m:02d}-{d:02d}</dd></dl>' for i, (y, m, d) in enumerate(ROWS))
    pairs = "<dl>" + "".join(f'<dt><a href="a{i}.html">第{i}号通知</a></dt><dd>{y}-{m:02d}-{d:02d}</dd>' for i, (y, m, d) in enumerate(ROWS)) + "</dl>"
    for body in (f'<div class="list">{one}</div>', f'<div class="list">{pairs}</div>'):
        page = ParsedPage("http://www.ds.gov.cn/tzgg/", html("通知公告", body))
        assert [i.date for i in main_list(page, AS_OF)] == [dt.date(*r) for r in ROWS]


def test_card_rows_nested_deep_below_their_li_keep_their_dates():
    # <li><div class="l"><div class="t"><h4><span><a>…</a></span></h4></div></div><div class="r">date</div></li>
    rows = "".join(f'<li><div class="l"><div class="t"><h4><span><a href="a{i}.html">第{i}号通知</a></span></h4></div></div>'
                   f'<div class="r">{y}-{m:02d}-{d:02d}</div></li>' for i, (y, m, d) in enumerate(ROWS))
    page = ParsedPage("http://www.ds.gov.cn/tzgg/", html("通知公告", f'<ul class="list">{rows}</ul>'))
    assert [i.date for i in main_list(page, AS_OF)] == [dt.date(*r) for r in ROWS]


# 国家旅游局's TRS columns print the date inside the link, before the title:
# <li><a href="./201710/t20171013_842368.shtml"><span>2017-10-15</span>标题</a></li>. The URL holds
# the day the article was created, two days before the printed publication date.
def test_a_date_printed_inside_the_link_beats_the_url_date():
    rows = "".join(f'<li><a href="./2017{m:02d}/t2017{m:02d}{d - 2:02d}_{i}.shtml"><span>2017-{m:02d}-{d:02d}</span>第{i}号通知</a></li>'
                   for i, (m, d) in enumerate(((10, 14), (10, 15), (9, 27))))
    page = ParsedPage("http://www.ds.gov.cn/zdgz/sctg/", html("市场推广", f'<div class="list"><ul>{rows}</ul></div>'))
    items = main_list(page, AS_OF)
    assert [i.date for i in items] == [dt.date(2017, 10, 14), dt.date(2017, 10, 15), dt.date(2017, 9, 27)]
    assert newest_item(items).date == dt.date(2017, 10, 15) and {i.date_source for i in items} == {"row"}
    # the date in the title's wording is no row date: the URL's date stands
    worded = "".join(f'<li><a href="./201710/t201710{d:02d}_{i}.shtml">关于<b>2017年11月1日</b>起施行第{i}号令</a></li>'
                     for i, d in enumerate((13, 12)))
    page = ParsedPage("http://www.ds.gov.cn/zdgz/sctg/", html("市场推广", f'<div class="list"><ul>{worded}</ul></div>'))
    assert [(i.date, i.date_source) for i in main_list(page, AS_OF)] == [(dt.date(2017, 10, 13), "url"), (dt.date(2017, 10, 12), "url")]
