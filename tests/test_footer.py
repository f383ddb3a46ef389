"""网站标识: each item present, absent or malformed; the 网站标识码 cross-check; real pages."""

import csv

import pytest
from conftest import SHARED

from checks.footer import check_footer, footer_identifiers, valid_site_code
from govcheck.page import ParsedPage, decode_html

GOOD = """<html><head><meta name="SiteIDCode" content="1506020001"></head><body><div class="main">正文</div>
<div class="footer"><p>主办单位：东胜区人民政府办公室　联系电话：0477-8321234</p>
<p>网站标识码：1506020001 <a href="https://beian.miit.gov.cn/">蒙ICP备<span>05003216</span>号-1</a>
<a href="http://www.beian.gov.cn/">蒙公网安备 15060202000101号</a></p>
<span id="_ideConac"><a href="https://bszs.conac.cn/sitename?method=show&id=1"><img src="red.png"></a></span>
<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code=1506020001&url=x"><img src="jc.png"></a></div></body></html>"""


def info(html, url="http://www.ds.gov.cn/"):
    return footer_identifiers(ParsedPage(url, html))


def test_complete_footer():
    i = info(GOOD)
    assert (i.conac, i.jiucuo, i.site_code_footer, i.site_code_meta, i.site_code_jiucuo) == (True, True, "1506020001", "1506020001", "1506020001")
    assert i.icp == "蒙ICP备05003216号-1" and i.psb.startswith("蒙公网安备") and i.sponsor == "东胜区人民政府办公室"
    assert i.contact == "0477-8321234" and i.problems == {}
    assert check_footer([i], "1506020001") == []


@pytest.mark.parametrize("remove, item", [
    ('<span id="_ideConac"><a href="https://bszs.conac.cn/sitename?method=show&id=1"><img src="red.png"></a></span>', "conac"),
    ("网站标识码：1506020001", "site_code"),
    ('<a href="https://beian.miit.gov.cn/">蒙ICP备<span>05003216</span>号-1</a>', "icp"),
    ('<a href="http://www.beian.gov.cn/">蒙公网安备 15060202000101号</a>', "psb"),
    ("主办单位：东胜区人民政府办公室", "sponsor"),
    ("联系电话：0477-8321234", "contact"),
    ('<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code=1506020001&url=x"><img src="jc.png"></a>', "jiucuo"),
])
def test_each_item_missing(remove, item):
    assert remove in GOOD
    findings = check_footer([info(GOOD.replace(remove, ""))])
    assert [(f.check, f.subject) for f in findings] == [("footer_missing", item)]


@pytest.mark.parametrize("old, new, item", [
    ("网站标识码：1506020001", "网站标识码：150602001", "site_code"),
    ("网站标识码：1506020001", "网站标识码：9906020001", "site_code"),
    ("蒙ICP备<span>05003216</span>号-1", "蒙ICP备<span>0500321</span>号-1", "icp"),
    ("蒙公网安备 15060202000101号", "蒙公网安备 150602020001号", "psb"),
])
def test_each_item_malformed(old, new, item):
    findings = check_footer([info(GOOD.replace(old, new))])
    assert ("footer_invalid", item) in [(f.check, f.subject) for f in findings]


def test_site_code_cross_check():
    [f] = check_footer([info(GOOD.replace('content="1506020001"', 'content="1506020002"'))])
    assert f.check == "footer_invalid" and f.subject == "site_code" and "SiteIDCode为 1506020002" in f.evidence
    [f] = check_footer([info(GOOD)], "1506029999")
    assert f.detail["codes"]["登记信息"] == "1506029999"
    # An empty SiteIDCode (seen on Hanweb pages) is not a mismatch.
    assert check_footer([info(GOOD.replace('content="1506020001"', 'content=""'))]) == []


def test_missing_only_on_an_inner_page_lists_the_pages():
    home, inner = info(GOOD), info(GOOD.replace("联系电话：0477-8321234", ""), "http://www.ds.gov.cn/a.html")
    [f] = check_footer([home, inner])
    assert f.url == "http://www.ds.gov.cn/a.html" and f.detail["pages"] == ["http://www.ds.gov.cn/a.html"]
    assert f.detail["present_on"] == ["http://www.ds.gov.cn/"]


def test_conac_written_by_script_and_jiucuo_by_sitecode_attribute():
    page = ("<html><body><div class='footer'>主办单位：某局 电话：010-12345678 网站标识码：bm06000004 京ICP备05022684号-3"
            " 京公网安备11010202000001号<script>document.write(unescape(\"%3Cspan id='_ideConac' %3E%3C/span%3E\"));</script>"
            "<script id='_jiucuo_' sitecode='bm06000004' src='https://zfwzgl.www.gov.cn/exposure/jiucuo.js'></script></div></body></html>")
    i = info(page)
    assert i.conac and i.jiucuo and i.site_code_jiucuo == "bm06000004" and check_footer([i]) == []


def test_valid_site_codes():
    assert valid_site_code("1506020001") and valid_site_code("bm01000001")
    assert not valid_site_code("150602000") and not valid_site_code("9906020001") and not valid_site_code("bm0100001")


@pytest.mark.skipif(not (SHARED / "realpages").is_dir(), reason="../shared/realpages not present")
def test_real_pages_dev_labels():
    with open(SHARED / "realpages" / "labels_dev.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        text = decode_html((SHARED / "realpages" / "pages" / r["file"]).read_bytes(), None)[0]
        i = footer_identifiers(ParsedPage(f"http://x.gov.cn/{r['file']}", text))
        norm = lambda s: (s or "").replace(" ", "").replace("\xa0", "")  # noqa: E731
        assert norm(i.site_code_footer) == r["site_code_footer"], r["file"]
        assert norm(i.site_code_meta) == r["site_code_meta"], r["file"]
        assert norm(i.icp) == norm(r["icp"]), r["file"]
        assert norm(i.psb) == norm(r["psb"]), r["file"]
        assert str(i.conac).lower() == r["has_conac"] and str(i.jiucuo).lower() == r["has_jiucuo"], r["file"]
        assert norm(i.sponsor) == norm(r["sponsor"]), r["file"]
    # 011: the footer says bm36000005, its 找错 link bm36000002.
    i11 = footer_identifiers(ParsedPage("http://x/", decode_html((SHARED / "realpages/pages/011.html").read_bytes(), None)[0]))
    assert [f.subject for f in check_footer([i11]) if f.check == "footer_invalid"] == ["site_code"]
