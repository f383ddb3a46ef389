"""网站标识 (DESIGN §2): 标识缺失 / 标识不规范 on the homepage and a sample of inner pages.

Items: `conac` 党政机关网站标识, `site_code` 网站标识码, `icp` ICP备案编号, `psb` 公安机关备案标识,
`sponsor` 网站主办单位, `contact` 联系方式, `jiucuo` 我为政府网站找错. Real footers split numbers
across <span>s, use ASCII colons, hide the 找错 link with display:none or render it as an
<img onclick>, and sometimes carry a 网站标识码 that differs from the one in the 找错 link — the
extraction below is written against those pages (../shared/realpages).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from checks.inputs import FooterInput
from checks.registry import register, runs
from govcheck.findings import Finding

SOURCE = "《政府网站发展指引》（国办发〔2017〕47号）网站标识、ICP备案与公安备案要求"
FOOTER_MISSING = register("footer_missing", "标识缺失", "deduct",
                          "页面底部缺少党政机关网站标识、网站标识码、ICP备案编号、公安机关备案标识、网站主办单位、联系方式或“我为政府网站找错”入口。",
                          SOURCE, key_on_url=False, family="footer", inputs=("footer_sample",), notice="footer", shown_on_page=True)
FOOTER_INVALID = register("footer_invalid", "标识不规范", "deduct",
                          "标识存在但不规范：网站标识码、ICP备案编号、公安备案号格式错误，或网站标识码在页脚、SiteIDCode、找错链接与登记信息之间不一致。",
                          SOURCE, key_on_url=False, family="footer", inputs=("footer_sample",), notice="footer", shown_on_page=True)
ITEMS = {"conac": "党政机关网站标识", "site_code": "网站标识码", "icp": "ICP备案编号", "psb": "公安机关备案标识",
         "sponsor": "网站主办单位", "contact": "联系方式", "jiucuo": "我为政府网站找错"}

# Province abbreviations as registrations print them; ICP numbers of Sichuan and Gansu use the
# old names 蜀 and 陇 (蜀ICP备13001288号 on www.sc.gov.cn), their 公网安备 the short ones (川, 甘).
PROVINCES = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川蜀贵黔云滇藏陕甘陇青宁新"
# 网站标识码: 10 digits led by a province code, or bm + 8 digits for central departments.
PROVINCE_CODES = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
                  "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
# Footers are read after NFKC folding (full-width ＩＣＰ, ：, －, digits become ASCII) and, for
# numbers, with all whitespace removed, so "蒙ICP备<span>0500</span> 3216号" joins up.
SITE_CODE_LABEL = re.compile(r"(?:网站标识码|网站识别码|网站标志码)[:]?([A-Za-z]*\d*)")
ICP_ANY = re.compile(r"[\u4e00-\u9fff]?ICP[备证]\s*[:]?\s*\d[\d-]*\s*号?(?:-\d{1,3})?", re.I)
# 8 digits (year + serial, 2004-2019) or 10 (four-digit year, since 2019), optional -N site suffix.
ICP_OK = re.compile(rf"[{PROVINCES}]ICP备(?:\d{{8}}|\d{{10}})号(?:-\d{{1,3}})?")
# 公安机关备案: printed as 京公网安备 11010202000001号, 公安机关备案号：…, 公网安备案号 …; old
# registrations (before the national 14-digit numbers) look like 15081599004-00001.
PSB_ANY = re.compile(rf"[{PROVINCES}]?(?:公网安备案?号?|公安网备案?号?|公安机关备案号|公安备案号|网安备案?号?)\s*[:]?\s*(\d[\d-]*)\s*号?")
PSB_OK_NUMBER = re.compile(r"\d{14}")
# 主办单位 as real footers print it: 主办单位：X / 主办方：X / 网站主办：X / 主办：X / 主 办：X,
# or the name first: X（主办）, X主办. 承办/协办/运维 units are not the sponsor.
_NAME = r"[\u4e00-\u9fff()A-Za-z0-9·]"
_ORG_END = r"(?:政府|办公室|办公厅|委员会|局|厅|部|中心|院|署|会|处|室|站|馆|所|委|办|府|社|队|行|司)"
_STOP = r"(?=[\s|丨,，;；/]|承办|协办|运维|维护|联系|地址|电话|邮编|网站标识码|网站识别码|[\u4e00-\u9fff]?ICP|版权|技术支持|备案|$)"
SPONSOR = re.compile(rf"(?:网站主办单位|主办单位|主办方|网站主办|主\s*办)\s*[:]\s*({_NAME}{{2,40}}?){_STOP}"
                     rf"|(?:网站主办单位|主办单位|主办方|网站主办)\s+({_NAME}{{2,40}}?{_ORG_END}){_STOP}")
# Name first ("X（主办）", "X主办"): the name is one organisation, so no particles of a sentence
# ("本次活动由X主办" is running text, not a footer line).
_ORG_NAME = r"(?:(?!承办|协办|运维|主办)[^\s由在的为将于是了与及和对从|丨,，;；:：。、()（）])"
# Joint sponsors before 主办 are joined by 、 ("中共青岛市委、青岛市人民政府主办", www.qingdao.gov.cn).
SPONSOR_AFTER = re.compile(rf"(?:^|(?<=[\s|丨,，;；:©]))(?:版权所有)?[:]?((?:{_ORG_NAME}{{2,40}}?{_ORG_END}、)*{_ORG_NAME}{{2,40}}?{_ORG_END})"
                           rf"\s*(?:\(主办\)|主办(?!单位|方|\s*[:]))")
# A joint sponsorship lists more organisations after the first: "主办单位：中共X市委办公室 X市人民政府办公室".
# A following name is the contractor when 承办 comes after it as a word ("…办公室 Y承办"), not
# when 承办： starts the next field ("主办：广州开发区管委会 广州市黄埔区人民政府 承办：…").
_NOT_SPONSOR_NEXT = r"\s*\(?(?:承办|协办|运维|维护|技术支持)(?!\s*[:])"
SPONSOR_MORE = re.compile(rf"([\s、和]+)({_ORG_NAME}{{2,40}}?{_ORG_END}){_STOP}(?!{_NOT_SPONSOR_NEXT})")
# Telephone numbers with the separators footers print: 0477-8321234, (0477)8321234, 010--63070957,
# 0471 6945678, 400-xxx-xxxx, the 123xx service lines (12345, 12333) with or without an area
# code (020-12333 on the 广东人社 footer); a mobile on its own.
PHONE = re.compile(r"(?<!\d)((?:\(0\d{2,3}\)|0\d{2,3})(?:-{1,2}|—{1,2}|\s)?\d{7,8}(?:-\d{1,5})?|1[3-9]\d{9}|400-?\d{3}-?\d{4}"
                   r"|(?:(?:\(0\d{2,3}\)|0\d{2,3})-?)?123\d\d)(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
CONTACT_LABEL = re.compile(r"联系|电话|邮箱|e-?mail|信箱|传真", re.I)
# Most real footers give the contact as a link to the site's contact page (联系我们 on
# www.gov.cn, cmse, yichun) or as a QQ consultation number, not as a number of their own.
CONTACT_LINK = re.compile(r"联系我们|联系方式|联系本站|联系本网")
QQ = re.compile(r"QQ[^\d。|丨]{0,8}?(\d{5,11})(?!\d)", re.I)
JIUCUO_MARKS = ("zfwzgl.www.gov.cn", "kaipuyun.cn", "exposure/jiucuo", "jiucuo.js", "121.43.68.40")
# What only a footer prints: registrations, the site code, the sponsor line, the copyright.
FOOTER_SIGNS = re.compile(r"ICP[备证]|公网安备|公安机关备案|网站标识码|网站识别码|主\s*办[单方:]|(?<=[\u4e00-\u9fff])主办(?=\s|承办|$)"
                          r"|版权所有|copyright", re.I)
FOOTER_MARKS = re.compile(r"(^|[\s_-])(footer|foot|bottom|copyright|banquan|dibu|bq|ft)([\s_-]|\d|$)", re.I)


def valid_site_code(code: str) -> bool:
    return bool(re.fullmatch(r"bm\d{8}", code, re.I) or (re.fullmatch(r"\d{10}", code) and code[:2] in PROVINCE_CODES))


@dataclass
class FooterInfo:
    """What one page shows of the identifiers (values as found, whitespace removed)."""

    url: str
    conac: bool = False
    jiucuo: bool = False
    site_code_footer: str | None = None
    site_code_meta: str | None = None
    site_code_jiucuo: str | None = None
    icp: str | None = None
    psb: str | None = None
    sponsor: str | None = None
    contact: str | None = None
    problems: dict[str, str] = field(default_factory=dict)  # item → what is malformed

    def present(self, item: str) -> bool:
        if item == "site_code":
            return bool(self.site_code_footer)
        return bool(getattr(self, item))


def fold(text: str) -> str:
    """NFKC: full-width letters, digits and punctuation as ASCII (ＩＣＰ备, ：, －, （主办）)."""
    return unicodedata.normalize("NFKC", text or "")


def footer_text(page) -> str:
    """Text of the page's footer blocks, and the text around the page's last identifiers when
    those blocks print none of them."""
    marked = [el for el in page.tree.iter() if isinstance(el.tag, str) and (
        el.tag == "footer" or FOOTER_MARKS.search(f" {el.get('id') or ''} {el.get('class') or ''} "))]
    # Nested matches (div.footer > div.copyright) would repeat text: keep outermost only.
    ids = {id(el) for el in marked}
    outer = [el for el in marked if not any(id(a) in ids for a in el.iterancestors())]
    text = re.sub(r"\s+", " ", " ".join(el.text_content() for el in outer)).strip()
    if FOOTER_SIGNS.search(fold(text)):
        return text
    # Marked blocks without identifiers are often a leave-site dialog ("放弃 继续访问") or a
    # language switch; a page that also carries a mobile copy of the article after its footer
    # ends in body text. The footer is where the identifiers are.
    visible = fold(page.visible_text)
    signs = list(FOOTER_SIGNS.finditer(visible))
    if not signs:
        # No footer block, no identifier anywhere: the page shows no footer, and its last lines
        # are body text (a notice's own 联系电话 is not the site's contact).
        return text
    first = last = signs[-1]
    for sign in reversed(signs[:-1]):
        if first.start() - sign.end() > 300:
            break
        first = sign
    # Little before the first identifier: what precedes it there is as often the end of the
    # body (a notice's 联系人/电话 lines) as a 联系我们 link.
    start = max(0, first.start() - 40)
    if start and not visible[start - 1].isspace():   # from the next whole word, not "…系我们"
        space = visible.find(" ", start, first.start())
        start = space + 1 if space >= 0 else start
    around = visible[start:last.end() + 300]
    return f"{text} {around}".strip()


def _attr_values(el) -> str:
    values = " ".join(v for v in el.attrib.values() if isinstance(v, str))
    if el.tag == "script" and el.text:
        # The official conac/jiucuo embed codes write their markup with
        # document.write(unescape("%3Cspan id='_ideConac'…")).
        values += " " + unquote(el.text)
    return values


# The 找错 button as jiucuo.js draws it: <img src=jiucuo.png onclick="Link('3702000025')">.
JIUCUO_LINK = re.compile(r"\bLink\(\s*['\"]?(bm\d{8}|\d{10})['\"]?\s*\)")
# Hanweb (大汉 jpaas) sites place both badges as components their site script fills in:
# <div class="dzjg j-gov" data-setting="{sitecode:'<conac id>'}">, <div class="j-jiucuo"
# data-setting="{sitecode:3400000072}"> (www.ahedu.gov.cn, www.shushan.gov.cn).
WIDGET = re.compile(r"(?:^|\s)(j-gov|j-jiucuo)(?:\s|$)")


def _widget(el) -> str | None:
    m = WIDGET.search(el.get("class") or "")
    return m.group(1) if m and "sitecode" in (el.get("data-setting") or "") else None


def _jiucuo_code(el) -> str | None:
    for value in el.attrib.values():
        if "site_code=" in value or "sitecode=" in value.lower():
            q = parse_qs(urlsplit(value).query)
            for key in ("site_code", "sitecode"):
                if q.get(key):
                    return q[key][0].strip()
        m = re.search(r"\b(bm\d{8}|\d{10})\b", value)
        if m and ("Link(" in value or el.get("id") == "_jiucuo_"):
            return m.group(1)
    code = el.get("sitecode") or el.get("site_code")
    if not code and _widget(el) == "j-jiucuo":
        m = re.search(r"sitecode\s*:\s*['\"]?(bm\d{8}|\d{10})", el.get("data-setting"))
        code = m.group(1) if m else None
    return code.strip() if code else None


def _registration(texts: tuple[str, ...], anywhere: re.Pattern, number_ok) -> tuple[re.Match | None, bool]:
    """The first well-formed registration in the texts (spaced text first, then the text with
    whitespace removed, for numbers split across tags), else the first one printed."""
    first = None
    for text in texts:
        for m in anywhere.finditer(text):
            if number_ok(m):
                return m, True
            first = first or m
    return first, False


def registration_value(printed: str) -> str:
    """A registration as one string: the separators footers put between label and number go
    ("蜀ICP备：19007388号", "京公网安备:11010202007633", "粤公网安备号44030402003007" on real
    pages); the format check then judges the number, not the punctuation."""
    value = re.sub(r"[\s:]+", "", printed)
    return re.sub(r"公网安备号(?=\d)", "公网安备", value)


def _icp(texts: tuple[str, ...], problems: dict[str, str]) -> str | None:
    found, ok = _registration(texts, ICP_ANY, lambda m: ICP_OK.fullmatch(registration_value(m.group(0))) is not None)
    if found is None:
        return None
    if not ok:
        problems["icp"] = f"ICP备案编号“{found.group(0)}”格式错误"
    return registration_value(found.group(0))


def _psb(texts: tuple[str, ...], problems: dict[str, str]) -> str | None:
    """公安机关备案: present whenever a registration is printed; malformed unless its number is the
    national 14-digit form (old-style 15081599004-00001 is present but 不规范)."""
    found, ok = _registration(texts, PSB_ANY, lambda m: PSB_OK_NUMBER.fullmatch(m.group(1)) is not None)
    if found is None:
        return None
    if not ok:
        problems["psb"] = f"公安备案号“{found.group(0)}”格式错误（应为省简称+公网安备+14位数字）"
    return registration_value(found.group(0))


def _sponsor(*texts: str) -> str | None:
    for text in texts:
        m = SPONSOR.search(text)
        if m:
            value, end = m.group(1) or m.group(2), m.end()
            while (more := SPONSOR_MORE.match(text, end)) and not re.match(_NOT_SPONSOR_NEXT, text[more.end():]):
                value, end = value + more.group(1) + more.group(2), more.end()
            return value
        m = SPONSOR_AFTER.search(text)
        if m:
            return m.group(1)
    return None


def _contact(foot: str) -> str | None:
    """A telephone or e-mail after a contact label, else a QQ consultation number, else the
    footer's 联系我们 / 联系方式 entry (the contact page it links to)."""
    for label in CONTACT_LABEL.finditer(foot):
        near = foot[label.start():label.start() + 60]
        # The nearer of the two: "客服邮箱：x@y.gov.cn 政务服务热线：12345" gives the e-mail.
        found = min((m for m in (PHONE.search(near), EMAIL.search(near)) if m), key=lambda m: m.start(), default=None)
        if found:
            return found.group(0)
    qq = QQ.search(foot)
    if qq:
        return qq.group(1)
    # An address printed without a label ("冀ICP备… webmaster@hebeitour.com.cn 网站地图").
    email = EMAIL.search(foot)
    if email:
        return email.group(0)
    link = CONTACT_LINK.search(foot)
    return link.group(0) if link else None


