"""首页不更新 / 栏目不更新 / 空白栏目 / 站点无法访问 — rules, thresholds and veto counts."""

import datetime as dt

import pytest

from checks.freshness import (
    ColumnState,
    Probe,
    check_availability,
    check_columns,
    check_home,
    infer_rule,
)
from govcheck.config import Settings

AS_OF = dt.date(2024, 4, 19)
S = Settings()


@pytest.mark.parametrize("name, rule", [
    ("工作动态", "2w"), ("要闻", "2w"), ("图片新闻", "2w"), ("部门动态", "2w"),
    ("通知公告", "6m"), ("政策文件", "6m"), ("政策解读", "6m"), ("规范性文件", "6m"), ("环评公示", "6m"),
    ("人事信息", "1y"), ("规划计划", "1y"), ("财政资金", "1y"), ("统计数据", "1y"), ("政府信息公开年报", "1y"),
    ("机构职能", "none"), ("领导信息", "none"), ("联系我们", "none"), ("互动交流", "none"), ("网上办事", "none"),
])
def test_rule_inferred_from_the_name(name, rule):
    assert infer_rule(name) == rule


def test_unmatched_names_registry_vs_discovered():
    assert infer_rule("乡村振兴") == "none"
    assert infer_rule("乡村振兴", registered=True) == "1y"


def test_home_fresh_old_and_undated():
    assert check_home("http://x/", AS_OF - dt.timedelta(days=14), "t", "row", AS_OF, S) == []
    [old] = check_home("http://x/", AS_OF - dt.timedelta(days=15), "某新闻", "row", AS_OF, S)
    assert old.check == "home_not_updated" and old.detail["age_days"] == 15 and "某新闻" in old.evidence
    [undated] = check_home("http://x/", None, None, None, AS_OF, S)
    assert undated.detail["newest"] is None and "无日期" in undated.evidence


def col(name, rule, newest=None, items=3, fetched=True, error=None):
    return ColumnState(name, f"http://x/{name}/", rule, "inferred", fetched, error, items, newest)


def test_each_rule_boundary():
    cols = [col("a", "2w", AS_OF - dt.timedelta(days=14)), col("b", "2w", AS_OF - dt.timedelta(days=15)),
            col("c", "6m", dt.date(2023, 10, 19)), col("d", "6m", dt.date(2023, 10, 18)),
            col("e", "1y", dt.date(2023, 4, 19)), col("f", "1y", dt.date(2023, 4, 18)),
            col("g", "none", dt.date(2010, 1, 1)), col("h", "2w", None)]
    stale = {f.subject: f for f in check_columns(cols, AS_OF, S) if f.check == "column_stale"}
    assert set(stale) == {"b", "d", "f", "h"}
    assert stale["b"].detail["age_days"] == 15 and stale["b"].detail["rule"] == "2w"
    assert stale["h"].detail["newest"] is None  # no date counts as not updated
    assert all(f.severity is None for f in stale.values())  # below the veto counts: deduct


def test_veto_counts():
    old = dt.date(2023, 1, 1)
    five = [col(f"s{i}", "6m" if i % 2 else "2w", old) for i in range(5)]
    findings = check_columns(five + [col("y", "1y", old)], AS_OF, S)
    by = {f.subject: f for f in findings}
    assert all(by[f"s{i}"].severity == "veto" for i in range(5))
    assert by["y"].severity is None  # 1y columns count separately (≥ 10)
    ten = [col(f"y{i}", "1y", old) for i in range(10)]
    assert all(f.severity == "veto" for f in check_columns(ten, AS_OF, S))


def test_blank_columns():
    cols = [col("空", "6m", items=0), col("坏", "2w", error="HTTP 404", items=0), col("静态", "none", items=0),
            col("未抓取", "2w", fetched=False, items=0)]
    blank = [f for f in check_columns(cols, AS_OF, S) if f.check == "column_blank"]
    assert [f.subject for f in blank] == ["空", "坏"] and "HTTP 404" in blank[1].evidence
    five = [col(f"b{i}", "6m", items=0) for i in range(5)]
    assert all(f.severity == "veto" for f in check_columns(five, AS_OF, S))


def probes(n, failures):
    at = dt.datetime(2024, 4, 18, 10)
    return [Probe(at, i >= failures, 200 if i >= failures else None, None if i >= failures else "timeout") for i in range(n)]


def test_availability_ratio():
    assert check_availability("http://x/", probes(100, 2), None, S) == []
    [warn] = check_availability("http://x/", probes(100, 3), None, S)
    assert warn.severity == "warn" and warn.detail["ratio"] == 0.03
    [veto] = check_availability("http://x/", probes(20, 1), None, S)
    assert veto.severity == "veto" and "5.0%" in veto.evidence
    [down] = check_availability("http://x/", probes(3, 0), "timeout: took longer than 15 s", S)
    assert down.severity == "veto" and "无法打开首页" in down.evidence
