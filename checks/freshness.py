"""Freshness and availability (DESIGN §2): 首页不更新, 栏目不更新, 空白栏目, 站点无法访问.

The single-veto rules that decide most failures in real assessments. Inputs are what the
crawl saw, already reduced to dates and counts (govcheck.dates / govcheck.listing), and the
as-of date every age is computed on, so `--as-of` makes each verdict reproducible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from dateutil.relativedelta import relativedelta

from checks.inputs import ColumnsInput, HomepageInput, ProbesInput
from checks.links import network_error_zh
from checks.registry import register, runs
from govcheck.config import Settings
from govcheck.findings import Finding

SOURCE = "国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》"

SITE_UNREACHABLE = register(
    "site_unreachable", "站点无法访问", "veto",
    "监测周期内多次访问首页（默认每天20次、超时15秒），无法访问次数占比≥5%为单项否决，≥3%预警；"
    "本次巡检重试后仍无法打开首页即报告。", SOURCE + " 单项否决：站点无法访问", key_on_url=False, family="freshness",
    inputs=("probes",), notice="unreachable_stale")
HOME_NOT_UPDATED = register(
    "home_not_updated", "首页不更新", "veto",
    "首页最新信息的发布日期距检查日超过2周（14天）；首页信息均无日期的视为未更新。",
    SOURCE + " 单项否决：首页不更新", key_on_url=False, family="freshness",
    inputs=("homepage",), notice="unreachable_stale", shown_on_page=True)
COLUMN_STALE = register(
    "column_stale", "栏目不更新", "deduct",
    "动态、要闻类栏目超过2周未更新；通知公告、政策文件类栏目超过6个月未更新；人事、规划计划、财政资金、统计数据等"
    "应更新栏目超过1年未更新。2周/6个月类累计≥5个、或1年类累计≥10个为单项否决。",
    SOURCE + " 单项否决：栏目不更新", key_on_url=True, family="freshness",
    inputs=("columns",), notice="unreachable_stale", shown_on_page=True)
COLUMN_BLANK = register(
    "column_blank", "空白栏目", "deduct",
    "栏目页面没有任何信息条目（或栏目页面无法打开）。空白栏目≥5个为单项否决。",
    SOURCE + " 单项否决：栏目不更新（空白栏目）", key_on_url=True, family="freshness",
    inputs=("columns",), notice="unreachable_stale", shown_on_page=True)

RULE_AGE = {"2w": relativedelta(days=14), "6m": relativedelta(months=6), "1y": relativedelta(years=1)}
RULE_ZH = {"2w": "2周", "6m": "6个月", "1y": "1年", "none": "不要求"}


@lru_cache(maxsize=1)
def _rule_table() -> list[tuple[str, tuple[str, ...]]]:
    data = yaml.safe_load((Path(__file__).with_name("column_rules.yaml")).read_text(encoding="utf-8"))
    return [(rule, tuple(data[rule])) for rule in ("none", "2w", "6m", "1y")]


def infer_rule(name: str, registered: bool = False) -> str:
    """The update rule a column's name implies (the table is checks/column_rules.yaml)."""
    for rule, words in _rule_table():
        if any(w in name for w in words):
            return rule
    return "1y" if registered else "none"


@dataclass
class ColumnState:
    """What the crawl saw of one column."""

    name: str
    url: str
    rule: str
    rule_source: str            # registry | inferred
    fetched: bool               # the column page was fetched in this scan
    error: str | None = None    # why the column page could not be opened
    items: int = 0
    newest: dt.date | None = None
    newest_source: str | None = None  # row | url | article
    newest_title: str | None = None


@dataclass
class Probe:
    at: dt.datetime
    ok: bool
    status: int | None = None
    error: str | None = None


def age_days(as_of: dt.date, date: dt.date) -> int:
    return (as_of - date).days


def check_home(home_url: str, newest: dt.date | None, newest_title: str | None, source: str | None,
               as_of: dt.date, t: Settings) -> list[Finding]:
    if newest is None:
        return [Finding(HOME_NOT_UPDATED.code, home_url, None, "首页未发现任何带发布日期的信息（无日期视为未更新）",
                        {"newest": None, "age_days": None, "max_age_days": t.home_max_age_days, "as_of": as_of.isoformat()})]
    age = age_days(as_of, newest)
    if age <= t.home_max_age_days:
        return []
    return [Finding(HOME_NOT_UPDATED.code, home_url, None,
                    f"首页最新信息「{(newest_title or '')[:40]}」发布于 {newest.isoformat()}，距 {as_of.isoformat()} 已 {age} 天",
                    {"newest": newest.isoformat(), "newest_title": newest_title, "age_days": age, "source": source,
                     "max_age_days": t.home_max_age_days, "as_of": as_of.isoformat()})]


