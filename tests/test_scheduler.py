"""scheduler.py: jobs and triggers, the persistent job store, SIGTERM, and `--once`."""

import importlib.util
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Route, findings_jsonl, html, write_registry

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("scheduler", ROOT / "scheduler.py")
scheduler = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scheduler)


def test_jobs_and_triggers(tmp_path):
    sched = scheduler.build_scheduler("sites.yaml", str(tmp_path / "g.db"), "02:15", probes_per_day=20)
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {"nightly_scan", "homepage_probes"}
    nightly = str(jobs["nightly_scan"].trigger)
    assert "hour='2'" in nightly and "minute='15'" in nightly
    assert jobs["homepage_probes"].trigger.interval.total_seconds() == 72 * 60   # 20 a day
    assert jobs["nightly_scan"].func.__module__ == "govcheck.jobs"   # resolvable after a restart
    assert sched._job_defaults["coalesce"] is True and sched._job_defaults["max_instances"] == 1


def test_bad_time_is_exit_2(tmp_path):
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "调度单位", "sites": [{"url": "http://www.s.gov.cn/"}]}])
    proc = subprocess.run([sys.executable, str(ROOT / "scheduler.py"), str(registry), "--at", "25:99"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--at" in proc.stderr


def test_inputs_are_checked_at_start_up(tmp_path):
    """A scheduler that starts must not find out at night that its registry or scheme is wrong."""
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "调度单位", "sites": [{"url": "http://www.s.gov.cn/"}]}])

    def run(*args):
        return subprocess.run([sys.executable, str(ROOT / "scheduler.py"), *args, "--log", str(tmp_path / "s.log")],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)

    missing = run(str(tmp_path / "nosuch.yaml"))
    assert missing.returncode == 2 and "nosuch.yaml" in missing.stderr
    scheme = run(str(registry), "--scheme", "nosuch-scheme")
    assert scheme.returncode == 2 and "nosuch-scheme" in scheme.stderr
    probes = run(str(registry), "--probes-per-day", "-3")
    assert probes.returncode == 2 and "--probes-per-day" in probes.stderr
    bad_date = tmp_path / "bad.yaml"
    bad_date.write_text("as_of: 2024-13-45\nunits:\n  - name: 甲\n", encoding="utf-8")
    dated = run(str(bad_date))
    assert dated.returncode == 2 and "bad.yaml:1" in dated.stderr and "as_of" in dated.stderr


def test_jobs_persist_in_the_database_and_sigterm_stops_cleanly(tmp_path):
    db = tmp_path / "g.db"
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "调度单位", "sites": [{"url": "http://www.s.gov.cn/"}]}])
    proc = subprocess.Popen([sys.executable, str(ROOT / "scheduler.py"), str(registry), "--db", str(db), "--at", "03:00",
                             "--log", str(tmp_path / "s.log")], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    rows = []
    while time.monotonic() < deadline:
        try:
            rows = sqlite3.connect(db).execute("select id from apscheduler_jobs").fetchall()
        except sqlite3.Error:
            rows = []
        if len(rows) == 2:
            break
        time.sleep(0.2)
    assert sorted(r[0] for r in rows) == ["homepage_probes", "nightly_scan"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert "stopped" in (tmp_path / "s.log").read_text(encoding="utf-8")


def test_once_runs_a_scan_and_writes_reports(tmp_path, serve):
    server = serve({"www.s.gov.cn": {"/": Route(body=html("首页", '<a href="/gone">坏链</a>'))}})
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "调度单位", "sites": [{"url": f"http://www.s.gov.cn:{server.port}/"}]}],
                              resolve={"www.s.gov.cn": "127.0.0.1"})
    db = tmp_path / "g.db"
    proc = subprocess.run([sys.executable, str(ROOT / "scheduler.py"), str(registry), "--db", str(db), "--once",
                           "--reports", str(tmp_path / "reports"), "--log", str(tmp_path / "s.log")],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "link_broken" in [r["check"] for r in findings_jsonl(db)]
    [day] = list((tmp_path / "reports").iterdir())
    assert (day / "问题清单-调度单位.html").exists() and (day / "通报初稿.docx").exists()


def _wait_for(path: Path, text: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8"):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_one_scheduler_leads_on_postgresql_and_a_second_waits_to_take_over(tmp_path, pg_url, stop):
    """A leader stopped — or killed: PostgreSQL drops the lock with its session — is replaced."""
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "调度单位", "sites": [{"url": "http://www.s.gov.cn/"}]}])

    def start(name):
        return subprocess.Popen([sys.executable, str(ROOT / "scheduler.py"), str(registry), "--db", pg_url, "--at", "03:00",
                                 "--leader-poll", "0.3", "--log", str(tmp_path / f"{name}.log")], cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    first = start("first")
    try:
        assert _wait_for(tmp_path / "first.log", "leading")
        second = start("second")
        try:
            assert _wait_for(tmp_path / "second.log", "waiting to take over")
            time.sleep(1.5)   # several polls: the second still does not lead while the first runs
            assert "leading" not in (tmp_path / "second.log").read_text(encoding="utf-8")
            first.send_signal(stop)
            assert first.wait(timeout=30) == (0 if stop == signal.SIGTERM else -signal.SIGKILL)
            assert _wait_for(tmp_path / "second.log", "leading")
            assert _wait_for(tmp_path / "second.log", "nightly scan at 03:00")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.kill()
