"""Link checks (DESIGN §2): 链接不可用, 待人工确认, 外链, 暗链.

Inputs are plain data: every link occurrence found on the site's crawled pages and the
result of fetching each unique target once in the scan. One finding per target per site;
`detail.referrers` lists every page that carries it and `detail.on_homepage` keeps homepage
links apart, because assessment rubrics count 首页 and 其他页面 不可用链接 separately.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from checks.inputs import SiteCrawlInput
from checks.registry import register, runs
from govcheck.findings import Finding
from govcheck.urls import (
    domain_matches,
    host_of,
    is_external,
    is_gov_host,
    is_homepage_path,
    netloc_of,
    same_site,
)

SOURCE = "国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》"

LINK_BROKEN = register(
    "link_broken", "链接不可用", "deduct",
    "页面上的链接、图片、脚本、样式或附件无法访问：HTTP 4xx/5xx、域名无法解析、连接被拒绝、"
    "超时（15秒）、重定向过多、软404（返回200但提示页面不存在，或深层链接被跳转到首页）。",
    SOURCE + " 不可用链接", key_on_url=False, family="links",
    inputs=("site_crawl",), notice="links", shown_on_page=True)
LINK_UNDETERMINED = register(
    "link_undetermined", "链接待人工确认", "review",
    "目标返回 401/403/429 或 WAF/人机验证页面：不计为不可用链接，列出供人工复核。",
    "govcheck 复核规则（避免误报）", key_on_url=False, family="links",
    inputs=("site_crawl",), shown_on_page=True)   # for review only: not a problem the 通报 counts
LINK_EXTERNAL = register(
    "link_external", "外链", "review",
    "链接指向 .gov.cn/.政务 以外、且不在本站允许域名清单中的网站，需核实是否经审核。",
    SOURCE + " 外链管理", key_on_url=False, family="links",
    inputs=("site_crawl",), notice="links", shown_on_page=True)
LINK_HIDDEN = register(
    "link_hidden", "暗链", "veto",
    "以 display:none、visibility:hidden、零尺寸、移出屏幕等方式隐藏、指向站外非政府网站的链接"
    "（暗链，单项否决候选，需人工确认）。",
    SOURCE + " 安全防护", key_on_url=False, family="links",
    inputs=("site_crawl",), notice="links", shown_on_page=True)

# Hosts of the national services every government site is required to embed (党政机关网站标识,
# 我为政府网站找错). Sites often hide their badge/jiucuo markup; that is a footer question, not 暗链.
SERVICE_DOMAINS = ("conac.cn", "zfwzgl.www.gov.cn", "kaipuyun.cn", "121.43.68.40")
# Government CMS vendors whose templates carry a hidden "Produced By" credit link (seen on
# real Hanweb 大汉版通 pages): a vendor credit, not a planted 暗链.
CMS_VENDOR_DOMAINS = ("hanweb.com", "trs.com.cn", "dcits.com", "ucap.com.cn")

_UNDETERMINED_STATUS = {401: "HTTP 401 需要登录", 403: "HTTP 403 禁止访问", 429: "HTTP 429 请求过多"}
_SOFT404_TITLE = re.compile(
    r"(^|\D)404(\D|$)|not\s*found|页面不存在|页面未找到|找不到(页面|网页)|无法找到|页面已(被)?删除|"
    r"(信息|文章|内容|栏目)(不存在|已删除)|出错了|错误页面|访问出错", re.I)
_SOFT404_TEXT = re.compile(
    r"(访问|请求|查找|浏览)的(页面|网页|内容|信息|文章|资源)(不存在|已(被)?删除|找不到|未找到|已下线|已过期)|"
    r"页面不存在|页面未找到|网页不存在|(信息|文章|内容)不存在|404\s*(not\s*found|错误|error|页面)|"
    r"file\s+not\s+found|page\s+not\s+found", re.I)
_ERROR_BODY = re.compile(r"error|exception|错误|异常|失败|not\s*found", re.I)
_CHALLENGE = re.compile(
    r"安全验证|人机验证|访问验证|滑动验证|请(开启|启用)\s*javascript|浏览器安全检查|checking\s+your\s+browser|"
    r"web\s*应用防火墙|\bWAF\b|访问(被|已被)(拦截|阻断|拒绝)|请求(被|已被)拦截|安全狗|云锁|创宇盾|知道创宇|加速乐|"
    r"__jsl_clearance|cf-chl|just\s+a\s+moment", re.I)
# Bodies smaller than this with error wording, and HTML bodies with no text at all, are
# error pages that forgot their status code ("a tiny error body").
TINY_BODY = 512


@dataclass(frozen=True)
class TargetResult:
    """What fetching a URL returned (GET for pages, HEAD falling back to GET for assets)."""

    url: str
    status: int | None = None
    error: str | None = None          # dns | refused | timeout | too_many_redirects | …
    final_url: str | None = None
    redirects: tuple[str, ...] = ()
    content_type: str | None = None
    title: str | None = None
    snippet: str | None = None        # start of the visible text (GET of HTML only)
    size: int | None = None
    method: str = "GET"


@dataclass(frozen=True)
class LinkOccurrence:
    source_url: str
    target_url: str
    tag: str
    text: str = ""
    hidden: str | None = None


@dataclass
class Verdict:
    kind: str    # broken | undetermined
    reason: str  # short machine-readable reason (404, dns, soft404, redirect_home, …)
    message: str  # 中文 evidence


@dataclass
class SiteLinks:
    site_url: str
    allow_domains: tuple[str, ...] = ()
    homepage: str | None = None
    occurrences: list[LinkOccurrence] = field(default_factory=list)


_ERROR_TEXT = {
    "dns": "域名无法解析", "refused": "连接被拒绝", "timeout": "访问超时", "too_many_redirects": "重定向次数过多",
    "connection_lost": "连接中断", "tls": "TLS/SSL 握手失败", "invalid_url": "地址格式错误",
}


def network_error_zh(error: str | None, timeout: float | None = None) -> str:
    """A failed fetch as units read it: "连接被拒绝", "域名无法解析", "超时（15秒）", "服务器返回错误
    （HTTP 500）"… The technical text ("refused: Connection was refused by other side: 111…")
    belongs in the finding's detail, not in a Chinese report."""
    if not error:
        return "无法访问"
    kind, _, rest = error.partition(":")
    kind = kind.strip()
    if kind == "timeout":
        return f"超时（{timeout:g}秒）" if timeout else _ERROR_TEXT["timeout"]
    if kind in _ERROR_TEXT:
        return _ERROR_TEXT[kind]
    m = re.match(r"HTTP (\d{3})", error)
    if m:
        code = int(m.group(1))
        return f"服务器返回错误（HTTP {code}）" if code >= 500 else f"页面不存在或拒绝访问（HTTP {code}）"
    if error.startswith("feed "):
        return "订阅源内容无法识别为 RSS/Atom/JSON Feed"
    if re.fullmatch(r"[\x00-\x7f]*", error):   # an English message we have no words for
        return "无法访问（网络错误）"
    return error


