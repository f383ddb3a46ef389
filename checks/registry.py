"""The check catalogue: every check code is declared here once — code, 中文 name, family,
default severity, the rule with its source, the input it needs — and every runner that
produces it.

Modelled on ruff's rule registry: a family module registers its checks at import time
(`register`) and marks the pure function that produces them with `@runs(...)`. The pipeline
never names a check: it hands each kind of input (INPUTS) to `run_checks`, which calls every
runner on that input whose resources are there, and records which codes really ran — the
coverage that decides which open findings a scan may mark fixed. Reports, exports, summaries,
the 通报 and the README's table read names, severities, families and sections from `CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govcheck.findings import SEVERITIES, Finding

# What a check reads. The pipeline builds one input object of the kind per site (per page,
# per account…) from what the crawl really fetched; a kind that is missing means its checks
# did not run.
INPUTS = {
    "probes": "首页可用性探测（本次巡检与调度器的探测，按监测窗口）",
    "site_crawl": "全站抓取的链接及每个目标的访问结果",
    "homepage": "解析后的首页",
    "columns": "栏目页面（登记或从首页导航发现）",
    "page": "每个抓取页面的可见文本",
    "attachment": "可读附件（.docx/.xlsx/.pdf）的文本",
    "footer_sample": "首页及最浅层页面的页脚",
    "feed": "新媒体账号订阅源的获取结果",
    "feed_content": "成功获取并可读的订阅源（账号最新内容，含以往巡检保存的）",
    "post": "新媒体账号每条内容的文本",
}
# Resources a runner needs besides its input; absent (None) means the runner is skipped.
RESOURCES = {"wordlists": "错敏词词表（自动机）"}
FAMILIES = {
    "freshness": "可用性与更新", "links": "链接", "words": "错敏词", "privacy": "隐私保护", "footer": "网站标识",
    "accounts": "政务新媒体", "security": "安全",
}
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "checks"
# The fields a finding's `detail` may carry, as a reader of the 问题清单 names them (the 详情
# column of the XLSX and HTML lists). A check that adds a field declares its label here;
# tests/test_catalogue.py fails when a fixture's finding carries one that is not.
DETAILS = {
    # links
    "reason": "原因", "status": "状态码", "error": "错误", "referrers": "引用页面", "referrer_count": "引用页面数",
    "on_homepage": "首页链接", "tag": "类型", "tags": "链接类型", "anchor": "链接文字", "final_url": "最终地址",
    "redirects": "跳转", "host": "站外域名", "hidden": "隐藏方式", "hidden_by": "隐藏方式",
    "hidden_referrers": "隐藏链接所在页面", "why": "无法判定原因",
    # freshness
    "rule": "更新规则", "rule_source": "规则来源", "newest": "最新日期", "newest_title": "最新标题",
    "newest_source": "日期来源", "source": "日期来源", "age_days": "距今天数", "stale_days": "期限天数",
    "max_age_days": "期限天数", "warn_days": "预警天数", "days_left": "距单否天数", "as_of": "判定日期",
    "items": "条目数", "blank_count": "空白栏目数", "stale_count_2w_6m": "未按期更新栏目数（两周至半年）",
    "stale_count_1y": "一年未更新栏目数", "veto": "单项否决",
    "probes": "探测次数", "failures": "失败次数", "ratio": "失败比例", "window_days": "统计天数",
    "not_judged": "未判定探测次数", "veto_ratio": "单否比例", "warn_ratio": "预警比例", "recent_failures": "最近失败",
    "homepage_error": "首页错误（技术信息）", "at": "时间",
    # words and privacy
    "correction": "正确写法", "category": "词表类别", "method": "发现方式", "confidence": "置信度",
    "list": "词表", "term": "规范名称", "substitution": "替换", "context": "上下文", "contexts": "上下文",
    "serious": "严重", "kind": "类型", "name": "类型", "count": "数量", "samples": "示例",
    # footer
    "item": "标识项", "pages": "涉及页面", "present_on": "具备该项的页面", "codes": "标识码", "expected": "应为",
    "found": "实际",
    # added by the pipeline
    "reopened": "复现", "partial": "部分巡检", "skipped_bad_dates": "跳过的错误日期条数",
}


@dataclass(frozen=True)
class CheckSpec:
    code: str
    name: str          # 中文 name as used in 问题清单 and 通报
    severity: str      # veto | deduct | warn | review (a finding may raise or lower its own)
    rule: str          # the rule, stated so a unit can check it by hand
    source: str        # where the rule comes from (国办秘函〔2019〕19号 …)
    key_on_url: bool   # whether the page URL is part of the finding's identity (DESIGN §4)
    family: str
    inputs: tuple[str, ...]             # the kinds of input it runs on (INPUTS)
    requires: tuple[str, ...] = ()      # resources it cannot run without (RESOURCES)
    notice: str | None = None           # the 通报 section it is counted in (NOTICE_SECTIONS)
    # Whether a screenshot of the finding's page can show the problem (the evidence screenshots
    # take these, gravest first, in catalogue order within a severity).
    shown_on_page: bool = False

    @property
    def fixtures(self) -> Path:
        """tests/checks/<code>/: cases that must fire and must not fire."""
        return FIXTURES / self.code


@dataclass(frozen=True)
class Runner:
    """A pure function that produces some checks' findings from one kind of input."""

    fn: Callable[[Any, dict[str, Any]], list[Finding]]
    on: str
    codes: tuple[str, ...]
    requires: tuple[str, ...] = ()


