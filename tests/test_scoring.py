"""Scoring rules, normalisation, ranking, validation — and deductions from a real scan."""

import json

import pytest
import yaml
from conftest import Route, findings_jsonl, govcheck, html, stored, write_registry

from scoring.model import (
    ManualEntry,
    SchemeError,
    UnitScore,
    load_scheme,
    rank,
    score_unit,
)

SCHEME = """
name: t
groups: [甲, 乙]
full: 100
round: 1
veto: {veto}
categories:
  - name: 内容
    max: 60
    indicators:
      - {{name: 栏目, points: 6, rule: {{type: per_occurrence, checks: [column_stale], where: {{rule: 6m}}, per: 2}}}}
      - {{name: 链接, points: 4, rule: {{type: per_occurrence_over, checks: [link_broken], per: 0.5, over: 3}}}}
      - {{name: 人工, points: 50, manual: true}}
  - name: 服务
    max: {{甲: 40, 乙: 30}}
  - name: 否决
    max: 0
    indicators: [{{name: 首页, rule: {{type: veto, checks: [home_not_updated]}}}}]
  - name: 其他
    indicators:
      - {{name: 通报批评, rule: {{type: percent, percent: 20}}}}
      - {{name: 附加, rule: {{type: bonus, per: -5, checks: [word_typo]}}}}
"""


def scheme(tmp_path, veto="zero", text=SCHEME):
    p = tmp_path / "t.yaml"
    p.write_text(text.format(veto=veto), encoding="utf-8")
    return load_scheme(str(p))


def f(i, check, **detail):
    return stored(i, check, detail.pop("severity", "deduct"), **detail)


def manual(**scores):
    return {("单位", k): ManualEntry(score=v) for k, v in scores.items()}


def test_per_occurrence_is_capped_and_lists_its_findings(tmp_path):
    s = scheme(tmp_path)
    found = [f(i, "column_stale", rule="6m") for i in range(1, 5)] + [f(9, "column_stale", rule="2w")]
    us, ds = score_unit(s, "单位", "甲", found, manual(人工=50, 服务=40), "p")
    [d] = ds
    assert (d.indicator, d.points, d.occurrences, d.finding_ids) == ("栏目", 6.0, 4, [1, 2, 3, 4])  # 8 capped at 6
    assert us.categories["内容"] == 54 and us.total == 94.0


def test_per_occurrence_over_counts_past_the_threshold(tmp_path):
    s = scheme(tmp_path)
    _, ds = score_unit(s, "单位", "甲", [f(i, "link_broken") for i in range(3)], manual(人工=50, 服务=40), "p")
    assert ds == []
    us, [d] = score_unit(s, "单位", "甲", [f(i, "link_broken") for i in range(6)], manual(人工=50, 服务=40), "p")
    assert d.points == 1.5 and d.occurrences == 6 and us.total == 98.5


def test_percent_bonus_and_manual_counts(tmp_path):
    s = scheme(tmp_path)
    m = manual(人工=50, 服务=40) | {("单位", "通报批评"): ManualEntry(count=1)}
    us, ds = score_unit(s, "单位", "甲", [f(1, "word_typo"), f(2, "word_typo")], m, "p")
    assert us.total == 100 * 0.8 - 10   # −20 % for one 通报批评, then −5 per typo after normalising
    assert {d.kind for d in ds} == {"percent", "bonus"}


@pytest.mark.parametrize("mode, shown", [("zero", "0.0（单项否决：首页）"), ("fail", "不合格（单项否决：首页）")])
def test_veto(tmp_path, mode, shown):
    s = scheme(tmp_path, veto=mode)
    us, ds = score_unit(s, "单位", "甲", [f(7, "home_not_updated", severity="veto")], manual(人工=50, 服务=40), "p")
    assert us.vetoed and us.total == 0 and us.score_before_veto == 100.0
    assert ds[0].kind == "veto" and ds[0].finding_ids == [7]
    assert us.total_text(1) == shown and "扣分后 100 分" in us.status


