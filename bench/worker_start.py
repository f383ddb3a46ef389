"""How long a crawl worker takes from its start to its first request (issue 18 follow-up).

    python bench/worker_start.py [--workers 2] [--runs 3] [--db URL] [--redis URL] [--profile FILE]

A coordinator (`run_scan(..., workers=N)`, in this process) shares a one-site scan through
Redis with N worker processes, exactly as `govcheck scan --workers N` does; the loopback
server in this process notes when each request arrives. Printed per run: the coordinator's
own set-up before the spawn, the seconds from the first worker's spawn to the first request
at the server, and that worker's CPU seconds at that moment (read from /proc: its start-up's cost, steady on a
shared machine where the wall time is not). `--profile FILE` runs the first worker under
cProfile (`python -m pstats FILE`), or under FILE when it is a .py wrapper.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govcheck.demo.loopback import LoopbackSites, Route  # noqa: E402

HOST = "www.start.gov.cn"


def page(title: str, body: str) -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


def one_run(args, tmp: Path, run: int) -> dict:
    import subprocess

    import govcheck.workers as workers_mod
    from crawler import settings as crawl_settings
    from govcheck.registry import load_registry
    from govcheck.scan import run_scan

    # Many requests a worker can take, each slow: every worker gets one before the crawl ends.
    routes = {"/": Route(body=page("启动测试区人民政府", "".join(f'<a href="/a{i}.html">第{i}篇</a>' for i in range(40))))}
    routes.update({f"/a{i}.html": Route(body=page(f"第{i}篇", "<p>正文。</p>"), delay=0.3) for i in range(40)})
    with LoopbackSites({HOST: routes}) as server:
        reg = tmp / f"sites-{run}.yaml"
        reg.write_text(json.dumps({
            "as_of": "2024-04-19", "resolve": {HOST: "127.0.0.1"},
            "settings": {"resolve_only": True, "screenshots": False, "probes": 0, "concurrency_per_host": 4},
            "units": [{"name": "启动测试区人民政府", "sites": [{"url": f"http://{HOST}:{server.port}/"}]}]},
            ensure_ascii=False), encoding="utf-8")
        db = args.db or f"sqlite:///{tmp / f'g{run}.db'}"
        spawned: list[float] = []
        cpu: list[float] = []
        real_spawn = workers_mod.spawn_worker

        def watch(proc):
            # The worker's own CPU seconds (user + system) when its first request arrives:
            # what its start-up costs, whatever else the machine is doing meanwhile.
            while not server.request_times and proc.poll() is None:
                time.sleep(0.005)
            try:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                cpu.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
            except OSError:
                pass

        def timed_spawn(db_url, redis_url, scan_id, prefix):
            spawned.append(time.monotonic())
            if args.profile and len(spawned) == 1:
                runner = [args.profile] if args.profile.endswith(".py") else ["-m", "cProfile", "-o", args.profile, "-m", "govcheck"]
                cmd = [sys.executable, *runner, "worker",
                       "--db", db_url, "--redis", redis_url, "--scan", str(scan_id)]
                proc = subprocess.Popen(cmd, env=dict(os.environ, GOVCHECK_REDIS_PREFIX=prefix))
            else:
                proc = real_spawn(db_url, redis_url, scan_id, prefix)
            if len(spawned) == 1:
                threading.Thread(target=watch, args=(proc,), daemon=True).start()
            return proc

        workers_mod.spawn_worker = timed_spawn
        crawl_settings.GOVCHECK_REDIS_PREFIX = f"bench-start-{uuid.uuid4().hex[:8]}"
        try:
            begun = time.monotonic()
            run_scan(load_registry(str(reg)), db, redis_url=args.redis, workers=args.workers, analyse=False)
        finally:
            workers_mod.spawn_worker = real_spawn
        times = sorted(server.request_times)
    first = times[0] - spawned[0]
    return {"first": first, "coordinator": spawned[0] - begun, "cpu": cpu[0] if cpu else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", default=None, help="SQLAlchemy URL (default: a SQLite file per run)")
    ap.add_argument("--redis", default=os.environ.get("GOVCHECK_TEST_REDIS", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--profile", default=None, metavar="FILE")
    args = ap.parse_args()
    os.environ["GOVCHECK_RESOLVE_ONLY"] = "1"
    print(f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.workers} worker(s)")
    print(f"{'run':<6}{'coordinator set-up s':>22}{'spawn → first request s':>26}{'worker CPU s':>14}")
    firsts, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            r = one_run(args, Path(tmp), run)
            firsts.append(r["first"])
            cpus.append(r["cpu"])
            print(f"{run + 1:<6}{r['coordinator']:>22.2f}{r['first']:>26.2f}{r['cpu']:>14.2f}", flush=True)
    print(f"median spawn → first request {sorted(firsts)[len(firsts) // 2]:.2f} s wall, "
          f"{sorted(cpus)[len(cpus) // 2]:.2f} s worker CPU; "
          f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