def footer_identifiers(page, included=()) -> FooterInfo:
    """The identifiers a visitor sees at the foot of `page`. `included` are the parsed pages of
    the footer includes it pulls in from its own site (iframe, script document.write, SSI —
    ParsedPage.footer_includes), which the crawler fetches once per site."""
    info = FooterInfo(page.url)
    sources = [page, *([page.script_written] if page.script_written is not None else []), *included]
    visible = " ".join(fold(p.visible_text) for p in sources)
    whole = re.sub(r"\s+", "", visible)   # numbers split across spans join up
    foot = " ".join(fold(footer_text(p)) for p in sources)
    for source in sources:
        for el in source.tree.iter():
            if not isinstance(el.tag, str):
                continue
            attrs = _attr_values(el)
            widget = _widget(el)
            if "conac.cn" in attrs or "_ideConac" in attrs or el.get("id") == "_ideConac" or widget == "j-gov":
                info.conac = True
            if (any(mark in attrs for mark in JIUCUO_MARKS) or el.get("id") == "_jiucuo_" or widget == "j-jiucuo"
                    or JIUCUO_LINK.search(el.get("onclick") or "")):
                info.jiucuo = True
                info.site_code_jiucuo = info.site_code_jiucuo or _jiucuo_code(el)
    meta = page.meta("SiteIDCode")
    info.site_code_meta = meta.strip() if meta else None
    m = SITE_CODE_LABEL.search(whole)
    if m:
        info.site_code_footer = m.group(1) or None
        if not info.site_code_footer:
            info.problems["site_code"] = "“网站标识码”后没有编码"
        elif not valid_site_code(info.site_code_footer):
            info.problems["site_code"] = f"网站标识码“{info.site_code_footer}”格式错误（应为10位数字或bm+8位数字）"
    info.icp = _icp((visible, whole), info.problems)
    info.psb = _psb((visible, whole), info.problems)
    info.sponsor = _sponsor(foot, visible[-1500:])
    info.contact = _contact(foot)
    return info


