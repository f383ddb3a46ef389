"""政务新媒体 (DESIGN §2): 无法访问, 超过两周未更新 (single veto), 临近单否 (warning).

Staff warn units before an account crosses the two-week line ("临近单否" in the seed notices),
so a near-stale account is reported with how many days remain.
"""

from __future__ import annotations

import datetime as dt

from checks.inputs import FeedInput
from checks.links import network_error_zh
from checks.registry import register, runs
from govcheck.findings import Finding

SOURCE = "国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》政务新媒体部分"
ACCOUNT_UNREACHABLE = register("account_unreachable", "新媒体无法访问", "veto",
                               "账号的订阅源（RSS/Atom/JSON Feed）或主页重试后仍无法获取或解析。",
                               SOURCE + " 单项否决：无法访问", key_on_url=True, family="accounts",
                               inputs=("feed",), notice="accounts")
ACCOUNT_STALE = register("account_stale", "新媒体超过两周未更新", "veto",
                         "账号最新发布内容距检查日超过2周（14天）；没有任何带日期的内容视为未更新。",
                         SOURCE + " 单项否决：超过2周未更新", key_on_url=True, family="accounts",
                         inputs=("feed_content",), notice="accounts")
ACCOUNT_NEAR_STALE = register("account_near_stale", "临近单否", "warn",
                              "账号最新发布内容距检查日已超过预警天数（默认10天），尚未达到2周：提醒单位及时更新。",
                              "监测通报惯例（临近单否预警）", key_on_url=True, family="accounts",
                              inputs=("feed_content",), notice="accounts")


def check_account(feed_url: str, name: str, fetch_error: str | None, newest: dt.datetime | None,
                  newest_title: str | None, as_of: dt.date, stale_days: int = 14, warn_days: int = 10) -> list[Finding]:
    if fetch_error:
        reason = network_error_zh(fetch_error)
        return [Finding(ACCOUNT_UNREACHABLE.code, feed_url, name, f"账号「{name}」订阅源无法获取（{reason}）",
                        {"error": fetch_error, "reason": reason})]
    if newest is None:
        return [Finding(ACCOUNT_STALE.code, feed_url, name, f"账号「{name}」没有任何带发布时间的内容（视为未更新）",
                        {"newest": None, "age_days": None, "stale_days": stale_days})]
    age = (as_of - newest.date()).days
    detail = {"newest": newest.isoformat(sep=" "), "newest_title": newest_title, "age_days": age,
              "stale_days": stale_days, "warn_days": warn_days, "as_of": as_of.isoformat()}
    title = f"「{(newest_title or '')[:30]}」" if newest_title else ""
    if age > stale_days:
        return [Finding(ACCOUNT_STALE.code, feed_url, name,
                        f"账号「{name}」最新内容{title}发布于 {newest:%Y-%m-%d}，已 {age} 天未更新（超过{stale_days}天）", detail)]
    if age > warn_days:
        return [Finding(ACCOUNT_NEAR_STALE.code, feed_url, name,
                        f"账号「{name}」最新内容{title}发布于 {newest:%Y-%m-%d}，已 {age} 天未更新，"
                        f"再过 {stale_days - age + 1} 天将超过两周（临近单否）", dict(detail, days_left=stale_days - age + 1))]
    return []


@runs(ACCOUNT_UNREACHABLE, on="feed")
def reachability_checks(feed: FeedInput, _resources) -> list[Finding]:
    return check_account(feed.feed_url, feed.name, feed.error, None, None, feed.as_of) if feed.error else []


# Only a feed that was read says anything about the account's newest post: when it could not
# be fetched, earlier stale / near-stale findings stay as they were.
@runs(ACCOUNT_STALE, ACCOUNT_NEAR_STALE, on="feed_content")
def freshness_checks(feed: FeedInput, _resources) -> list[Finding]:
    return check_account(feed.feed_url, feed.name, None, feed.newest, feed.newest_title, feed.as_of,
                         feed.stale_days, feed.warn_days)
