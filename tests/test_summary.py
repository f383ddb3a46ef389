"""The one-screen summary after a scan: accounts listed by the standing their finding gives."""

from __future__ import annotations

import datetime as dt
import io

from rich.console import Console

from govcheck.analysis import AccountState
from govcheck.summary import _print_accounts


def test_accounts_are_listed_vetoes_first_then_warnings_then_not_judged_then_fine():
    newest = dt.datetime(2024, 4, 1, 9, 0)
    states = [
        AccountState("甲", "正常号", "微信", "http://a/", newest=newest, age_days=2, verdict="ok"),
        AccountState("乙", "读不了", "微博", "http://b/", "not judged: parser", verdict="not_judged"),
        AccountState("丙", "快单否", "微信", "http://c/", newest=newest, age_days=11, verdict="account_near_stale"),
        AccountState("丁", "打不开", "微信", "http://d/", "HTTP 500", verdict="account_unreachable"),
        AccountState("戊", "三周了", "微信", "http://e/", newest=newest, age_days=21, verdict="account_stale"),
    ]
    console = Console(file=io.StringIO(), width=200)
    _print_accounts(console, states)
    lines = [line for line in console.file.getvalue().splitlines() if any(n in line for n in "甲乙丙丁戊")]
    # Among vetoes the longest silent first: an unreachable account has no known last post.
    assert [line.split()[1] for line in lines] == ["丁", "戊", "丙", "乙", "甲"]
    assert "新媒体无法访问（单项否决）" in lines[0] and "新媒体超过两周未更新（单项否决）" in lines[1]
    assert "临近单否（预警）" in lines[2] and "未判定" in lines[3] and "正常" in lines[4]
