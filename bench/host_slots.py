"""The per-host limit shared through Redis (crawler/host_slots.py): what it costs one crawl and
what it holds for two crawls of the same host at once.

    python bench/host_slots.py [--pages 300] [--delay 0.05] [--limit 4] [--redis redis://127.0.0.1:6379/0]

One generated site on loopback (bench/crawl.py's county portal) with server think time. Four
runs of the real `govcheck scan` command, side by side in one table: one scan without Redis,
one with `--redis`, two scans at once (separate databases) without Redis, two at once with it.
Printed per run: wall time, HTTP requests/s at the server, and the peak number of requests in
flight at the server for the host against the configured limit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl import HOST, build_site  # noqa: E402

from govcheck.demo.loopback import LoopbackSites  # noqa: E402


def run(routes, delay: float, limit: int, pages: int, scans: int, redis_url: str | None, tmp: Path) -> dict:
    with LoopbackSites({HOST: routes}, default_delay=delay) as server:
        registry = tmp / f"sites-{uuid.uuid4().hex[:6]}.yaml"
        registry.write_text(json.dumps({
            "as_of": "2024-04-19", "resolve": {HOST: "127.0.0.1"},
            "settings": {"resolve_only": True, "max_pages": pages + 100, "max_depth": 6, "screenshots": False,
                         "concurrency_per_host": limit},
            "units": [{"name": "基准测试区人民政府", "sites": [{"url": f"http://{HOST}:{server.port}/"}]}]}), encoding="utf-8")
        env = dict(os.environ, GOVCHECK_RESOLVE_ONLY="1")
        # A prefix of this run's own: leases of an earlier run can never count against this one.
        env["GOVCHECK_REDIS_PREFIX"] = f"bench-{uuid.uuid4().hex[:8]}"
        extra = ["--redis", redis_url] if redis_url else []
        start = time.monotonic()
        procs = [subprocess.Popen([sys.executable, "-m", "govcheck", "scan", str(registry), "--db",
                                   str(tmp / f"{uuid.uuid4().hex[:6]}.db"), *extra],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(scans)]
        for p in procs:
            out, err = p.communicate()
            if p.returncode != 0:
                sys.exit(f"scan failed ({p.returncode}):\n{out}\n{err}")
        wall = time.monotonic() - start
        return {"wall": wall, "requests": len(server.requests), "peak": server.max_in_flight[HOST]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--delay", type=float, default=0.05, help="server think time per request (s)")
    ap.add_argument("--limit", type=int, default=4, help="concurrency_per_host")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()
    routes = build_site(args.pages)
    print(f"site: {len(routes)} URLs, server think time {args.delay * 1000:.0f} ms, concurrency_per_host {args.limit}")
    print(f"{'run':<34}{'wall s':>8}{'requests':>10}{'req/s':>8}{'peak/host':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, scans, redis_url in (("1 scan, own limit", 1, None), ("1 scan, --redis", 1, args.redis),
                                        ("2 scans at once, own limits", 2, None), ("2 scans at once, --redis", 2, args.redis)):
            r = run(routes, args.delay, args.limit, args.pages, scans, redis_url, Path(tmp))
            print(f"{label:<34}{r['wall']:>8.1f}{r['requests']:>10}{r['requests'] / r['wall']:>8.1f}"
                  f"{r['peak']:>6} / {args.limit}")


if __name__ == "__main__":
    main()
