"""网站标识 in the forms real footers print them, and footers a page pulls in from its own site."""

import pytest
from conftest import Route, findings_jsonl, govcheck, html, write_registry

from checks.footer import check_footer, footer_identifiers
from govcheck.page import ParsedPage, included_page, script_written_html


def info(footer: str, url="http://www.ds.gov.cn/", included=()):
    return footer_identifiers(ParsedPage(url, f"<html><body><div class='main'>正文</div><div class='footer'>{footer}</div></body></html>"),
                              included)


@pytest.mark.parametrize("footer, sponsor", [
    ("主办单位：鄂尔多斯市人民政府办公室 承办单位：鄂尔多斯市大数据中心", "鄂尔多斯市人民政府办公室"),
    ("主办方：国家统计局　技术支持：某公司", "国家统计局"),
    ("主办：东胜区人民政府|联系电话：0477-8321234", "东胜区人民政府"),
    ("主 办：达拉特旗人民政府办公室", "达拉特旗人民政府办公室"),
    ("网站主办：伊金霍洛旗人民政府", "伊金霍洛旗人民政府"),
    ("主办单位 杭锦旗人民政府办公室 地址：锡尼镇", "杭锦旗人民政府办公室"),
    ("鄂尔多斯市人民政府办公室（主办） 鄂尔多斯市政务服务中心（承办）", "鄂尔多斯市人民政府办公室"),
    ("版权所有：准格尔旗人民政府 准格尔旗人民政府办公室主办", "准格尔旗人民政府办公室"),
    ("主办单位：<span>乌审旗人民政府</span>", "乌审旗人民政府"),
])
def test_sponsor_label_before_or_after_the_name(footer, sponsor):
    assert info(footer).sponsor == sponsor


def test_contractor_or_copyright_alone_is_not_the_sponsor():
    assert info("承办单位：鄂尔多斯市大数据中心 版权所有：鄂尔多斯市人民政府").sponsor is None
    # 主办 in running text (a meeting "由…主办") is not a footer sponsor line.
    assert info("本次培训由市委网信办主办单位内部参加").sponsor != "市委网信办"


@pytest.mark.parametrize("footer, contact", [
    ("联系电话：010--63070957", "010--63070957"),
    ("联系电话：０４７７－８３２１２３４", "0477-8321234"),
    ("电话：(0477)8581234 传真：(0477)8581235", "(0477)8581234"),
    ("联系我们 邮箱：zwgk@ordos.gov.cn", "zwgk@ordos.gov.cn"),
    ("咨询电话：12345", "12345"),
    ("地址：广州市教育路88号电话：020-12333 版权所有", "020-12333"),   # 广东人社 (tests/realpages r04)
])
def test_contact_separators(footer, contact):
    assert info(footer).contact == contact


@pytest.mark.parametrize("footer, contact", [
    # www.gov.cn, www.cmse.gov.cn, www.yichun.gov.cn: the footer links to the contact page.
    ('<a href="/home/lxwm/">联系我们</a> | <a href="/wzdt/">网站地图</a> 主办单位：国务院办公厅', "联系我们"),
    ('网站地图 法律声明 <a href="/lxfs.html">联系方式</a> 网站标识码：bm55000001', "联系方式"),
    # The 宜春 homepage: a QQ consultation number and no telephone.
    ("网站地图 | 网站帮助 | 关于我们 | QQ及时咨询 (2513807704) | 本站已支持 IPv6 访问", "2513807704"),
    # A telephone after a label still comes first.
    ('<a href="/lxwm/">联系我们</a> 联系电话：0477-8321234', "0477-8321234"),
])
def test_contact_as_a_link_or_a_qq_number(footer, contact):
    assert info(footer).contact == contact


def test_a_technical_support_number_or_about_us_is_no_contact():
    # www.wanzai.gov.cn: 关于我们 and the IT contractor's number are not the site's contact.
    assert info("关于我们 主办：万载县人民政府 技术支持：万载县信息中心(0795-8819792) 版权所有").contact is None


