"""The bundled demo sites: three units' websites with realistic pages and planted problems.

Every planted problem is listed in PLANTED (what a scan of the demo must report), so the demo
doubles as an end-to-end test fixture. Dates are relative to DEMO_AS_OF so the demo is
reproducible whatever day it runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook

from govcheck.demo.loopback import Route

DEMO_AS_OF = dt.date(2024, 4, 19)
TEMPLATES = Path(__file__).parent / "templates"

PARAGRAPHS = [
    "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进一步提升政务服务效能，现将有关事项通知如下。",
    "各相关单位要高度重视，明确责任分工，细化工作措施，确保各项任务按时保质完成。",
    "会议强调，要坚持以人民为中心的发展思想，聚焦群众急难愁盼问题，持续推进政务公开标准化规范化建设。",
    "下一步，我们将继续加强政府网站和政务新媒体日常监管，及时更新信息，切实提升政府网站集约化水平。",
    "各苏木镇、街道及区直各部门要结合实际，认真组织实施，并于规定时间前报送工作进展情况。",
    "本次活动共发放宣传资料三千余份，现场解答群众咨询二百余人次，取得了良好的社会效果。",
]


@dataclass
class Item:
    title: str
    date: str
    path: str
    paragraphs: list[str] = field(default_factory=lambda: PARAGRAPHS[:3])
    links: list[tuple[str, str]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


@dataclass
class DemoColumn:
    name: str
    path: str
    items: list[Item] = field(default_factory=list)
    per_page: int = 8
    undated: bool = False   # list rows print no date (only the article pages do)

    def page_path(self, n: int) -> str:
        return self.path if n == 0 else f"{self.path}index_{n}.html"


@dataclass
class DemoSite:
    host: str
    name: str
    unit: str
    group: str
    sponsor: str
    site_code: str
    icp: str
    psb: str
    psb_code: str
    conac_id: str
    phone: str
    email: str
    slogan: str
    charset: str = "utf-8"
    conac: bool = True                 # carries the 党政机关网站标识
    meta_site_code: str | None = None  # SiteIDCode meta, when it differs from the footer
    columns: list[DemoColumn] = field(default_factory=list)
    friend_links: list[tuple[str, str]] = field(default_factory=list)
    home_extra_links: list[tuple[str, str]] = field(default_factory=list)
    hidden_links: list[tuple[str, str]] = field(default_factory=list)
    extra_routes: dict[str, Route] = field(default_factory=dict)
    url: str = ""


def fake_id(first17: str) -> str:
    """An ID number with a valid GB 11643 check digit (made up: region 150602, fictitious people)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


def subsidy_roster() -> bytes:
    """An .xlsx 公示 roster published without masking: what leaks ID numbers in real life."""
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "身份证号码", "联系电话", "补贴面积（亩）", "补贴金额（元）"])
    for i, (name, born) in enumerate([("张某某", "19650312"), ("李某某", "19720705"), ("王某某", "19801120")], start=1):
        ws.append([i, name, fake_id(f"150602{born}{i:02d}1"), f"1394771{i:04d}", 120 + i, 1300.5 * i])
    buf = __import__("io").BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _items(prefix: str, titles: list[str], start: dt.date, step_days: int, year_dir: bool = True) -> list[Item]:
    out = []
    for i, title in enumerate(titles):
        day = start - dt.timedelta(days=i * step_days)
        path = f"{prefix}{day:%Y%m}/t{day:%Y%m%d}_{1000 + i}.html" if year_dir else f"{prefix}{1000 + i}.html"
        out.append(Item(title, day.isoformat(), path, paragraphs=[PARAGRAPHS[(i + k) % len(PARAGRAPHS)] for k in range(3)]))
    return out


ROUND_DAYS = 17   # a second demo run is a scan 17 days later, after the units rectified


def round_as_of(round_no: int) -> dt.date:
    return DEMO_AS_OF + dt.timedelta(days=ROUND_DAYS * (round_no - 1))


