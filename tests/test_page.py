"""Decoding and parsing: every encoding real sites use, links with their visibility."""

from govcheck.page import ParsedPage, decode_html, style_hides

PAGE = "<html><head><title>东胜区人民政府</title></head><body><p>政务公开</p></body></html>"


def test_decode_declared_in_header():
    text, enc = decode_html(PAGE.encode("gbk"), "text/html; charset=GBK")
    assert "东胜区人民政府" in text and enc in ("gb18030", "gbk")


def test_decode_declared_in_meta_gb2312_with_gbk_only_chars():
    # 镕 is outside GB2312 but real "gb2312" pages contain such characters (GBK supersets).
    body = '<html><head><meta charset="gb2312"><title>朱镕基</title></head></html>'.encode("gbk")
    text, _ = decode_html(body, "text/html")
    assert "朱镕基" in text


def test_decode_undeclared_gbk_and_utf8():
    assert "东胜区" in decode_html(PAGE.encode("gbk"), None)[0]
    assert "东胜区" in decode_html(PAGE.encode("utf-8"), None)[0]


def test_decode_wrongly_declared():
    # Template says utf-8, the CMS writes GBK bytes.
    body = '<html><head><meta charset="utf-8"></head><body>通知公告</body></html>'.encode("gbk")
    assert "通知公告" in decode_html(body, "text/html; charset=utf-8")[0]


def test_links_all_kinds():
    page = ParsedPage("http://www.ds.gov.cn/gzdt/", """<html><head>
      <link rel="stylesheet" href="/css/a.css"><link rel="dns-prefetch" href="//cdn.x.com">
      <script src="/js/a.js"></script></head><body>
      <a href="t1.html">文章一</a><a href="/files/a.pdf">附件</a><img src="/img/1.jpg" alt="图">
      <iframe src="/map.html"></iframe><a href="javascript:;">无</a><a href="mailto:x@y.cn">邮件</a>
      </body></html>""")
    kinds = {(link.url.rsplit("/", 1)[1], link.tag) for link in page.links}
    assert kinds == {("a.css", "css"), ("a.js", "script"), ("t1.html", "a"), ("a.pdf", "attachment"),
                     ("1.jpg", "img"), ("map.html", "iframe")}


def test_base_href_respected():
    page = ParsedPage("http://www.ds.gov.cn/a/b.html", '<html><head><base href="http://www.ds.gov.cn/x/"></head>'
                                                        '<body><a href="c.html">c</a></body></html>')
    assert page.links[0].url == "http://www.ds.gov.cn/x/c.html"


def test_hidden_links():
    page = ParsedPage("http://www.ds.gov.cn/", """<html><head><style>.yc{display:none} #off { position:absolute; left:-9999px }</style></head><body>
      <a href="http://a.com/">可见</a>
      <div style="display: none"><a href="http://b.com/">隐藏1</a></div>
      <span style="visibility:hidden"><a href="http://c.com/">隐藏2</a></span>
      <div style="position:absolute;top:-1000px"><a href="http://d.com/">隐藏3</a></div>
      <p class="x yc"><a href="http://e.com/">隐藏4</a></p>
      <div id="off"><a href="http://f.com/">隐藏5</a></div>
      <div hidden><a href="http://g.com/">隐藏6</a></div>
      <a href="http://h.com/" style="font-size:0">隐藏7</a>
      <div style="width:0;height:0;overflow:hidden"><a href="http://i.com/">隐藏8</a></div>
      <div style="width:100px"><a href="http://j.com/">可见2</a></div>
    </body></html>""")
    hidden = {link.url.split("//")[1].rstrip("/"): link.hidden for link in page.links}
    assert hidden["a.com"] is None and hidden["j.com"] is None
    assert all(hidden[h] for h in ("b.com", "c.com", "d.com", "e.com", "f.com", "g.com", "h.com", "i.com"))


def test_style_hides_is_not_fooled_by_nonzero_sizes():
    assert style_hides("width:10px;height:20px") is None
    assert style_hides("line-height:0.5;min-width:0") is None
    assert style_hides("height:0px;overflow:hidden") == "zero size"


def test_visible_text_skips_scripts_and_hidden():
    page = ParsedPage("http://x.gov.cn/", "<html><head><title>T</title><script>var a='脚本';</script></head><body>"
                                          "<p>正文</p><div style='display:none'>隐藏文字</div><style>.a{}</style></body></html>")
    assert page.visible_text == "正文"


def test_pagination_detected():
    page = ParsedPage("http://x.gov.cn/tzgg/index.html", """<html><body>
      <a href="index_1.html">下一页</a><a href="index_2.html">3</a><a href="/err500">500</a>
      <a href="/other/index_1.html">下一页</a>
      <script>createPageHTML(4, 0, "index", "html");</script></body></html>""")
    pag = {link.url.rsplit("x.gov.cn", 1)[1] for link in page.links if link.pagination}
    assert pag == {"/tzgg/index_1.html", "/tzgg/index_2.html", "/tzgg/index_3.html"}


def test_garbage_does_not_raise():
    for junk in ("", "   ", "<?xml version='1.0' encoding='gbk'?><html><body>x</body></html>", "\x00\x01"):
        page = ParsedPage("http://x.gov.cn/", junk)
        assert isinstance(page.links, list) and isinstance(page.visible_text, str)


def test_script_redirect_stub_snippet():
    stub = ParsedPage("http://x.gov.cn/col/", "<html><script>window.location.href='/col/col123/index.html';</script></html>")
    assert stub.snippet == "（脚本跳转页）"
    empty = ParsedPage("http://x.gov.cn/col/", "<html><body></body></html>")
    assert empty.snippet == ""
