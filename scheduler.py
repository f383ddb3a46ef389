"""Nightly scans with APScheduler: `python scheduler.py SITES.yaml [--db URL] [--at HH:MM] [--once]`.

Each scan runs as its own `govcheck scan` process: Scrapy's reactor can run only once per
process, and a crashed scan must not take the scheduler down. Daytime availability probes,
report regeneration and a persistent job store come with the monitoring-workflow issue.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger("govcheck.scheduler")


def nightly_scan(sites: str, db: str | None) -> int:
    cmd = [sys.executable, "-m", "govcheck", "scan", sites] + (["--db", db] if db else [])
    log.info("nightly scan: %s", " ".join(cmd))
    code = subprocess.run(cmd).returncode
    log.log(logging.INFO if code == 0 else logging.ERROR, "nightly scan finished with exit code %s", code)
    return code


def build_scheduler(sites: str, db: str | None, at: str) -> BlockingScheduler:
    hour, minute = (int(x) for x in at.split(":"))
    scheduler = BlockingScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    scheduler.add_job(nightly_scan, CronTrigger(hour=hour, minute=minute), args=[sites, db], id="nightly_scan",
                      replace_existing=True)
    return scheduler


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="govcheck nightly scheduler")
    ap.add_argument("sites")
    ap.add_argument("--db", default=None)
    ap.add_argument("--at", default="01:30", help="time of the nightly scan, HH:MM (default 01:30)")
    ap.add_argument("--once", action="store_true", help="run the nightly job now and exit")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        hour, minute = (int(x) for x in args.at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        print(f"error: --at {args.at!r}: expected HH:MM", file=sys.stderr)
        return 2
    if args.once:
        return nightly_scan(args.sites, args.db)
    scheduler = build_scheduler(args.sites, args.db, args.at)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    log.info("nightly scan at %s; Ctrl-C or SIGTERM to stop", args.at)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