def test_not_applicable_normalises(tmp_path):
    s = scheme(tmp_path)
    m = manual(人工=45) | {("单位", "服务"): ManualEntry(not_applicable=True)}
    us, _ = score_unit(s, "单位", "甲", [], m, "p")
    assert us.categories["服务"] is None and us.total == 91.7   # (6 + 4 + 45) × 100 / 60
    us, _ = score_unit(s, "单位", "甲", [], manual(人工=45, 服务=20) | {("单位", "服务"): ManualEntry(score=20, max=25)}, "p")
    assert us.total == round((55 + 20) * 100 / 85, 1)


def test_ties_rank_equally_and_vetoes_last():
    scores = [UnitScore(n, "甲", {}, {}, total=t, vetoed=v) for n, t, v in
              [("a", 90, False), ("b", 95, False), ("c", 90, False), ("d", 99, True), ("e", 80, False)]]
    rank(scores)
    assert {s.unit: s.rank for s in scores} == {"b": 1, "a": 2, "c": 2, "e": 4, "d": 5}


@pytest.mark.parametrize("bad, message", [
    ("checks: [column_stale]", "checks: [no_such_check]"),
    ("type: per_occurrence_over", "type: per_occurrance"),
    ("max: {{甲: 40, 乙: 30}}", "max: {{甲: 40, 丙: 30}}"),
    ("veto: {veto}", "veto: maybe"),
])
def test_scheme_errors_name_the_field(tmp_path, bad, message):
    text = SCHEME.replace(bad, message, 1)
    with pytest.raises(SchemeError) as exc:
        scheme(tmp_path, text=text)
    assert str(tmp_path / "t.yaml") in str(exc.value)


def test_bundled_schemes_load():
    for name in ("ordos-2022", "national-2019", "otq-2020-detail", "info-adoption"):
        s = load_scheme(name)
        assert s.categories and s.source
    o = load_scheme("ordos-2022")
    assert [c.max_for("旗区") for c in o.categories] == [50, 8, 7, 20, 15]
    assert [c.max_for("部门") for c in o.categories] == [45, 10, 10, 20, 15]


def test_manual_file_errors(tmp_path):
    reg = tmp_path / "u.yaml"
    reg.write_text(yaml.safe_dump({"units": [{"name": "甲单位", "group": "旗区"}]}, allow_unicode=True), encoding="utf-8")
    for body, message in [("单位,项目,得分\n乙单位,发布解读,40\n", "not in the registry"),
                          ("单位,项目,得分\n甲单位,不存在,40\n", "neither a category"),
                          ("单位,项目,得分\n甲单位,发布解读,很好\n", "expected a number"),
                          ("名字,项目\n甲单位,发布解读\n", "missing the unit column")]:
        (tmp_path / "m.csv").write_text(body, encoding="utf-8")
        proc = govcheck("score", str(reg), "--scheme", "ordos-2022", "--manual", str(tmp_path / "m.csv"),
                        "--db", str(tmp_path / "x.db"), check=False)
        assert proc.returncode == 2 and message in proc.stderr and "m.csv" in proc.stderr, proc.stderr
    proc = govcheck("score", str(reg), "--scheme", "no-such-scheme", check=False)
    assert proc.returncode == 2 and "bundled:" in proc.stderr


def test_template_lists_every_unit_and_manual_indicator(tmp_path):
    reg = tmp_path / "u.yaml"
    reg.write_text(yaml.safe_dump({"units": [{"name": "甲镇", "group": "苏木镇"}, {"name": "乙局", "group": "部门"}]},
                                  allow_unicode=True), encoding="utf-8")
    govcheck("score", str(reg), "--scheme", "otq-2020-detail", "--template", str(tmp_path / "t.csv"))
    rows = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("单位,项目,得分,次数,满分")
    assert any(r.startswith("甲镇,基层政务公开,") for r in rows) and not any(r.startswith("乙局,基层政务公开,") for r in rows)
    assert any(r.startswith("乙局,通报批评,") for r in rows)   # a count an assessor enters