def test_registrations_with_full_width_and_split_forms():
    i = info("网站标识码：１５０６０２０００１ 蒙ＩＣＰ备０５００３２１６号－１ <a>蒙公网安备</a><span>1506020</span><span>2000101</span>号")
    assert (i.site_code_footer, i.icp, i.psb, i.problems) == ("1506020001", "蒙ICP备05003216号-1", "蒙公网安备15060202000101号", {})
    # The 2019+ ICP numbers carry a four-digit year.
    assert info("京ICP备2021012345号-2").icp == "京ICP备2021012345号-2" and not info("京ICP备2021012345号-2").problems


@pytest.mark.parametrize("footer", [
    "公安机关备案号：15081599004-00001",
    "京公网安备110102000001号",
    "公安备案号 1501020200",
])
def test_old_style_police_registration_is_present_but_malformed(footer):
    i = info(footer)
    assert i.psb and "psb" in i.problems
    found = {(f.check, f.subject) for f in check_footer([i])}
    assert ("footer_invalid", "psb") in found and ("footer_missing", "psb") not in found


def test_current_police_registration_under_other_labels():
    for footer in ("公安机关备案号：43010302000524", "公网安备案号 11010502030000", "京公网安备 11010502030000 号"):
        i = info(footer)
        assert i.psb and "psb" not in i.problems, footer


def test_a_phone_number_after_a_registration_does_not_join_it():
    i = info("冀公网安备 13010402001602 0311-66635502")
    assert i.psb == "冀公网安备13010402001602" and "psb" not in i.problems


# --------------------------------------------------------------------------- includes

FOOTER_HTML = """<div class="footer"><p>主办单位：东胜区人民政府办公室 联系电话：0477-8321234</p>
<p>网站标识码：1506020001 蒙ICP备05003216号-1 蒙公网安备 15060202000101号</p>
<span id="_ideConac"><a href="https://bszs.conac.cn/sitename?method=show&id=1">党政机关</a></span>
<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code=1506020001">找错</a></div>"""
FOOTER_JS = "var s = '';\n" + "".join(
    f"s += '{line}';\n" for line in FOOTER_HTML.replace("'", "\\'").splitlines()) + "document.write(s);"


def test_footer_include_candidates():
    page = ParsedPage("http://www.ds.gov.cn/zwgk/index.html", """<html><body><div class="main">正文</div>
      <div id="foot"><iframe src="/inc/di.html"></iframe></div>
      <iframe name="bottom" src="/public/b.html"></iframe>
      <iframe src="http://other.gov.cn/footer.html"></iframe>
      <script src="/js/footer.js"></script><script src="/js/jquery.js"></script>
      <!--#include virtual="/include/foot.shtml"-->
      <script>$("#ft").load("/public/copyright.html");</script></body></html>""")
    assert page.footer_includes == ["http://www.ds.gov.cn/inc/di.html", "http://www.ds.gov.cn/public/b.html",
                                    "http://www.ds.gov.cn/js/footer.js", "http://www.ds.gov.cn/public/copyright.html",
                                    "http://www.ds.gov.cn/include/foot.shtml"]


def test_script_written_markup():
    assert script_written_html("document.write('<p>\\u4e3b\\u529e\\uff1a\\'A\\'</p>');") == "<p>主办：'A'</p>"
    assert "_ideConac" in script_written_html('document.write(unescape("%3Cspan id=\'_ideConac\' %3E%3C/span%3E"));')


@pytest.mark.parametrize("url, body, ctype", [
    ("http://www.ds.gov.cn/js/footer.js", FOOTER_JS, "application/javascript"),
    ("http://www.ds.gov.cn/inc/di.html", FOOTER_HTML, "text/html"),
])
def test_footer_from_an_include_is_complete(url, body, ctype):
    page = ParsedPage("http://www.ds.gov.cn/", "<html><body><div class='main'>正文</div></body></html>")
    assert {f.subject for f in check_footer([footer_identifiers(page)])} >= {"sponsor", "icp", "psb", "conac", "jiucuo"}
    included = included_page(url, body.encode("utf-8"), ctype)
    assert check_footer([footer_identifiers(page, [included])], "1506020001") == []