CHECKS: dict[str, CheckSpec] = {}
RUNNERS: dict[str, list[Runner]] = {kind: [] for kind in INPUTS}

# The 通报's problem sections, in the order the seed notices use, with the kind of target
# (site | account) they count.
NOTICE_SECTIONS = {
    "unreachable_stale": ("网站无法访问及信息不更新问题", "site"),
    "links": ("错链、外链、暗链问题", "site"),
    "words": ("错别字及严重表述问题", "site"),
    "privacy": ("个人隐私及身份信息泄露问题", "site"),
    "footer": ("网站标识不规范问题", "site"),
    "security": ("网站安全防护问题", "site"),
    "accounts": ("政务新媒体更新不及时、临近单否及错敏词问题", "account"),
}


def register(code: str, name: str, severity: str, rule: str, source: str, *, key_on_url: bool, family: str,
             inputs: tuple[str, ...], requires: tuple[str, ...] = (), notice: str | None = None,
             shown_on_page: bool = False) -> CheckSpec:
    if code in CHECKS:
        raise ValueError(f"check {code!r} registered twice")
    if severity not in SEVERITIES:
        raise ValueError(f"check {code!r}: unknown severity {severity!r}")
    if family not in FAMILIES:
        raise ValueError(f"check {code!r}: unknown family {family!r}")
    for kind in inputs:
        if kind not in INPUTS:
            raise ValueError(f"check {code!r}: unknown input {kind!r} (inputs: {', '.join(INPUTS)})")
    for res in requires:
        if res not in RESOURCES:
            raise ValueError(f"check {code!r}: unknown resource {res!r}")
    if notice is not None and notice not in NOTICE_SECTIONS:
        raise ValueError(f"check {code!r}: unknown 通报 section {notice!r}")
    spec = CheckSpec(code, name, severity, rule, source, key_on_url, family, tuple(inputs), tuple(requires), notice,
                     shown_on_page)
    CHECKS[code] = spec
    return spec


def runs(*specs: CheckSpec, on: str):
    """Mark `fn(input, resources) -> findings` as the producer of `specs` on input `on`."""
    for spec in specs:
        if on not in spec.inputs:
            raise ValueError(f"runner for {spec.code!r} on {on!r}: the check declares inputs {spec.inputs}")
    requires = tuple(sorted({r for s in specs for r in s.requires}))

    def mark(fn):
        RUNNERS[on].append(Runner(fn, on, tuple(s.code for s in specs), requires))
        return fn

    return mark


def run_checks(on: str, data: Any, resources: dict[str, Any], ran: set[str]) -> list[Finding]:
    """Every runner on input kind `on` whose resources are present; the codes that ran are
    added to `ran` (only those may turn a previous finding fixed)."""
    findings: list[Finding] = []
    for runner in RUNNERS[on]:
        if any(resources.get(r) is None for r in runner.requires):
            continue
        findings += runner.fn(data, resources)
        ran.update(runner.codes)
    return findings


def notice_sections() -> list[tuple[str, tuple[str, ...], str]]:
    """(title, codes, target kind) per 通报 section; word checks count in the account section
    too when they ran on posts."""
    out = []
    for key, (title, kind) in NOTICE_SECTIONS.items():
        codes = [c for c, s in CHECKS.items() if s.notice == key]
        if kind == "account":
            codes += [c for c, s in CHECKS.items() if "post" in s.inputs and c not in codes]
        if codes:
            out.append((title, tuple(codes), kind))
    return out


def markdown_table() -> str:
    """The README's table of checks (`python -m checks` prints it; tests/test_catalogue.py
    fails when the README's copy differs)."""
    from govcheck.findings import SEVERITY_ZH

    rows = ["| code | 中文 | family | severity | needs | rule | source |", "|---|---|---|---|---|---|---|"]
    for spec in CHECKS.values():
        needs = ", ".join([*spec.inputs, *spec.requires])
        rows.append(f"| `{spec.code}` | {spec.name} | {spec.family} | {spec.severity}（{SEVERITY_ZH[spec.severity]}） "
                    f"| {needs} | {spec.rule} | {spec.source} |")
    return "\n".join(rows) + "\n"