def is_challenge_page(title: str | None, text: str | None) -> bool:
    return bool(_CHALLENGE.search(f"{title or ''} {text or ''}"))


def is_soft_404(title: str | None, text: str | None, size: int | None, content_type: str | None = "text/html") -> str | None:
    """Why a 200 page is really an error page, or None."""
    title, text = title or "", text or ""
    if "html" not in (content_type or "text/html"):
        return None
    if _SOFT404_TITLE.search(title):
        return f"页面标题为“{title[:40]}”"
    if len(text) < 1000 and _SOFT404_TEXT.search(text):
        return f"页面内容提示“{_SOFT404_TEXT.search(text).group(0)}”"
    if size is not None and size < TINY_BODY and _ERROR_BODY.search(f"{title} {text}"):
        return f"仅 {size} 字节的错误提示页"
    if size is not None and size < TINY_BODY and not text.strip() and not title.strip():
        return f"空白页面（{size} 字节）"
    return None


def classify(result: TargetResult) -> Verdict | None:
    """Broken, undetermined (never counted as broken), or None for a working target."""
    if result.error:
        if result.error == "challenge":
            return Verdict("undetermined", "challenge", "WAF/人机验证页面")
        msg = _ERROR_TEXT.get(result.error, result.error)
        if result.error == "invalid_url" and result.snippet:
            msg = f"{msg}（{result.snippet[:120]}）"
        return Verdict("broken", result.error, msg)
    status = result.status or 0
    if is_challenge_page(result.title, result.snippet) and (status >= 400 or status == 200):
        return Verdict("undetermined", "challenge", f"HTTP {status} WAF/人机验证页面")
    if status in _UNDETERMINED_STATUS:
        return Verdict("undetermined", str(status), _UNDETERMINED_STATUS[status])
    if status >= 400:
        return Verdict("broken", str(status), f"HTTP {status}")
    if result.redirects and result.final_url:
        first = result.redirects[0]
        if (not is_homepage_path(first) and is_homepage_path(result.final_url)
                and host_of(first) == host_of(result.final_url)):
            return Verdict("broken", "redirect_home", f"深层链接被跳转到首页 {result.final_url}")
    if status == 200 and result.method == "GET":
        why = is_soft_404(result.title, result.snippet, result.size, result.content_type)
        if why:
            return Verdict("broken", "soft404", f"软404：HTTP 200 但{why}")
    return None