def test_footer_written_by_an_inline_script():
    page = ParsedPage("http://www.ds.gov.cn/", f"<html><body><p>正文</p><script>{FOOTER_JS}</script></body></html>")
    assert check_footer([footer_identifiers(page)], "1506020001") == []


@pytest.mark.slow
def test_scan_reads_a_footer_written_by_a_same_site_script_once(tmp_path, serve):
    host = "www.ft.gov.cn"
    pages = {f"/p{i}.html": Route(body=html(f"文章{i}", f"<p>正文{i}</p><script src='/js/footer.js'></script>"))
             for i in range(3)}
    links = "".join(f"<a href='/p{i}.html'>文章{i}</a>" for i in range(3))
    server = serve({host: {
        "/": Route(body=html("测试区人民政府", f"{links}<script src='/js/footer.js'></script>")),
        "/js/footer.js": Route(body=FOOTER_JS, content_type="application/javascript"), **pages}})
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": "测试区人民政府", "sites": [{"url": f"http://{host}:{server.port}/", "site_code": "1506020001"}]}],
        resolve={host: "127.0.0.1"})
    db = tmp_path / "g.db"
    govcheck("scan", str(registry), "--db", str(db), "--as-of", "2024-04-19")
    footer = [f for f in findings_jsonl(db) if f["check"].startswith("footer_")]
    assert footer == []
    # One GET of the include for the site (plus the link check's HEAD), however many pages use it.
    gets = [r for r in server.requests if r[2] == "/js/footer.js" and r[1] == "GET"]
    assert len(gets) == 1


@pytest.mark.parametrize("footer, sponsor", [
    ("主办单位：中共鄂尔多斯市委办公室 鄂尔多斯市人民政府办公室 联系电话：0477-8581234", "中共鄂尔多斯市委办公室 鄂尔多斯市人民政府办公室"),
    ("主办单位：东胜区人民政府办公室 东胜区大数据中心承办", "东胜区人民政府办公室"),
    ("主办：东胜区人民政府 技术支持：某公司", "东胜区人民政府"),
])
def test_joint_sponsors_are_one_value(footer, sponsor):
    assert info(footer).sponsor == sponsor


def test_a_sentence_ending_in_zhuban_is_not_a_sponsor_line():
    assert info("本次活动由市委网信办主办 欢迎参加").sponsor is None


def test_police_registration_label_variants():
    assert info("京公安网备11010502030000号").psb == "京公安网备11010502030000号"


@pytest.mark.parametrize("footer, icp, psb", [
    # www.tcmsc.gov.cn, www.bjxch.gov.cn, wtl.sz.gov.cn (tests/realpages r33, r23, r34).
    ("网站标识码：5100000014 蜀ICP备：19007388号 川公网安备 51010402001180号", "蜀ICP备19007388号", "川公网安备51010402001180号"),
    ("京ICP备19014909号-1 京公网安备:11010202007633", "京ICP备19014909号-1", "京公网安备11010202007633"),
    ("备案序号粤ICP备18094387号 粤公网安备号44030402003007", "粤ICP备18094387号", "粤公网安备44030402003007"),
])
def test_a_separator_between_label_and_number_is_not_part_of_the_registration(footer, icp, psb):
    # (蜀 is Sichuan's ICP abbreviation: the first footer is well-formed.)
    found = info(footer)
    assert (found.icp, found.psb) == (icp, psb)
    assert "icp" not in found.problems and "psb" not in found.problems


def test_the_nearer_of_a_mail_and_a_phone_after_the_label():
    # zdb.beijing.gov.cn (r17): the service line 12345 after the e-mail is another item.
    assert info("客服邮箱：bjzdb@zdb.beijing.gov.cn 政务服务热线：12345").contact == "bjzdb@zdb.beijing.gov.cn"


def test_a_mail_address_without_a_label_is_the_contact():
    # www.hebeitour.gov.cn (r41).
    assert info("冀ICP备11012692号-54 webmaster@hebeitour.com.cn 网站地图").contact == "webmaster@hebeitour.com.cn"


def page_info(body: str, url="http://www.ds.gov.cn/a.html"):
    return footer_identifiers(ParsedPage(url, f"<html><body>{body}</body></html>"))