def column_is_stale(col: ColumnState, as_of: dt.date) -> bool:
    if col.rule not in RULE_AGE or not col.fetched or col.error or col.items == 0:
        return False
    return col.newest is None or col.newest < as_of - RULE_AGE[col.rule]


def check_columns(columns: list[ColumnState], as_of: dt.date, t: Settings) -> list[Finding]:
    stale = [c for c in columns if column_is_stale(c, as_of)]
    blank = [c for c in columns if c.fetched and c.rule != "none" and (c.error or c.items == 0)]
    n_short = sum(1 for c in stale if c.rule in ("2w", "6m"))
    n_year = sum(1 for c in stale if c.rule == "1y")
    veto_short, veto_year = n_short >= t.stale_veto, n_year >= t.stale_1y_veto
    findings = []
    for c in stale:
        vetoed = veto_short if c.rule in ("2w", "6m") else veto_year
        age = age_days(as_of, c.newest) if c.newest else None
        evidence = (f"栏目「{c.name}」最新信息发布于 {c.newest.isoformat()}，已 {age} 天未更新（要求：{RULE_ZH[c.rule]}）"
                    if c.newest else f"栏目「{c.name}」的 {c.items} 条信息均无发布日期（无日期视为未更新；要求：{RULE_ZH[c.rule]}）")
        findings.append(Finding(COLUMN_STALE.code, c.url, c.name, evidence, {
            "rule": c.rule, "rule_source": c.rule_source, "newest": c.newest.isoformat() if c.newest else None,
            "newest_title": c.newest_title, "newest_source": c.newest_source, "age_days": age, "items": c.items,
            "as_of": as_of.isoformat(), "stale_count_2w_6m": n_short, "stale_count_1y": n_year, "veto": vetoed},
            severity="veto" if vetoed else None))
    vetoed_blank = len(blank) >= t.blank_veto
    for c in blank:
        evidence = f"栏目「{c.name}」页面无法打开（{c.error}）" if c.error else f"栏目「{c.name}」没有任何信息条目"
        findings.append(Finding(COLUMN_BLANK.code, c.url, c.name, evidence,
                                {"rule": c.rule, "error": c.error, "blank_count": len(blank), "veto": vetoed_blank},
                                severity="veto" if vetoed_blank else None))
    return findings


NOT_JUDGED_STATUS = (401, 403, 429)


def probe_not_judged(p: Probe) -> bool:
    return (p.status in NOT_JUDGED_STATUS and not p.ok) or (p.error or "").startswith("not_judged")


def check_availability(home_url: str, probes: list[Probe], homepage_error: str | None, t: Settings) -> list[Finding]:
    window_days = t.probe_window_days
    # DESIGN §2: 401/403/429 and WAF/challenge answers are never counted as failures — nor as
    # successes: such a probe proves nothing about the site and leaves the ratio.
    not_judged = sum(1 for p in probes if probe_not_judged(p))
    probes = [p for p in probes if not probe_not_judged(p)]
    total = len(probes)
    failed = [p for p in probes if not p.ok]
    ratio = len(failed) / total if total else 0.0
    detail = {"probes": total, "failures": len(failed), "ratio": round(ratio, 4), "window_days": window_days,
              "not_judged": not_judged,
              "veto_ratio": t.unreachable_veto, "warn_ratio": t.unreachable_warn,
              "recent_failures": [{"at": p.at.isoformat(sep=" "), "status": p.status, "error": p.error} for p in failed[-5:]]}
    summary = f"近 {window_days} 天探测首页 {total} 次，失败 {len(failed)} 次（{ratio:.1%}）"
    if homepage_error:
        reason = network_error_zh(homepage_error, t.timeout)
        return [Finding(SITE_UNREACHABLE.code, home_url, None, f"本次巡检重试后仍无法打开首页（{reason}）；{summary}",
                        dict(detail, homepage_error=homepage_error, reason=reason), severity="veto")]
    if total and ratio >= t.unreachable_veto:
        return [Finding(SITE_UNREACHABLE.code, home_url, None, summary + "，达到单项否决标准（≥5%）", detail, severity="veto")]
    if total and ratio >= t.unreachable_warn:
        return [Finding(SITE_UNREACHABLE.code, home_url, None, summary + "，接近单项否决标准（≥3%）", detail, severity="warn")]
    return []


@runs(SITE_UNREACHABLE, on="probes")
def availability_checks(data: ProbesInput, _resources) -> list[Finding]:
    return check_availability(data.home_url, data.probes, data.homepage_error, data.settings)


@runs(HOME_NOT_UPDATED, on="homepage")
def home_checks(home: HomepageInput, _resources) -> list[Finding]:
    return check_home(home.home_url, home.newest, home.newest_title, home.newest_source, home.as_of, home.settings)


@runs(COLUMN_STALE, COLUMN_BLANK, on="columns")
def column_checks(data: ColumnsInput, _resources) -> list[Finding]:
    return check_columns(data.columns, data.as_of, data.settings)