def homepage_not_judged(site_url: str, why: str) -> Finding:
    """A homepage behind a login, rate limit or WAF challenge: listed for review, never a failure
    (and none of the site's page checks can be judged in this scan)."""
    return Finding(LINK_UNDETERMINED.code, site_url, site_url,
                   f"首页返回 {why}，本次无法判定（不计为站点无法访问，请人工复核）",
                   {"reason": "homepage_not_judged", "why": why, "on_homepage": True, "referrers": [site_url]})


def _is_service_link(url: str) -> bool:
    host = host_of(url)
    return any(domain_matches(host, d) for d in SERVICE_DOMAINS)


@runs(LINK_BROKEN, LINK_UNDETERMINED, LINK_EXTERNAL, LINK_HIDDEN, on="site_crawl")
def link_checks(crawl: SiteCrawlInput, _resources) -> list[Finding]:
    return check_links(crawl.links, crawl.results)


def check_links(site: SiteLinks, results: dict[str, TargetResult]) -> list[Finding]:
    """All link findings of one site from its link occurrences and the scan's fetch results."""
    by_target: dict[str, list[LinkOccurrence]] = defaultdict(list)
    for occ in site.occurrences:
        by_target[occ.target_url].append(occ)
    homepage = site.homepage or site.site_url
    findings: list[Finding] = []
    for target, occs in by_target.items():
        referrers = _unique(o.source_url for o in occs)
        first = occs[0]
        base_detail = {
            "referrers": referrers[:100],
            "referrer_count": len(referrers),
            "on_homepage": any(r in (homepage, site.site_url) for r in referrers),
            "tags": _unique(o.tag for o in occs),
        }
        anchor = next((o.text for o in occs if o.text), "")
        context = f"「{anchor[:40]}」" if anchor else f"<{first.tag}>"
        result = results.get(target)
        if result is not None:
            verdict = classify(result)
            if verdict is not None:
                spec = LINK_BROKEN if verdict.kind == "broken" else LINK_UNDETERMINED
                detail = dict(base_detail, reason=verdict.reason, status=result.status, error=result.error,
                              method=result.method)
                if result.redirects:
                    detail["redirects"] = list(result.redirects) + [result.final_url]
                findings.append(Finding(spec.code, first.source_url, target,
                                        f"{verdict.message} ← {context} 见于 {first.source_url}", detail))
        external = is_external(target, site.site_url, site.allow_domains) and not _is_service_link(target)
        if external and any(o.tag in ("a", "iframe", "frame", "attachment") for o in occs):
            findings.append(Finding(LINK_EXTERNAL.code, first.source_url, target,
                                    f"外部链接 {host_of(target)} ← {context} 见于 {first.source_url}",
                                    dict(base_detail, host=host_of(target))))
        # 暗链 are planted anchors to non-government sites. Hidden drop-down menus linking
        # other government sites (display:none until hover) and hidden images are not.
        hidden = [o for o in occs if o.hidden and o.tag in ("a", "iframe", "frame")]
        if hidden and not same_site(target, site.site_url) and netloc_of(target) != netloc_of(homepage) \
                and not is_gov_host(host_of(target)) and not _is_service_link(target) \
                and not any(domain_matches(host_of(target), d) for d in CMS_VENDOR_DOMAINS) \
                and not any(domain_matches(host_of(target), d) for d in site.allow_domains):
            h = hidden[0]
            findings.append(Finding(LINK_HIDDEN.code, h.source_url, target,
                                    f"隐藏链接（{h.hidden}）{('「' + h.text[:40] + '」') if h.text else ''} → {target}",
                                    dict(base_detail, hidden_by=h.hidden, hidden_referrers=_unique(o.source_url for o in hidden))))
    return findings


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
