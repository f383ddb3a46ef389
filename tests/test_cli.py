"""Command-line contract: formats, Chinese headers, exit codes on bad input."""

import csv
import io
import json

import pytest
from conftest import Route, govcheck, html, write_registry
from openpyxl import load_workbook


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, request):
    from govcheck.demo.loopback import LoopbackSites

    tmp = tmp_path_factory.mktemp("cli")
    server = LoopbackSites({"www.cli.gov.cn": {"/": Route(body=html("首页", '<a href="/bad">坏链</a><a href="/x.html">x</a>')),
                                               "/x.html": Route(body=html("x", "<p>正文</p>" * 30))}})
    server.start()
    request.addfinalizer(server.stop)
    registry = write_registry(tmp / "sites.yaml", [{"name": "命令行单位", "sites": [{"url": f"http://www.cli.gov.cn:{server.port}/"}]}],
                              resolve={"www.cli.gov.cn": "127.0.0.1"}, as_of="2024-04-19")
    proc = govcheck("scan", str(registry), "--db", str(tmp / "g.db"))
    return tmp, proc


def test_scan_prints_summary(scanned):
    _tmp, proc = scanned
    assert "巡检批次 1" in proc.stdout and "命令行单位" in proc.stdout and "链接不可用 1" in proc.stdout


def test_jsonl_fields(scanned):
    tmp, _ = scanned
    lines = govcheck("findings", "--db", str(tmp / "g.db")).stdout.splitlines()
    rec = next(r for r in map(json.loads, lines) if r["check"] == "link_broken")
    for field in ("scan_id", "unit", "target_kind", "target", "check", "severity", "url", "subject", "evidence",
                  "detail", "first_seen", "last_seen", "status"):
        assert field in rec
    assert rec["target_kind"] == "site" and rec["severity"] == "deduct" and isinstance(rec["detail"], dict)


def test_csv_and_xlsx_carry_the_same_columns(scanned):
    tmp, _ = scanned
    text = govcheck("findings", "--db", str(tmp / "g.db"), "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["编号", "巡检批次", "单位"] and rows[1][2] == "命令行单位" and rows[1][14] == "未整改"
    assert "链接不可用" in {r[6] for r in rows[1:]}
    govcheck("findings", "--db", str(tmp / "g.db"), "--format", "xlsx", "-o", str(tmp / "f.xlsx"))
    ws = load_workbook(tmp / "f.xlsx").active
    assert [c.value for c in ws[1]] == rows[0]
    assert [c.value for c in ws[2]][2] == "命令行单位"


@pytest.mark.parametrize("args, message", [
    (["findings", "--db", "/nonexistent/dir/g.db"], "does not exist"),
    (["findings", "--scan", "99"], "no such completed scan"),
    (["findings", "--format", "xlsx"], "needs -o"),
    (["findings", "--db", "mysql+nosuchdriver://x/y"], "not a usable database URL"),
])
def test_findings_bad_input_exit_2(scanned, args, message):
    tmp, _ = scanned
    if "--db" not in args:
        args = [*args, "--db", str(tmp / "g.db")]
    proc = govcheck(*args, check=False)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_scan_bad_as_of_and_missing_file(tmp_path):
    proc = govcheck("scan", str(tmp_path / "none.yaml"), check=False)
    assert proc.returncode == 2 and "file not found" in proc.stderr
    (tmp_path / "s.yaml").write_text("units:\n  - name: a\n    sites: [{url: 'http://a.gov.cn/'}]\n", encoding="utf-8")
    proc = govcheck("scan", str(tmp_path / "s.yaml"), "--as-of", "19/04/2024", check=False)
    assert proc.returncode == 2 and "--as-of" in proc.stderr