def test_a_marked_block_without_identifiers_is_not_the_whole_footer():
    # www.bjxch.gov.cn, www.hongshan.gov.cn (r23, r51): the only block with a footer-like class
    # is the leave-site dialog; the real footer is an unmarked <div>.
    found = page_info("<div class='main'>正文</div><div class='wrap'><p>技术支持邮箱：work@bjxch.gov.cn</p>"
                      "<p>主办:北京市西城区人民政府办公室 承办:北京市西城区政务服务管理局</p>"
                      "<p>政府网站标识码:1101020002 京ICP备19014909号-1</p></div>"
                      "<div class='ft-dialog'><a>放弃</a> <a>继续访问</a></div>")
    assert found.contact == "work@bjxch.gov.cn"
    assert found.sponsor == "北京市西城区人民政府办公室"


def test_body_text_after_the_footer_is_not_the_footer():
    # www.wlmq.gov.cn (r16): a mobile copy of the notice follows the footer, and the notice's own
    # 电话 lines come just before the mobile footer; the footer prints no number.
    notice = ("<p>" + "为确保本次培训的顺利开展，请各地、各单位高度重视，切实加强组织领导，及时转发并通知相关人员报名。" * 8
              + "</p><p>联系人：苏雅</p><p>电话：0991-2859329、2868435</p><p>新疆文化艺术学校</p><p>2024年3月1日</p>")
    found = page_info(f"<div class='pc'>{notice}<div class='copytext'><p>主办：乌鲁木齐市人民政府办公室</p>"
                      "<p>网站标识码6501000002 新ICP备05001907号</p></div></div>"
                      f"<div class='mobile'>{notice}<p>开办：乌鲁木齐市人民政府</p><p>主办：乌鲁木齐市人民政府办公室</p>"
                      "<p>地址：乌鲁木齐市南湖东路30号 新ICP备05001907号</p></div>")
    assert found.contact is None
    assert found.sponsor == "乌鲁木齐市人民政府办公室"


def test_a_page_without_any_footer_has_no_contact():
    # ct.zj.gov.cn copy without its footer (r53): the 公示's last line invites calls; that number
    # is the notice's, and the page shows no footer at all.
    found = page_info("<div class='main'><p>公示期内，如有异议，可来电向人事处反映情况，电话：0571-85215842。</p></div>")
    assert found.contact is None


@pytest.mark.parametrize("footer, sponsor", [
    # www.hp.gov.cn (r22): two sponsors, then the 承办： field.
    ("主办：广州开发区管委会 广州市黄埔区人民政府 承办：广州市黄埔区政务服务和数据管理局 联系我们",
     "广州开发区管委会 广州市黄埔区人民政府"),
    # www.qingdao.gov.cn (r31): joint sponsors before 主办, joined by 、.
    ("鲁公网安备 37020202000341号 中共青岛市委、青岛市人民政府主办", "中共青岛市委、青岛市人民政府"),
])
def test_joint_sponsors_in_more_forms(footer, sponsor):
    assert info(footer).sponsor == sponsor


def test_the_contractor_after_a_sponsor_is_still_left_out():
    assert info("主办：鄂尔多斯市人民政府办公室 鄂尔多斯市大数据中心承办").sponsor == "鄂尔多斯市人民政府办公室"


def test_jiucuo_as_the_button_its_script_draws():
    # www.qingdao.gov.cn (r31): the button without the script that drew it.
    found = info("""<a href="javascript:;"><img src="jiucuo.png" onclick="Link('3702000025')"></a>""")
    assert found.jiucuo and found.site_code_jiucuo == "3702000025"


def test_hanweb_badge_components():
    # www.ahedu.gov.cn (r48): both badges are components the site script fills in.
    found = info("""<div class="dzjg j-jiucuo fl" data-setting="{sitecode:3400000072}"></div>
                    <div class="dzjg j-gov fl" data-setting="{sitecode:'0ADF13855B3F222BE053012819AC6888'}"></div>""")
    assert found.conac and found.jiucuo and found.site_code_jiucuo == "3400000072"
    # The same class without its setting is some other block.
    assert not info('<div class="j-gov">政务公开</div>').conac
