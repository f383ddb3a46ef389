"""scheduler.py: the nightly job is registered with the right trigger and `--once` runs a scan."""

import importlib.util
import subprocess
import sys
from pathlib import Path

from conftest import Route, findings_jsonl, html, write_registry

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("scheduler", ROOT / "scheduler.py")
scheduler = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scheduler)


def test_nightly_job_trigger_and_no_overlap():
    sched = scheduler.build_scheduler("sites.yaml", "sqlite:///x.db", "02:15")
    [job] = sched.get_jobs()
    trigger = str(job.trigger)
    assert "hour='2'" in trigger and "minute='15'" in trigger
    assert sched._job_defaults["coalesce"] is True and sched._job_defaults["max_instances"] == 1


def test_bad_time_is_exit_2():
    proc = subprocess.run([sys.executable, str(ROOT / "scheduler.py"), "sites.yaml", "--at", "25:99"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--at" in proc.stderr


def test_once_runs_a_scan(tmp_path, serve):
    server = serve({"www.s.gov.cn": {"/": Route(body=html("首页", '<a href="/gone">坏链</a>'))}})
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "调度单位", "sites": [{"url": f"http://www.s.gov.cn:{server.port}/"}]}],
                              resolve={"www.s.gov.cn": "127.0.0.1"})
    db = tmp_path / "g.db"
    proc = subprocess.run([sys.executable, str(ROOT / "scheduler.py"), str(registry), "--db", str(db), "--once"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "link_broken" in [r["check"] for r in findings_jsonl(db)]