def test_deductions_from_a_real_scan(tmp_path, serve):
    def lst(prefix, dates):
        return "<ul class='list'>" + "".join(f"<li><a href='{prefix}{i}.html'>第{i}条</a><span>{d}</span></li>"
                                             for i, d in enumerate(dates)) + "</ul>"
    pages = {"/": Route(body=html("首页", lst("/gzdt/", ["2024-01-02", "2024-01-01"])
                                  + "".join(f"<a href='/p{i}.html'>页{i}</a>" for i in range(7))))}
    for i in range(7):   # seven inner pages, one broken link each
        pages[f"/p{i}.html"] = Route(body=html(f"页{i}", f"<a href='/gone{i}.html'>坏链</a>"))
    for col, dates in {"/tzgg/": ["2023-06-01"], "/zcwj/": ["2023-05-01"], "/gzdt/": ["2024-01-02", "2024-01-01"]}.items():
        pages[col] = Route(body=html("栏目", lst(col, dates)))
        for i, d in enumerate(dates):
            pages[f"{col}{i}.html"] = Route(body=html("文章", f"<p>发布时间：{d}</p>"))
    server = serve({"www.score.gov.cn": pages})
    base = f"http://www.score.gov.cn:{server.port}"
    columns = [{"name": "通知公告", "url": f"{base}/tzgg/", "rule": "6m"}, {"name": "政策文件", "url": f"{base}/zcwj/", "rule": "6m"},
               {"name": "工作动态", "url": f"{base}/gzdt/", "rule": "2w"}]
    reg = write_registry(tmp_path / "sites.yaml", [{"name": "计分单位", "group": "部门", "sites": [{"url": f"{base}/", "columns": columns}]}],
                         resolve={"www.score.gov.cn": "127.0.0.1"}, as_of="2024-04-19")
    db = str(tmp_path / "g.db")
    govcheck("scan", str(reg), "--db", db)
    found = {(r["check"], r["subject"]): r for r in findings_jsonl(db)}
    tzgg = found[("column_stale", "通知公告")]
    govcheck("review", str(tzgg["id"]), "--ignore", "--note", "栏目已撤并", "--db", db)

    govcheck("score", str(reg), "--scheme", "otq-2020-detail", "--db", db, "-o", str(tmp_path / "otq.xlsx"))
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "otq.xlsx")
    records = [dict(zip([c.value for c in wb["扣分记录"][1]], [c.value for c in row])) for row in wb["扣分记录"].iter_rows(min_row=2)]
    by = {r["指标"]: r for r in records}
    six = by["通知公告政策文件更新"]   # 政策文件 only: the ignored 通知公告 finding deducts nothing
    assert six["扣分"] == 2 and six["次数"] == 1 and six["依据（问题编号）"] == str(found[("column_stale", "政策文件")]["id"])
    assert by["工作动态更新"]["扣分"] == 2
    assert set(wb.sheetnames) == {"部门", "扣分记录"} and wb["部门"]["A2"].value == "计分单位"

    govcheck("score", str(reg), "--scheme", "national-2019", "--db", db, "-o", str(tmp_path / "nat.csv"))
    deductions = list(__import__("csv").DictReader(open(tmp_path / "nat-扣分记录.csv", encoding="utf-8-sig")))
    by = {r["指标"]: r for r in deductions}
    assert float(by["其他页面不可用链接"]["扣分"]) == pytest.approx(0.2)   # 7 broken, counted past 5 at 0.1
    assert by["首页不更新"]["方式"] == "单项否决" and by["首页不更新"]["依据（问题编号）"]
    totals = open(tmp_path / "nat.csv", encoding="utf-8-sig").read()
    assert "单项否决" in totals
    assert json.dumps(tzgg["id"]) not in by.get("栏目更新", {}).get("依据（问题编号）", "")
