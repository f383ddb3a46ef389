"""`govcheck demo` reports exactly the planted problems and writes JSONL + XLSX."""

import json
import re

from conftest import govcheck
from openpyxl import load_workbook

from govcheck.demo.sites import PLANTED


def test_demo_finds_every_planted_problem(tmp_path):
    out = tmp_path / "demo"
    proc = govcheck("demo", "-o", str(out))
    assert "demo output:" in proc.stdout and "首页无法打开" in proc.stdout
    port = re.search(r"127\.0\.0\.1:(\d+)", proc.stdout).group(1)
    records = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]

    hosts = {"东胜区人民政府": "www.ds.gov.cn", "鄂尔多斯市生态环境局": "sthjj.ordos.gov.cn", "康巴什区人民政府": "www.kbs.gov.cn"}

    def subject(unit, check, s):
        if s is None or not check.startswith("link_"):
            return s
        s = s.format(port=port)
        return s if s.startswith("http") else f"http://{hosts[unit]}:{port}{s}"

    expected = {(u, c, subject(u, c, s)) for u, c, s in PLANTED}
    assert {(r["unit"], r["check"], r["subject"]) for r in records} == expected
    ws = load_workbook(out / "findings.xlsx").active
    header = [c.value for c in ws[1]]
    assert header[:4] == ["编号", "巡检批次", "单位", "对象类型"] and "证据" in header
    assert ws.max_row == len(records) + 1
    assert (out / "govcheck.db").exists() and (out / "sites.yaml").exists()
    by = {(r["unit"], r["check"], r["subject"]): r for r in records}
    home = by[("鄂尔多斯市生态环境局", "home_not_updated", None)]
    assert home["detail"]["age_days"] == 30 and home["severity"] == "veto"
    stale = by[("鄂尔多斯市生态环境局", "column_stale", "通知公告")]
    assert stale["detail"]["rule"] == "6m" and stale["detail"]["newest"] == "2023-09-01" and stale["severity"] == "veto"
    yearly = by[("东胜区人民政府", "column_stale", "人事信息")]
    assert yearly["detail"]["rule"] == "1y" and yearly["severity"] == "deduct" and "天未更新" in yearly["evidence"]
    assert "单项否决" in proc.stdout
    # Veto lines are printed whole (wrapped, never cut mid-text).
    flat = re.sub(r"\s", "", proc.stdout)
    assert all(re.sub(r"\s", "", r["evidence"]) in flat for r in records if r["severity"] == "veto")
    typo = by[("东胜区人民政府", "word_typo", "再接再励")]
    assert "应为“再接再厉”" in typo["evidence"] and "【再接再励】" in typo["evidence"]
    roster = by[("东胜区人民政府", "privacy_leak", "id_card")]
    assert roster["url"].endswith(".xlsx") and roster["detail"]["count"] == 3
    assert all("*" in s for s in roster["detail"]["samples"])
    assert by[("康巴什区人民政府", "footer_missing", "conac")]["detail"]["pages"]
    # Scored: every automatic deduction names the findings behind it.
    wb = load_workbook(out / "scores-national-2019.xlsx")
    head = [c.value for c in wb["扣分记录"][1]]
    rows = [dict(zip(head, [c.value for c in r])) for r in wb["扣分记录"].iter_rows(min_row=2)]
    ids = {str(r["id"]) for r in records}
    assert rows and all(r["依据（问题编号）"] != "人工录入" and set(r["依据（问题编号）"].split(",")) <= ids for r in rows)
    assert {"旗区", "部门"} <= set(wb.sheetnames)   # the town ranked with the 旗区 (group_map: in sites.yaml)


def score_sheet(path, group: str) -> list[dict]:
    ws = load_workbook(path)[group]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, [c.value for c in r])) for r in ws.iter_rows(min_row=2)]


def test_demo_scores_the_unreachable_unit_as_failed_and_ranked_last(tmp_path):
    out = tmp_path / "demo"
    govcheck("demo", "-o", str(out))
    rows = score_sheet(out / "scores-national-2019.xlsx", "旗区")
    town = next(r for r in rows if r["名称"] == "纳林陶亥镇人民政府")
    assert str(town["总分"]).startswith("不合格（单项否决：") and "站点无法访问" in town["总分"]
    assert town["排名"] == max(r["排名"] for r in rows)                      # last (tied only with other failures)
    passed = [r for r in rows if not str(r["总分"]).startswith("不合格")]
    assert passed and all(r["排名"] < town["排名"] for r in passed)
    assert rows[-1]["名称"] == "纳林陶亥镇人民政府" or str(rows[-1]["总分"]).startswith("不合格")
    assert all(isinstance(r["总分"], (int, float)) for r in passed)


def test_demo_second_round_shows_new_and_fixed(tmp_path):
    out = tmp_path / "demo"
    govcheck("demo", "-o", str(out))
    proc = govcheck("demo", "-o", str(out))
    assert "round 2" in proc.stdout and "巡检批次 2" in proc.stdout
    records = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    fixed = {(r["unit"], r["check"], r["subject"].rsplit("/", 1)[-1] if r["subject"] else None)
             for r in records if r["status"] == "fixed"}
    assert {("东胜区人民政府", "link_broken", "2024yshj.pdf"), ("东胜区人民政府", "word_typo", "再接再励"),
            ("鄂尔多斯市生态环境局", "home_not_updated", None), ("鄂尔多斯市生态环境局", "footer_invalid", "site_code"),
            ("康巴什区人民政府", "footer_missing", "conac"), ("鄂尔多斯市生态环境局", "account_stale", "鄂尔多斯生态环境")} <= fixed
    new = [r for r in records if r["status"] == "open" and r["first_seen"].startswith("2024-05-06")]
    assert any(r["subject"].endswith("/gzdt/files/zgtz.docx") for r in new)
    assert re.search(r"findings: \d+ \(new [1-9]\d*, fixed [1-9]\d*\)", proc.stdout)
    summary = (out / "reports" / "巡检概况.html").read_text(encoding="utf-8")
    assert "批次 2" in summary and "zgtz.docx" in summary
