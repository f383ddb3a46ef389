"""Scores an assessor can publish (issue 12): veto semantics, which scans score which unit,
periods, 未检查 / 未评, group maps, and inputs refused before any work."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from conftest import govcheck, stored

from govcheck.findings import Finding
from govcheck.lifecycle import merge_findings
from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import ScanRow
from scoring.model import load_scheme, score_unit
from scoring.report import covered_findings, parse_period, score_units

NATIONAL = load_scheme("national-2019")


def broken(unit: str, name: str, on_homepage: bool = True) -> Finding:
    site = f"http://www.{name[0]}.gov.cn/"
    return Finding("link_broken", site, f"{site}{name}", "HTTP 404", {"on_homepage": on_homepage}).placed(unit, "site", site)


def add_scan(sessions, started: dt.datetime, units: list[str], *observed: Finding) -> int:
    with sessions.begin() as s:
        row = ScanRow(started_at=started, finished_at=started, as_of=started.date(), status="done", units=units)
        s.add(row)
        s.flush()
        covered = {("site", o.target, "link_broken") for o in observed}
        merge_findings(s, row, list(observed), covered, started)
        return row.id


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    return url, session_factory(open_db(url))


# --------------------------------------------------------------------------- 1. veto semantics

def test_vetoed_unit_fails_ranks_after_all_that_passed_and_keeps_its_deductions(tmp_path):
    veto = stored(1, "site_unreachable", "veto")
    links = [stored(i, "link_broken", on_homepage=True) for i in (2, 3)]
    failed, fd = score_unit(NATIONAL, "甲", "旗区", [veto, *links], {}, "p")
    fixed, xd = score_unit(NATIONAL, "甲", "旗区", links, {}, "p")
    # Fixing the veto changes nothing else: the same deductions, the same category scores.
    assert [(d.indicator, d.points) for d in fd if d.kind != "veto"] == [(d.indicator, d.points) for d in xd]
    assert failed.categories == fixed.categories and failed.score_before_veto == fixed.total == 98.0
    assert failed.total_text(1) == "不合格（单项否决：站点无法访问）"
    from scoring.model import in_rank_order, rank

    clean, _ = score_unit(NATIONAL, "乙", "旗区", [stored(9, "link_broken", on_homepage=True)] * 20,
                          {}, "p")
    scores = [failed, clean]
    rank(scores)
    assert clean.total == 95.0 and clean.rank == 1 and failed.rank == 2     # 95 passed beats a vetoed 98
    assert [s.unit for s in in_rank_order(scores)] == ["乙", "甲"]


def test_veto_effect_zero_scores_zero_with_the_reason(tmp_path):
    path = tmp_path / "z.yaml"
    path.write_text(yaml.safe_dump({"name": "z", "groups": ["旗区"], "full": 100, "veto_effect": "zero", "categories": [
        {"name": "否决", "max": 0, "indicators": [{"name": "站点无法访问", "rule": {"type": "veto", "checks": ["site_unreachable"]}}]},
        {"name": "内容", "max": 100, "indicators": [{"name": "链接", "points": 100, "rule": {
            "type": "per_occurrence", "checks": ["link_broken"], "per": 1}}]}]}, allow_unicode=True), encoding="utf-8")
    zero = load_scheme(str(path))
    assert zero.veto == "zero" and NATIONAL.veto == "fail"
    s, _ = score_unit(zero, "甲", "旗区", [stored(1, "site_unreachable", "veto")], {}, "p")
    assert s.total == 0 and s.total_text(1) == "0.0（单项否决：站点无法访问）" and s.score_before_veto == 100


# --------------------------------------------------------------------------- 2. coverage

def test_each_unit_is_scored_from_the_latest_scan_that_covered_it(db):
    url, sessions = db
    t = dt.datetime(2024, 4, 1, 1, 30)
    add_scan(sessions, t, ["甲", "乙"], broken("甲", "a1"), broken("甲", "a2"), broken("乙", "b1"))
    add_scan(sessions, t + dt.timedelta(days=7), ["甲"], broken("甲", "a1"))        # scan --unit 甲
    units = [("甲", "旗区"), ("乙", "旗区"), ("丙", "旗区")]
    scores, deductions = score_units(units, "sites.yaml", NATIONAL, None, url)
    by = {s.unit: s for s in scores}
    assert by["甲"].total == 99.0 and "巡检批次2" in by["甲"].period
    assert by["乙"].total == 99.0 and "巡检批次1" in by["乙"].period          # not 100 from scan 2
    assert by["丙"].unchecked and by["丙"].total_text() == "未检查" and by["丙"].rank is None
    # An explicit scan scores only the units it covered.
    scores, _ = score_units(units, "sites.yaml", NATIONAL, None, url, scan_ref="2")
    assert {s.unit for s in scores if s.unchecked} == {"乙", "丙"}


def test_period_counts_a_finding_once_by_identity(db):
    url, sessions = db
    t = dt.datetime(2024, 4, 1, 1, 30)
    add_scan(sessions, t, ["甲"], broken("甲", "a1"), broken("甲", "a2"))
    add_scan(sessions, t + dt.timedelta(days=7), ["甲"], broken("甲", "a1"), broken("甲", "a3"))
    add_scan(sessions, t + dt.timedelta(days=40), ["甲"])
    cov = covered_findings(url, ["甲"], period=parse_period("2024-04-01..2024-04-30"))
    assert sorted(f.id for f in cov.findings["甲"]) == [1, 2, 3]               # a1 once, not twice
    assert "巡检批次1、2" in cov.period["甲"]
    with pytest.raises(Exception, match="--period"):
        parse_period("2024-04-31..2024-05-01")


def test_schemes_needing_manual_input_show_unrated_without_manual(tmp_path):
    reg = tmp_path / "sites.yaml"
    reg.write_text(yaml.safe_dump({"units": [{"name": "甲", "group": "旗区"}, {"name": "乙", "group": "旗区"}]},
                                  allow_unicode=True), encoding="utf-8")
    proc = govcheck("score", str(reg), "--scheme", "info-adoption", "--db", str(tmp_path / "none.db"),
                    "-o", str(tmp_path / "s.csv"))
    assert "需要人工评分" in proc.stderr and "未评" in proc.stdout
    text = (tmp_path / "s.csv").read_text(encoding="utf-8-sig")
    assert text.count("未评") >= 2 and ",1," not in text                        # nobody ranked 1 on zeros
    manual = tmp_path / "m.csv"
    manual.write_text("单位,项目,得分,次数\n甲,采用条数,,4\n乙,采用条数,,2\n", encoding="utf-8")
    proc = govcheck("score", str(reg), "--scheme", "info-adoption", "--manual", str(manual), "--db",
                    str(tmp_path / "none.db"))
    assert "需要人工评分" not in proc.stderr and "未评" not in proc.stdout


# --------------------------------------------------------------------------- 9. inputs and groups

def test_group_map_from_the_command_line_and_the_registry(tmp_path):
    units = [{"name": "甲镇", "group": "镇街"}, {"name": "乙局", "group": "部门"}]
    reg = tmp_path / "sites.yaml"
    reg.write_text(yaml.safe_dump({"units": units}, allow_unicode=True), encoding="utf-8")
    db = str(tmp_path / "none.db")
    bad = govcheck("score", str(reg), "--scheme", "ordos-2022", "--db", db, check=False)
    assert bad.returncode == 2 and "--group-map 镇街=" in bad.stderr
    ok = govcheck("score", str(reg), "--scheme", "ordos-2022", "--group-map", "镇街=部门", "--db", db)
    assert "甲镇" in ok.stdout and "乙局" in ok.stdout
    wrong = govcheck("score", str(reg), "--scheme", "ordos-2022", "--group-map", "镇街=街道", "--db", db, check=False)
    assert wrong.returncode == 2 and "街道" in wrong.stderr
    reg.write_text(yaml.safe_dump({"group_map": {"镇街": "部门"}, "units": units}, allow_unicode=True), encoding="utf-8")
    assert "甲镇" in govcheck("score", str(reg), "--scheme", "ordos-2022", "--db", db).stdout


def test_unknown_output_extension_fails_before_work(tmp_path):
    reg = tmp_path / "sites.yaml"
    reg.write_text(yaml.safe_dump({"units": [{"name": "甲", "group": "旗区"}]}, allow_unicode=True), encoding="utf-8")
    proc = govcheck("score", str(reg), "--scheme", "national-2019", "-o", str(tmp_path / "out.pdf"), check=False)
    assert proc.returncode == 2 and ".pdf" in proc.stderr and not (tmp_path / "out.pdf").exists()


def test_manual_score_above_the_items_points_names_row_and_item(tmp_path):
    reg = tmp_path / "sites.yaml"
    reg.write_text(yaml.safe_dump({"units": [{"name": "甲", "group": "旗区"}]}, allow_unicode=True), encoding="utf-8")
    scheme = tmp_path / "s.yaml"
    scheme.write_text(yaml.safe_dump({"name": "t", "groups": ["旗区"], "full": 100, "categories": [
        {"name": "内容", "max": 50, "indicators": [{"name": "解读", "points": 50, "manual": True}]},
        {"name": "服务", "max": 50}]}, allow_unicode=True), encoding="utf-8")
    manual = tmp_path / "m.csv"
    manual.write_text("单位,项目,得分\n甲,服务,40\n甲,解读,99\n", encoding="utf-8")
    proc = govcheck("score", str(reg), "--scheme", str(scheme), "--manual", str(manual), check=False)
    assert proc.returncode == 2 and f"{manual}:3" in proc.stderr and "解读" in proc.stderr and "99" in proc.stderr
