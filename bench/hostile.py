"""Hostile-site benchmark (issue 11): 14 hostile sites and their feeds next to one healthy site.

Runs the real `govcheck scan` in a subprocess against loopback (resolve_only: nothing leaves
127.0.0.1) and prints, side by side:
- the scan's wall and crawl time against its per-site time budget;
- whether the healthy site's findings are exactly those it gets when scanned alone;
- the scan process's peak RSS (limit 1 GiB);
- how long a second scan takes to exit after SIGTERM, sent while it waits behind a host's
  `Retry-After: 30`, and whether the previous findings stayed intact.

    python bench/hostile.py [--budget 30] [--timeout 15]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govcheck.demo.hostile import (  # noqa: E402
    FEEDS,
    HEALTHY,
    HostileSites,
    healthy_routes,
    hostile_hosts,
    more_accounts,
    more_feeds,
    more_hostile_hosts,
    units,
)

AS_OF = "2024-04-19"


def govcheck(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "govcheck", *args], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))


def findings(db: Path) -> list[dict]:
    out = govcheck("findings", "--db", str(db), "--format", "jsonl").stdout
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def key(r: dict) -> tuple:
    return (r["check"], None if r["check"].startswith("footer_") else r["url"], r["subject"], r["severity"])


def write(path: Path, unit_list: list[dict], resolve: dict, settings: dict) -> Path:
    path.write_text(yaml.safe_dump({"as_of": AS_OF, "settings": settings, "resolve": resolve, "units": unit_list},
                                   allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def child_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=30.0, help="site_time_budget (seconds per site)")
    ap.add_argument("--timeout", type=float, default=15.0, help="request timeout (the national 15-second rule)")
    args = ap.parse_args()

    server = HostileSites({HEALTHY: healthy_routes()})
    server.start()
    hosts = {**hostile_hosts(server.port), **more_hostile_hosts()}
    hosts[FEEDS].update(more_feeds())
    server.hosts.update(hosts)
    resolve = {h: "127.0.0.1" for h in [HEALTHY, *hosts]}
    settings = {"resolve_only": True, "timeout": args.timeout, "site_time_budget": args.budget,
                "max_links_per_page": 1000, "max_links_per_site": 2000, "max_pages": 100, "probe_interval": 1}
    all_units = units(server.port, hosts)
    all_units[-1]["accounts"] += more_accounts(server.port)
    sites = [s["url"] for u in all_units for s in u.get("sites", [])]
    feeds = [a for u in all_units for a in u.get("accounts", [])]
    env = {"GOVCHECK_RESOLVE_ONLY": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        solo = write(tmp / "solo.yaml", all_units[:1], resolve, settings)
        govcheck("scan", str(solo), "--db", str(tmp / "solo.db"), env=env)
        expected = sorted(map(key, findings(tmp / "solo.db")))

        reg = write(tmp / "sites.yaml", all_units, resolve, settings)
        db = tmp / "g.db"
        started = time.monotonic()
        proc = govcheck("scan", str(reg), "--db", str(db), env=env)
        wall = time.monotonic() - started
        rss = child_peak_rss_mb()
        if proc.returncode != 0:
            sys.exit(f"scan failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        records = findings(db)
        healthy = sorted(key(r) for r in records if HEALTHY in r["target"])
        row = sqlite3.connect(db).execute("SELECT stats FROM scans ORDER BY id DESC LIMIT 1").fetchone()
        scan_stats = json.loads(row[0])

        # SIGTERM while the crawl waits behind Retry-After: 30 on the rate-limited host.
        before = findings(db)
        seen = len(server.requests)
        term = subprocess.Popen([sys.executable, "-m", "govcheck", "scan", str(reg), "--db", str(db)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, **env))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(
                h == "www.ratelimit.gov.cn" and p.startswith("/r") for h, _m, p in server.requests[seen:]):
            time.sleep(0.1)
        time.sleep(2.0)
        sent = time.monotonic()
        term.send_signal(signal.SIGTERM)
        term.communicate(timeout=120)
        stop_s = time.monotonic() - sent
        statuses = [s for (s,) in sqlite3.connect(db).execute("SELECT status FROM scans ORDER BY id")]
        intact = findings(db) == before
    server.stop()

    print(f"hostile sites: {len(sites) - 1}   feeds: {len(feeds)}   healthy site: 1   "
          f"per-site budget: {args.budget:g} s   timeout: {args.timeout:g} s")
    print(f"{'scan wall time':<34}{wall:8.1f} s")
    print(f"{'crawl time (budget + 2 timeouts)':<34}{scan_stats['crawl_seconds']:8.1f} s   limit "
          f"{args.budget + 2 * args.timeout:.0f} s   {'OK' if scan_stats['crawl_seconds'] <= args.budget + 2 * args.timeout else 'OVER'}")
    print(f"{'analysis time':<34}{scan_stats['analysis_seconds']:8.1f} s")
    print(f"{'sites marked partial':<34}{len(scan_stats['partial_sites']):8d}")
    print(f"{'scan events':<34}{scan_stats['event_count']:8d}")
    print(f"{'healthy findings (alone / here)':<34}{len(expected):8d} / {len(healthy)}   "
          f"{'complete' if healthy == expected else 'DIFFERENT'}")
    print(f"{'peak RSS of scan processes':<34}{rss:8.0f} MB   limit 1024 MB   {'OK' if rss < 1024 else 'OVER'}")
    print(f"{'SIGTERM to exit':<34}{stop_s:8.1f} s   limit 10 s   {'OK' if stop_s < 10 else 'OVER'}   "
          f"scans: {statuses}   previous findings intact: {intact}")


if __name__ == "__main__":
    main()
