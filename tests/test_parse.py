"""Pages parse as a browser parses them (WHATWG tree building): markup errors real templates
make must not hide content from the checks."""

import pytest
from conftest import SHARED
from selectolax.lexbor import LexborHTMLParser

from checks.footer import check_footer, footer_identifiers
from govcheck.page import ParsedPage, decode_html, parse_html

FOOTER = """<div class="footer">主办单位：国务院办公厅 网站标识码：bm01000001 京ICP备05070218号
<a href="http://www.beian.gov.cn/">京公网安备11010202000001号</a> 联系电话：010-63070957
<span id="_ideConac"><a href="https://bszs.conac.cn/sitename?method=show&id=1">党政机关</a></span>
<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code=bm01000001">找错</a></div>"""


def test_stray_closing_html_in_a_header_include_hides_nothing():
    # A national portal's 公报 template closes </html></body> inside its header include.
    page = ParsedPage("http://www.gov.cn/gongbao/", f"""<!DOCTYPE html><html><head><title>公报</title></head><body>
      <div class="header"><a href="/">首页</a></div></body></html>
      <div class="main"><h1>国务院公报</h1><p>{"正文内容。" * 40}</p></div>{FOOTER}</body></html>""")
    assert "国务院公报" in page.visible_text and "正文内容" * 5 in page.visible_text.replace("。", "")
    assert check_footer([footer_identifiers(page)]) == []


def test_unclosed_and_misnested_tags():
    page = ParsedPage("http://x.gov.cn/", "<div><p>第一段<p>第二段<b>粗<i>斜</b>体</i><table><tr><td>格<div>内</div></table>尾")
    assert page.visible_text == "第一段 第二段 粗 斜 体 格 内 尾".replace(" ", "") or "第二段" in page.visible_text
    assert all(word in page.visible_text for word in ("第一段", "第二段", "粗", "斜", "体", "格", "内", "尾"))
    # A <p> cannot hold a <div>: the browser closes it, so the <div> is a sibling.
    tree = parse_html("<p>a<div>b</div>")
    assert tree.find(".//p").text_content() == "a"


def test_deep_nesting_keeps_its_text():
    html = "<html><body>" + "<div>" * 300 + "深处的内容" + "</div>" * 300 + "<p>之后的内容</p>" + FOOTER + "</body></html>"
    page = ParsedPage("http://x.gov.cn/", html)
    assert "深处的内容" in page.visible_text and "之后的内容" in page.visible_text
    assert check_footer([footer_identifiers(page)]) == []
    depth, el = 0, page.tree.find(".//div")
    while el is not None and el.find("div") is not None:
        el, depth = el.find("div"), depth + 1
    assert depth == 299


def test_nested_documents_and_text_outside_body():
    page = ParsedPage("http://x.gov.cn/", "<html><body><p>外</p><html><head><title>无标题文档</title></head>"
                                          "<body><p>内</p></body></html></body></html><p>末尾</p>")
    assert [w in page.visible_text for w in ("外", "内", "末尾")] == [True, True, True]
    assert "无标题文档" not in page.visible_text


PAGES = SHARED / "realpages" / "pages"


@pytest.mark.skipif(not PAGES.is_dir(), reason="../shared/realpages not present")
@pytest.mark.parametrize("name", sorted(p.name for p in PAGES.glob("*.html")) if PAGES.is_dir() else [])
def test_the_lxml_tree_is_the_browser_tree(name):
    # The checks read an lxml tree; it must hold the elements lexbor's WHATWG tree holds, in order.
    text, _ = decode_html((PAGES / name).read_bytes(), None)
    lexbor = [n.tag for n in LexborHTMLParser(text).root.traverse() if not n.tag.startswith(("-", "_", "!"))]
    ours = [el.tag for el in parse_html(text).iter() if isinstance(el.tag, str)]
    assert [t.lower() for t in lexbor] == ours
