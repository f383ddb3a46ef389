"""List rows, homepage boxes and column discovery."""

import datetime as dt

from govcheck.listing import discover_columns, main_list, page_items
from govcheck.page import ParsedPage

AS_OF = dt.date(2024, 4, 19)
HOME = """<html><body>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a>
  <ul class="submenu"><li><a href="/zwgk/tzgg/">通知公告</a></li><li><a href="/zwgk/zcwj/">政策文件</a></li></ul></li>
  <li><a href="/gzdt/">工作动态</a></li><li><a href="/gzdt/202404/t20240417_5.html">一篇文章</a></li>
  <li><a href="http://www.gov.cn/">中国政府网</a></li><li><a href="/logo.png">图</a></li></ul></div>
<div class="box"><span>人事信息</span><a href="/rsxx/">更多&gt;&gt;</a></div>
<div class="footer"><a href="/about/">关于本站</a></div></body></html>"""


def test_discover_columns_from_nav_submenus_and_more_links():
    cols = discover_columns(ParsedPage("http://www.ds.gov.cn/", HOME))
    assert [(c.name, c.url.rsplit("cn", 1)[1]) for c in cols] == [
        ("政务公开", "/zwgk/"), ("通知公告", "/zwgk/tzgg/"), ("政策文件", "/zwgk/zcwj/"), ("工作动态", "/gzdt/"),
        ("人事信息", "/rsxx/")]


def test_main_list_prefers_the_columns_own_rows():
    page = ParsedPage("http://www.ds.gov.cn/tzgg/", """<html><body>
      <ul class="side"><li><a href="/gzdt/9.html">别的栏目</a><span>2024-04-18</span></li>
        <li><a href="/gzdt/8.html">别的栏目2</a><span>2024-04-17</span></li><li><a href="/gzdt/7.html">3</a><span>2024-04-16</span></li></ul>
      <ul class="list"><li><a href="a.html">通知一</a><span>2024-03-01</span></li><li><a href="b.html">通知二</a><span>2024-02-01</span></li></ul>
    </body></html>""")
    items = main_list(page, AS_OF)
    assert [i.title for i in items] == ["通知一", "通知二"] and items[0].date == dt.date(2024, 3, 1)


def test_list_split_into_same_styled_blocks():
    block = '<ul class="list">{}</ul>'
    rows = lambda a, b: "".join(f'<li><a href="{i}.html">条目{i}</a><span>2024-03-{i:02d}</span></li>' for i in range(a, b))  # noqa: E731
    page = ParsedPage("http://www.ds.gov.cn/gzdt/", "<html><body><div>" + block.format(rows(1, 6)) + "<hr>"
                      + block.format(rows(6, 11)) + "</div></body></html>")
    assert len(main_list(page, AS_OF)) == 10


def test_future_dates_are_not_item_dates():
    page = ParsedPage("http://www.ds.gov.cn/tzgg/", '<html><body><ul class="l"><li><a href="a.html">会议通知</a>'
                                                    '<span>2024-05-20</span></li><li><a href="b.html">旧</a><span>2024-01-02</span></li></ul></body></html>')
    assert [i.date for i in main_list(page, AS_OF)] == [None, dt.date(2024, 1, 2)]


def test_homepage_items_from_every_box_but_not_nav_or_footer():
    page = ParsedPage("http://www.ds.gov.cn/", HOME.replace('<div class="footer">', """
      <div class="news"><ul><li><a href="/gzdt/1.html">新闻一</a>04-17</li><li><a href="/gzdt/2.html">新闻二</a>04-10</li></ul></div>
      <div class="footer">"""))
    items = page_items(page, AS_OF)
    assert {i.title for i in items} == {"新闻一", "新闻二"}


def test_a_lone_link_beside_a_date_widget_is_not_a_news_box():
    page = ParsedPage("http://www.ds.gov.cn/", '<html><body><div class="weather">2024年4月19日 星期五 '
                                                '<a href="/tq/">天气预报</a></div></body></html>')
    assert page_items(page, AS_OF) == []


def test_directory_tree_of_an_open_government_page():
    from govcheck.listing import TREE

    page = ParsedPage("http://www.ds.gov.cn/zwgk/", """<html><body>
      <div class="left"><ul class="tree"><li><a href="/zwgk/jgzn/">机构职能</a></li>
        <li><a href="/zwgk/czzj/">财政资金</a><ul><li><a href="/zwgk/czzj/ys/">部门预算</a></li></ul></li></ul></div>
      <div class="content"><ul><li><a href="/zwgk/a.html">一条信息</a></li></ul></div></body></html>""")
    assert [c.name for c in discover_columns(page, containers=TREE)] == ["机构职能", "财政资金", "部门预算"]
    assert discover_columns(page) == []  # not navigation