@runs(FOOTER_MISSING, FOOTER_INVALID, on="footer_sample")
def footer_checks(sample: FooterInput, _resources) -> list[Finding]:
    return check_footer(sample.infos, sample.registered_code)


def check_footer(infos: list[FooterInfo], registered_code: str | None = None) -> list[Finding]:
    """Findings for one site from the sampled pages (homepage first)."""
    findings = []
    for item, name in ITEMS.items():
        lacking = [i.url for i in infos if not i.present(item)]
        if lacking:
            findings.append(Finding(FOOTER_MISSING.code, lacking[0], item,
                                    f"{len(lacking)}/{len(infos)} 个抽查页面未发现{name}", {
                                        "item": item, "name": name, "pages": lacking,
                                        "present_on": [i.url for i in infos if i.present(item)]}))
        bad = [(i.url, i.problems[item]) for i in infos if item in i.problems]
        if bad:
            findings.append(Finding(FOOTER_INVALID.code, bad[0][0], item, bad[0][1],
                                    {"item": item, "name": name, "pages": [u for u, _ in bad]}))
    codes = _site_codes(infos, registered_code)
    if len(set(codes.values())) > 1 and "site_code" not in {f.subject for f in findings if f.check == FOOTER_INVALID.code}:
        shown = "，".join(f"{where}为 {code}" for where, code in codes.items())
        findings.append(Finding(FOOTER_INVALID.code, infos[0].url if infos else "", "site_code",
                                f"网站标识码不一致：{shown}", {"item": "site_code", "name": ITEMS["site_code"], "codes": codes}))
    return findings


def _site_codes(infos: list[FooterInfo], registered: str | None) -> dict[str, str]:
    codes: dict[str, str] = {}
    for label, attr in (("页脚", "site_code_footer"), ("SiteIDCode", "site_code_meta"), ("找错链接", "site_code_jiucuo")):
        for info in infos:
            value = getattr(info, attr)
            if value:
                codes.setdefault(label, value)
    if registered:
        codes["登记信息"] = registered
    return codes
