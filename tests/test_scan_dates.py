"""Scan dates never go backwards silently (issue 12, item 5)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import Route, govcheck, html, write_registry

from govcheck import clock

ROOT = Path(__file__).resolve().parents[1]
HOST = "www.dates.gov.cn"


def registry(tmp_path, port: int, **top) -> Path:
    return write_registry(tmp_path / "sites.yaml", [{"name": "日期单位", "sites": [{"url": f"http://{HOST}:{port}/"}]}],
                          resolve={HOST: "127.0.0.1"}, **top)


def scans(db: Path) -> list[tuple[int, str]]:
    return sqlite3.connect(db).execute("select id, as_of from scans where status = 'done' order by id").fetchall()


def test_a_scan_dated_before_the_last_one_needs_an_explicit_as_of(tmp_path, serve):
    server = serve({HOST: {"/": Route(body=html("首页", "<p>正文</p>"))}})
    reg = registry(tmp_path, server.port, as_of="2024-04-19")
    db = tmp_path / "g.db"
    first = govcheck("scan", str(reg), "--db", str(db), "--as-of", "2024-05-06")
    # Not on a terminal: plain progress lines (what a log file keeps), no bar.
    assert "巡检进度（完成）：站点 1/1" in first.stderr and "\r" not in first.stderr
    back = govcheck("scan", str(reg), "--db", str(db), check=False)
    assert back.returncode == 2 and "2024-04-19" in back.stderr and "2024-05-06" in back.stderr
    assert "--as-of" in back.stderr and scans(db) == [(1, "2024-05-06")]
    govcheck("scan", str(reg), "--db", str(db), "--as-of", "2024-04-19")       # on purpose: allowed
    assert scans(db)[-1] == (2, "2024-04-19")


def test_bad_registry_date_names_file_line_and_field(tmp_path):
    reg = tmp_path / "sites.yaml"
    reg.write_text("units:\n  - name: 甲\nas_of: 2024-13-45\n", encoding="utf-8")
    proc = govcheck("scan", str(reg), "--db", str(tmp_path / "g.db"), check=False)
    assert proc.returncode == 2 and "sites.yaml:3" in proc.stderr and "as_of" in proc.stderr
    assert "Traceback" not in proc.stderr
    for option in (["--as-of", "2024-02-30"],):
        proc = govcheck("scan", str(reg), *option, check=False)
        assert proc.returncode == 2


def test_the_scheduler_always_scans_as_of_today(tmp_path, serve):
    server = serve({HOST: {"/": Route(body=html("首页", "<p>正文</p>"))}})
    reg = registry(tmp_path, server.port, as_of="2024-04-19")
    db = tmp_path / "g.db"
    proc = subprocess.run([sys.executable, str(ROOT / "scheduler.py"), str(reg), "--db", str(db), "--once",
                           "--reports", str(tmp_path / "reports"), "--log", str(tmp_path / "s.log")],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert scans(db) == [(1, clock.now().date().isoformat())]
    [day] = list((tmp_path / "reports").iterdir())
    assert day.name == clock.now().date().isoformat()