def build_sites(round_no: int = 1) -> list[DemoSite]:
    a = DEMO_AS_OF
    ds = DemoSite(
        host="www.ds.gov.cn", name="东胜区人民政府", unit="东胜区人民政府", group="旗区", sponsor="东胜区人民政府办公室",
        site_code="1506020001", icp="蒙ICP备05003216号-1", psb="蒙公网安备 15060202000101号", psb_code="15060202000101",
        conac_id="1506020001", phone="0477-8321234", email="dszfb@ds.gov.cn", slogan="建设美丽幸福东胜",
        columns=[
            DemoColumn("工作动态", "/gzdt/", _items("/gzdt/", [
                "东胜区召开2024年优化营商环境推进会", "区政府常务会议研究部署春季植树造林工作",
                "东胜区开展安全生产大检查", "东胜区举办政务公开业务培训班", "东胜区推进城市更新重点项目建设",
                "东胜区召开防汛抗旱工作部署会", "东胜区开展“学雷锋”志愿服务活动", "东胜区启动第三次土壤普查",
                "东胜区召开一季度经济运行分析会", "东胜区推动数字政府建设提质增效"], a - dt.timedelta(days=2), 4)),
            DemoColumn("通知公告", "/tzgg/", _items("/tzgg/", [
                "关于开展2024年度政府网站自查工作的通知", "关于公布2024年第一批行政许可事项的公告",
                "关于做好清明节期间森林草原防火工作的通知", "关于征求《东胜区城市绿化管理办法》意见的公告"],
                a - dt.timedelta(days=20), 15)),
            DemoColumn("政策文件", "/zcwj/", _items("/zcwj/", [
                "东胜区人民政府关于印发2024年政府工作要点的通知", "东胜区人民政府办公室关于进一步加强政务服务工作的意见",
                "东胜区关于促进民营经济高质量发展的若干措施"], a - dt.timedelta(days=40), 30)),
            # Planted: a 1-year column last updated in 2022, and a blank column.
            DemoColumn("人事信息", "/rsxx/", _items("/rsxx/", [
                "东胜区人民政府关于王某某等同志职务任免的通知", "东胜区2022年事业单位公开招聘工作人员拟聘用人员公示"],
                dt.date(2022, 11, 30), 40)),
            DemoColumn("规划计划", "/ghjh/"),
        ],
        friend_links=[("中国政府网", "http://www.gov.cn:{port}/"), ("内蒙古自治区人民政府", "http://www.nmg.gov.cn:{port}/"),
                      ("鄂尔多斯市人民政府", "http://www.ordos.gov.cn:{port}/")],
        # Planted: an external portal link (外链) and a hidden gambling link (暗链).
        home_extra_links=[("东胜旅游资讯网", "http://www.dslyzx.com:{port}/")],
        hidden_links=[("澳门新葡京娱乐城", "http://www.xpj-casino.com:{port}/")],
    )
    gzdt = ds.columns[0].items
    gzdt[0].links = [("附件：2024年优化营商环境重点任务清单.pdf", "/gzdt/files/2024yshj.pdf"),  # 404 attachment
                     ("附件：政策解读图解", "/gzdt/files/tujie.html")]                            # soft-404
    # Planted: two typos and a wrong political formulation in article text; a roster with
    # unmasked ID and mobile numbers as an attachment.
    gzdt[2].paragraphs = gzdt[2].paragraphs + ["会议要求，各单位要再接再励，按装好消防设施，确保安全生产形势持续稳定。"]
    gzdt[3].paragraphs = gzdt[3].paragraphs + ["培训中，讲解了涉台用语规范，指出不得使用“台湾政府”等错误表述。"]
    gzdt[4].links = [("附件：2024年耕地地力保护补贴发放名单.xlsx", "/gzdt/files/2024btmd.xlsx")]
    gzdt[1].links = [("东胜区统计数据查询系统", "/tjsj/query.jsp")]                                # 500
    ds.extra_routes = {
        "/gzdt/files/tujie.html": Route(200, "<html><head><title>提示信息</title></head><body><div>"
                                        "对不起，您访问的页面不存在或已被删除！<a href='/'>返回首页</a></div></body></html>"),
        "/tjsj/query.jsp": Route(500, "<html><body>java.lang.NullPointerException</body></html>"),
        "/gzdt/files/2024btmd.xlsx": Route(body=subsidy_roster(),
                                           content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    }

    sthj = DemoSite(
        host="sthjj.ordos.gov.cn", name="鄂尔多斯市生态环境局", unit="鄂尔多斯市生态环境局", group="部门",
        sponsor="鄂尔多斯市生态环境局", site_code="1506000034", icp="蒙ICP备05003216号-8",
        psb="蒙公网安备 15060202000233号", psb_code="15060202000233", conac_id="1506000034", phone="0477-8587000",
        email="sthjj@ordos.gov.cn", slogan="守护蓝天碧水净土", charset="gb2312",
        meta_site_code="1506000035",   # Planted: SiteIDCode differs from the footer and the registry
        columns=[
            # Planted: nothing new for a month (首页不更新, 环保要闻 over 2 weeks) and four 6-month
            # columns silent since 2023: five stale 2w/6m columns make a single veto.
            DemoColumn("环保要闻", "/hbyw/", _items("/hbyw/", [
                "市生态环境局召开2024年全市生态环境保护工作会议", "鄂尔多斯市开展春季扬尘污染专项整治",
                "市生态环境局部署重点排污单位自行监测工作", "我市黄河流域生态保护取得阶段性成效",
                "市生态环境局开展“六五”环境日宣传活动筹备工作"], a - dt.timedelta(days=30), 6)),
            DemoColumn("通知公告", "/tzgg/", _items("/tzgg/", [
                "关于2023年第三季度重点排污单位名录的公告", "关于建设项目环境影响评价文件审批的公示"],
                dt.date(2023, 9, 1), 20)),
            DemoColumn("政策文件", "/zcwj/", _items("/zcwj/", [
                "鄂尔多斯市生态环境局关于印发《2023年大气污染防治工作要点》的通知"], dt.date(2023, 6, 15), 30)),
            DemoColumn("政策解读", "/zcjd/", _items("/zcjd/", [
                "《鄂尔多斯市扬尘污染防治条例》解读"], dt.date(2023, 5, 20), 30)),
            DemoColumn("环评公示", "/hpgs/", _items("/hpgs/", [
                "某煤矿建设项目环境影响报告书受理公示", "某化工园区规划环境影响评价第二次公示"],
                dt.date(2023, 8, 10), 12)),
        ],
        friend_links=[("生态环境部", "http://www.mee.gov.cn:{port}/"), ("鄂尔多斯市人民政府", "http://www.ordos.gov.cn:{port}/"),
                      ("原环境保护局网站", "http://www.ordoshbj.gov.cn:{port}/")],   # unresolvable: the old site is gone
    )
    hbyw = sthj.columns[0].items
    hbyw[0].links = [("2023年环境质量公报（原链接）", "/hjzl/2023/gb.html"),     # redirects to the homepage
                     ("排污许可信息公开平台", "/pwxk/index.html"),             # 403 (undetermined)
                     ("环境监测实时数据", "/jcsj/realtime.html")]              # times out
    hbyw[1].images = ["/uploadfiles/202404/yangchen.jpg"]                    # missing image
    # Planted: a penalty decision published with the person's full ID number.
    hbyw[2].paragraphs = hbyw[2].paragraphs + [
        f"当事人：赵某某，公民身份号码：{fake_id('15060219780823301')}，住所：鄂尔多斯市东胜区某小区。"
        "另一当事人身份证号已按要求脱敏处理：150602********1234，联系电话：139****5678。"]
    sthj.extra_routes = {
        "/hjzl/2023/gb.html": Route(redirect="/"),
        "/pwxk/index.html": Route(403, "<html><body>403 Forbidden</body></html>"),
        "/jcsj/realtime.html": Route(200, "<html><body>实时数据</body></html>", delay=6.0),
    }

    kbs = DemoSite(
        host="www.kbs.gov.cn", name="康巴什区人民政府", unit="康巴什区人民政府", group="旗区",
        sponsor="康巴什区人民政府办公室", site_code="1506030001", icp="蒙ICP备0500321号-12",   # Planted: 7 digits
        psb="蒙公网安备 15060302000045号", psb_code="15060302000045", conac_id="1506030001", phone="0477-8597001",
        email="kbszf@kbs.gov.cn", slogan="城市会客厅", conac=False,   # Planted: no 党政机关网站标识
        columns=[
            DemoColumn("康巴什要闻", "/kbsyw/", _items("/kbsyw/", [
                "康巴什区召开全区经济工作会议", "康巴什区举办2024年春季招聘会", "康巴什区推进“一网通办”改革",
                "康巴什区开展城市精细化管理提升行动", "康巴什区召开民生实事项目推进会", "康巴什区创建全国文明城区工作推进会召开",
                "康巴什区部署2024年度重点工作", "康巴什区开展消防安全培训", "康巴什区召开教育工作会议",
                "康巴什区举办文化惠民演出", "康巴什区推进智慧社区建设", "康巴什区开展食品安全检查"],
                a - dt.timedelta(days=1), 3)),
            DemoColumn("通知公告", "/tzgg/", _items("/tzgg/", [
                "关于2024年度公开招聘社区工作者的公告", "关于开展城镇燃气安全排查整治的通知"],
                a - dt.timedelta(days=10), 25)),
            # Rows without dates (a photo wall): the newest items' article pages give the date.
            DemoColumn("图片新闻", "/tpxw/", _items("/tpxw/", [
                "康巴什区举办春季植树活动", "康巴什区城市夜景亮化工程完工"], a - dt.timedelta(days=4), 6), undated=True),
        ],
        friend_links=[("中国政府网", "http://www.gov.cn:{port}/"), ("鄂尔多斯市人民政府", "http://www.ordos.gov.cn:{port}/")],
    )
    kbs.columns[0].items[2].links = [("政务服务网办事指南", "/zwfw/guide.html")]  # 429 with Retry-After
    # Planted: injected gambling spam in an article (a defaced page).
    kbs.columns[0].items[5].paragraphs = kbs.columns[0].items[5].paragraphs + ["最新六合彩开奖结果请访问官方网站查询。"]
    kbs.extra_routes = {"/zwfw/guide.html": Route(429, "Too Many Requests", headers={"Retry-After": "1"})}
    if round_no > 1:
        _rectify(ds, sthj, kbs, round_as_of(round_no))
    return [ds, sthj, kbs]


def _rectify(ds: DemoSite, sthj: DemoSite, kbs: DemoSite, today: dt.date) -> None:
    """What the units did after the first 通报 (a second demo run scans this)."""
    # 东胜区: restored the missing attachment, corrected the typos, kept 工作动态 fresh — and
    # published a new article with a broken link.
    ds.extra_routes["/gzdt/files/2024yshj.pdf"] = Route(body=b"%PDF-1.4 demo", content_type="application/pdf")
    gzdt = ds.columns[0].items
    gzdt[2].paragraphs = gzdt[2].paragraphs[:-1] + ["会议要求，各单位要再接再厉，安装好消防设施，确保安全生产形势持续稳定。"]
    fresh = Item("东胜区召开整改工作推进会", today.isoformat(), f"/gzdt/{today:%Y%m}/t{today:%Y%m%d}_2001.html",
                 links=[("附件：整改台账", "/gzdt/files/zgtz.docx")])
    ds.columns[0].items = [fresh, *gzdt]
    # 生态环境局: homepage and 环保要闻 updated, SiteIDCode corrected.
    sthj.meta_site_code = None
    news = Item("市生态环境局通报问题整改情况", today.isoformat(), f"/hbyw/{today:%Y%m}/t{today:%Y%m%d}_2001.html")
    sthj.columns[0].items = [news, *sthj.columns[0].items]
    # 康巴什区: added the 党政机关网站标识.
    kbs.conac = True
    kbs.columns[0].items = [Item("康巴什区部署问题整改工作", today.isoformat(), f"/kbsyw/{today:%Y%m}/t{today:%Y%m%d}_2001.html"),
                            *kbs.columns[0].items]


# What a demo scan must report: (unit, check, subject: a path or URL for links, the column
# name for columns, None for site-level checks). The e2e test and the
# demo's own summary are read against this.
PLANTED = [
    ("东胜区人民政府", "link_broken", "/gzdt/files/2024yshj.pdf"),
    ("东胜区人民政府", "link_broken", "/gzdt/files/tujie.html"),
    ("东胜区人民政府", "link_broken", "/tjsj/query.jsp"),
    ("东胜区人民政府", "link_external", "http://www.dslyzx.com:{port}/"),
    ("东胜区人民政府", "link_external", "http://www.xpj-casino.com:{port}/"),
    ("东胜区人民政府", "link_hidden", "http://www.xpj-casino.com:{port}/"),
    ("鄂尔多斯市生态环境局", "link_broken", "/hjzl/2023/gb.html"),
    ("鄂尔多斯市生态环境局", "link_undetermined", "/pwxk/index.html"),
    ("鄂尔多斯市生态环境局", "link_broken", "/jcsj/realtime.html"),
    ("鄂尔多斯市生态环境局", "link_broken", "/uploadfiles/202404/yangchen.jpg"),
    ("鄂尔多斯市生态环境局", "link_broken", "http://www.ordoshbj.gov.cn:{port}/"),
    ("康巴什区人民政府", "link_undetermined", "/zwfw/guide.html"),
    ("东胜区人民政府", "column_stale", "人事信息"),
    ("东胜区人民政府", "column_blank", "规划计划"),
    ("鄂尔多斯市生态环境局", "home_not_updated", None),
    ("鄂尔多斯市生态环境局", "column_stale", "环保要闻"),
    ("鄂尔多斯市生态环境局", "column_stale", "通知公告"),
    ("鄂尔多斯市生态环境局", "column_stale", "政策文件"),
    ("鄂尔多斯市生态环境局", "column_stale", "政策解读"),
    ("鄂尔多斯市生态环境局", "column_stale", "环评公示"),
    ("纳林陶亥镇人民政府", "site_unreachable", None),   # UNREACHABLE_SITE
    ("东胜区人民政府", "word_typo", "再接再励"),
    ("东胜区人民政府", "word_typo", "按装"),
    ("东胜区人民政府", "word_serious", "台湾政府"),
    ("东胜区人民政府", "privacy_leak", "id_card"),        # the .xlsx roster
    ("东胜区人民政府", "privacy_leak", "mobile"),
    ("鄂尔多斯市生态环境局", "privacy_leak", "id_card"),  # the penalty decision
    ("鄂尔多斯市生态环境局", "footer_invalid", "site_code"),
    ("康巴什区人民政府", "footer_missing", "conac"),
    ("康巴什区人民政府", "footer_invalid", "icp"),
    ("康巴什区人民政府", "word_sensitive", "六合彩"),
    ("东胜区人民政府", "word_typo", "迫不急待"),           # in a WeChat post
    ("鄂尔多斯市生态环境局", "account_stale", "鄂尔多斯生态环境"),
    ("康巴什区人民政府", "account_near_stale", "康巴什发布"),
    ("纳林陶亥镇人民政府", "account_unreachable", "纳林陶亥发布"),
    # Loopback serves plain http: every reachable demo homepage is 未启用HTTPS (review).
    ("东胜区人民政府", "site_https", None),
    ("鄂尔多斯市生态环境局", "site_https", None),
    ("康巴什区人民政府", "site_https", None),
]

# Links to other sites carry the loopback port: the demo serves every host on one port.
# Hosts outside the registry's sites that the demo still serves (friend links, the external
# portal, the gambling site of the hidden link) — everything else fails to resolve.
NATIONAL = {
    "www.gov.cn": "中国政府网", "www.nmg.gov.cn": "内蒙古自治区人民政府", "www.ordos.gov.cn": "鄂尔多斯市人民政府",
    "www.mee.gov.cn": "生态环境部", "www.dslyzx.com": "东胜旅游资讯网", "www.xpj-casino.com": "娱乐城",
    "bszs.conac.cn": "党政机关网站标识", "zfwzgl.www.gov.cn": "我为政府网站找错", "beian.miit.gov.cn": "ICP备案",
    "www.beian.gov.cn": "公安备案",
}
UNREACHABLE_SITE = ("纳林陶亥镇人民政府", "镇街", "www.nlth.gov.cn")


def render_routes(sites: list[DemoSite], port: int, round_no: int = 1) -> dict[str, dict[str, Route]]:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    hosts: dict[str, dict[str, Route]] = {}
    for site in sites:
        site.url = f"http://{site.host}:{port}/"
        for attr in ("home_extra_links", "hidden_links", "friend_links"):
            setattr(site, attr, [(t, u.format(port=port)) for t, u in getattr(site, attr)])
        ctype = f"text/html; charset={site.charset}"
        enc = "gb18030" if site.charset.lower() in ("gb2312", "gbk", "gb18030") else site.charset

        def page(template: str, site=site, ctype=ctype, enc=enc, **ctx) -> Route:
            return Route(body=env.get_template(template).render(site=site, charset=site.charset, port=port, **ctx),
                         content_type=ctype, encoding=enc)

        routes = {"/": page("home.html")}
        for col in site.columns:
            pages = max(1, -(-len(col.items) // col.per_page))
            for n in range(pages):
                routes[col.page_path(n)] = page("list.html", col=col, items=col.items[n * col.per_page:(n + 1) * col.per_page],
                                                page=n, pages=pages)
            for i, item in enumerate(col.items):
                routes[item.path] = page("article.html", col=col, item=item, loop_index=i)
        for static in ("/images/style.css", "/js/jquery.min.js", "/images/logo.png", "/images/ga.png", "/images/red.png",
                       "/images/jiucuo.png", "/images/banner.jpg"):
            kind = {"css": "text/css", "js": "application/javascript"}.get(static.rsplit(".", 1)[1], "image/png")
            routes[static] = Route(body=b"/* demo asset */" if kind != "image/png" else b"\x89PNG\r\n\x1a\n", content_type=kind)
        for path in ("/about/", "/sitemap/", "/contact/", "/search/"):
            routes[path] = page("list.html", col=DemoColumn("网站信息", path), items=[], page=0, pages=1)
        routes.update(site.extra_routes)
        hosts[site.host] = routes
    for host, title in NATIONAL.items():
        hosts[host] = {"*": Route(body=f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>")}
    hosts[FEED_HOST] = feed_routes(round_no)
    return hosts


FEED_HOST = "feeds.example"
# (unit, platform, account name, feed path): one account in each state the checks know.
ACCOUNTS = [
    ("东胜区人民政府", "wechat", "东胜发布", "/wechat/ds.xml"),             # fresh; a typo in a post
    ("鄂尔多斯市生态环境局", "weibo", "鄂尔多斯生态环境", "/weibo/sthj.atom"),  # 20 days: stale (veto)
    ("康巴什区人民政府", "douyin", "康巴什发布", "/douyin/kbs.json"),        # 11 days: near-stale
    ("纳林陶亥镇人民政府", "toutiao", "纳林陶亥发布", "/toutiao/nlth.xml"),   # the bridge answers 500
]


def feed_routes(round_no: int = 1) -> dict[str, Route]:
    """RSS 2.0 with zoned RFC 822 dates, Atom with UTC times, JSON Feed with naive Beijing times.
    In later rounds the stale and near-stale accounts posted again on the new as-of day."""
    a = round_as_of(round_no)
    day = lambda n, h=10: dt.datetime.combine(a - dt.timedelta(days=n), dt.time(h))  # noqa: E731
    rss_items = "".join(f"""<item><title>{t}</title><link>https://mp.weixin.qq.com/s/ds{n}</link><guid>ds-{n}</guid>
      <pubDate>{day(n):%a, %d %b %Y %H:%M:%S} +0800</pubDate><description><![CDATA[<p>{body}</p>]]></description></item>"""
                        for n, t, body in [(1, "东胜区召开2024年优化营商环境推进会", "会议对下一阶段工作作出部署。"),
                                           (3, "东胜区开展春季植树活动", "广大干部群众迫不急待地投入到植树活动中。"),
                                           (6, "东胜区举办招聘会", "本次招聘会共提供岗位1200余个。")])
    rss = f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>东胜发布</title>
      <link>https://mp.weixin.qq.com/</link><description>东胜区人民政府官方微信</description>{rss_items}</channel></rss>"""
    entries = "".join(f"""<entry><title>{t}</title><id>tag:weibo.com,2024:sthj{n}</id>
      <link href="https://weibo.com/sthj/{n}"/><updated>{(day(n) - dt.timedelta(hours=8)):%Y-%m-%dT%H:%M:%S}Z</updated>
      <content type="html">&lt;p&gt;{t}&lt;/p&gt;</content></entry>""" for n, t in ([(0, "问题整改情况通报")] if round_no > 1 else [])
                      + [(20, "我市开展春季扬尘污染专项整治"), (27, "市生态环境局召开全市生态环境保护工作会议")])
    atom = f"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>鄂尔多斯生态环境</title>
      <id>tag:weibo.com,2024:sthj</id><updated>{day(20):%Y-%m-%dT%H:%M:%S}Z</updated>{entries}</feed>"""
    json_feed = {"version": "https://jsonfeed.org/version/1.1", "title": "康巴什发布", "items": [
        {"id": f"kbs-{n}", "url": f"https://www.douyin.com/video/kbs{n}", "title": t, "content_text": t,
         "date_published": f"{day(n):%Y-%m-%dT%H:%M:%S}"} for n, t in ([(1, "整改进行时")] if round_no > 1 else [])
        + [(11, "康巴什城市夜景"), (15, "康巴什区春季招聘会")]]}
    import json

    return {"/wechat/ds.xml": Route(body=rss, content_type="application/rss+xml; charset=utf-8"),
            "/weibo/sthj.atom": Route(body=atom, content_type="application/atom+xml; charset=utf-8"),
            "/douyin/kbs.json": Route(body=json.dumps(json_feed, ensure_ascii=False), content_type="application/feed+json"),
            "/toutiao/nlth.xml": Route(503, "RSSHub: upstream timeout", content_type="text/plain")}


def registry_yaml(sites: list[DemoSite], port: int, closed_port: int, round_no: int = 1) -> str:
    resolve = {s.host: "127.0.0.1" for s in sites} | dict.fromkeys(NATIONAL, "127.0.0.1")
    resolve[UNREACHABLE_SITE[2]] = "127.0.0.1"
    resolve[FEED_HOST] = "127.0.0.1"
    lines = [f"# govcheck demo registry (loopback port {port}, round {round_no})", f"as_of: {round_as_of(round_no).isoformat()}",
             "settings:",
             "  resolve_only: true     # hosts not listed below fail as DNS errors; nothing leaves loopback",
             "  timeout: 3             # the demo's slow page need not hold the demo for 15 s", "  retries: 1",
             "  probe_interval: 0.5    # homepage probes close together: the demo is short",
             "resolve:"]
    lines += [f"  {h}: {ip}" for h, ip in resolve.items()]
    # The town is ranked with the 旗区 it belongs to, as the demo's 通报 does (scoring group map).
    lines += ["group_map:", f"  {UNREACHABLE_SITE[1]}: 旗区"]
    lines.append("units:")
    for s in sites:
        lines += [f"  - name: {s.unit}", f"    group: {s.group}", "    sites:", f"      - url: http://{s.host}:{port}/",
                  f"        name: {s.name}", f'        site_code: "{s.site_code}"', "        allow_domains: [ordos.gov.cn]"]
        lines += _accounts_yaml(s.unit, port)
    name, group, host = UNREACHABLE_SITE
    lines += [f"  - name: {name}", f"    group: {group}", "    sites:", f"      - url: http://{host}:{closed_port}/"]
    lines += _accounts_yaml(name, port)
    return "\n".join(lines) + "\n"


def _accounts_yaml(unit: str, port: int) -> list[str]:
    mine = [a for a in ACCOUNTS if a[0] == unit]
    if not mine:
        return []
    return ["    accounts:"] + [f"      - {{platform: {p}, name: {n}, feed: 'http://{FEED_HOST}:{port}{path}'}}"
                               for _u, p, n, path in mine]
