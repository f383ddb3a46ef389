"""`govcheck review` from the command line, and reports of an old scan that later scans leave alone."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import Route, findings_jsonl, govcheck, html, write_registry
from openpyxl import load_workbook

HOST = "www.rev.gov.cn"
UNIT = "复核测试单位"


def site(broken: list[str]) -> dict[str, Route]:
    links = "".join(f'<a href="/{b}">链接{b}</a>' for b in broken)
    return {"/": Route(body=html("复核测试区", f"<p>各单位要再接再厉。</p>{links}<a href='/ok.html'>正常</a>")),
            "/ok.html": Route(body=html("正常", "<p>正文</p>" * 20))}


@pytest.fixture
def scanned(tmp_path, serve):
    server = serve({HOST: site(["a.html", "b.html", "c.html"])})
    reg = write_registry(tmp_path / "sites.yaml", [{"name": UNIT, "group": "部门",
                                                    "sites": [{"url": f"http://{HOST}:{server.port}/"}]}],
                         resolve={HOST: "127.0.0.1"})
    db = str(tmp_path / "g.db")
    govcheck("scan", str(reg), "--db", db, "--as-of", "2024-04-01")
    ids = {r["subject"].rsplit("/", 1)[-1]: r["id"] for r in findings_jsonl(db) if r["check"] == "link_broken"}
    return server, reg, db, ids


def test_review_flags_are_exclusive_and_take_several_ids(scanned, tmp_path):
    _server, _reg, db, ids = scanned
    both = govcheck("review", str(ids["a.html"]), "--ignore", "--confirm", "--db", db, check=False)
    assert both.returncode == 2 and "exactly one of" in both.stderr
    none = govcheck("review", str(ids["a.html"]), "--db", db, check=False)
    assert none.returncode == 2
    missing = govcheck("review", str(ids["a.html"]), "99999", "--ignore", "--db", db, check=False)
    assert missing.returncode == 2 and "99999" in missing.stderr
    assert all(r["status"] == "open" for r in findings_jsonl(db))          # nothing written by the failures
    out = govcheck("review", str(ids["a.html"]), str(ids["b.html"]), "--ignore", "--note", "内网系统",
                   "--by", "王监测", "--db", db).stdout
    assert out.count("→ ignored") == 2
    govcheck("review", str(ids["a.html"]), "--confirm", "--by", "李复核", "--db", db)   # no note: the first stays
    records = {r["id"]: r for r in findings_jsonl(db)}
    assert records[ids["a.html"]]["status"] == "open" and records[ids["a.html"]]["reviewed_by"] == "李复核"
    assert records[ids["a.html"]]["review_note"] == "内网系统"
    assert records[ids["b.html"]]["status"] == "ignored" and records[ids["b.html"]]["reviewed_by"] == "王监测"
    text = govcheck("findings", "--db", db, "--format", "csv").stdout
    rows = {r["编号"]: r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert rows[str(ids["b.html"])]["复核意见"] == "内网系统" and rows[str(ids["b.html"])]["复核人"] == "王监测"
    assert rows[str(ids["b.html"])]["状态"] == "已忽略"


def _report_contents(folder) -> dict[str, object]:
    out: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".html", ".md"):
            out[str(path.relative_to(folder))] = path.read_text(encoding="utf-8")
        elif path.suffix == ".xlsx":
            wb = load_workbook(path)
            out[str(path.relative_to(folder))] = [[c.value for c in row] for ws in wb for row in ws.iter_rows()]
    return out


@pytest.mark.slow
def test_report_of_scan_1_is_identical_before_and_after_three_later_scans(scanned, tmp_path):
    server, reg, db, ids = scanned
    govcheck("review", str(ids["c.html"]), "--ignore", "--note", "误报", "--db", db)
    govcheck("report", "--db", db, "--scan", "1", "-o", str(tmp_path / "before"))
    findings_before = findings_jsonl(db, scan="1")
    assert sum(1 for r in findings_before if r["status"] == "fixed") == 0
    server.hosts[HOST] = site(["b.html", "c.html"])                  # a repaired
    govcheck("scan", str(reg), "--db", db, "--as-of", "2024-04-08")
    govcheck("review", str(ids["b.html"]), "--ignore", "--note", "后来的复核", "--db", db)
    server.hosts[HOST] = site(["a.html"])                            # a back (复现), b and c repaired
    govcheck("scan", str(reg), "--db", db, "--as-of", "2024-04-15")
    govcheck("scan", str(reg), "--db", db, "--as-of", "2024-04-22")
    latest = {r["id"]: r for r in findings_jsonl(db)}
    assert latest[ids["a.html"]]["reopened"] and latest[ids["a.html"]]["status"] == "open"
    govcheck("report", "--db", db, "--scan", "1", "-o", str(tmp_path / "after"))
    assert findings_jsonl(db, scan="1") == findings_before
    before, after = _report_contents(tmp_path / "before"), _report_contents(tmp_path / "after")
    assert before.keys() == after.keys() and before == after
    notice = before["通报初稿.md"]
    assert "已整改 0 条" in notice and "2024年4月1日" in notice
    govcheck("report", "--db", db, "-o", str(tmp_path / "latest"))
    summary = (tmp_path / "latest" / "巡检概况.html").read_text(encoding="utf-8")
    assert "复现 1 条" in summary
