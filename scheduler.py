"""Nightly scans and daytime availability probes with APScheduler.

    python scheduler.py SITES.yaml [--db URL] [--at HH:MM] [--probes-per-day 20] [--reports DIR]
                        [--scheme NAME] [--log FILE] [--once]

Jobs are kept in the same database as the findings (a persistent job store), so a restart
keeps the schedule; runs never overlap (coalesce, one instance); SIGTERM stops cleanly, passing
the signal on to a running scan. `--once` runs the nightly cycle (scan + reports) now and exits.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from govcheck import jobs
from govcheck.store.engine import DEFAULT_DB

log = logging.getLogger("govcheck.scheduler")


def build_scheduler(sites: str, db_url: str | None, at: str, probes_per_day: int = 20, reports: str = "reports",
                    deadline: int = 15, scheme: str | None = None) -> BlockingScheduler:
    hour, minute = (int(x) for x in at.split(":"))
    url = db_url or DEFAULT_DB
    scheduler = BlockingScheduler(jobstores={"default": SQLAlchemyJobStore(url=url if "://" in url else f"sqlite:///{url}")},
                                  job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    scheduler.add_job(jobs.nightly_cycle, CronTrigger(hour=hour, minute=minute), args=[sites, db_url, reports, deadline, scheme],
                      id="nightly_scan", name="nightly scan and reports", replace_existing=True)
    if probes_per_day > 0:
        # Spread over the day; jitter keeps probes of many schedulers from hitting in step.
        minutes = 24 * 60 / probes_per_day
        scheduler.add_job(jobs.probe, IntervalTrigger(minutes=minutes, jitter=min(300, int(minutes * 6))),
                          args=[sites, db_url], id="homepage_probes", name="homepage availability probes",
                          replace_existing=True)
    return scheduler


def _logging(path: str) -> None:
    fmt = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in (logging.StreamHandler(sys.stdout), logging.FileHandler(path, encoding="utf-8")):
        handler.setFormatter(fmt)
        root.addHandler(handler)


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below {minimum}")
        return value
    return parse


def check_inputs(args) -> str | None:
    """Everything the nightly cycle will need, checked at start-up: a scheduler that starts must
    not find out at 01:30 that its registry or scheme is wrong. Returns the error, if any."""
    from govcheck.registry import RegistryError, load_registry
    from scoring.model import SchemeError, load_scheme

    try:
        load_registry(args.sites)
    except RegistryError as exc:
        return str(exc)
    if args.scheme:
        try:
            load_scheme(args.scheme)
        except SchemeError as exc:
            return f"--scheme {exc}"
    try:
        hour, minute = (int(x) for x in args.at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        return f"--at {args.at!r}: expected HH:MM"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="govcheck scheduler: nightly scans and daytime homepage probes")
    ap.add_argument("sites")
    ap.add_argument("--db", default=None, help="SQLAlchemy URL or SQLite path (jobs are stored there too)")
    ap.add_argument("--at", default="01:30", help="time of the nightly scan, HH:MM (default 01:30)")
    ap.add_argument("--probes-per-day", type=_count(0), default=20, help="homepage probes per site per day (default 20)")
    ap.add_argument("--reports", default="reports", help="folder for the reports of each nightly scan")
    ap.add_argument("--deadline", type=_count(1), default=15, help="days before an open finding is overdue")
    ap.add_argument("--scheme", default=None, help="scheme whose score tables go into the 通报 draft")
    ap.add_argument("--log", default="govcheck-scheduler.log", help="log file (also logged to stdout)")
    ap.add_argument("--once", action="store_true", help="run the nightly cycle now and exit")
    args = ap.parse_args(argv)   # bad options: argparse exits 2
    problem = check_inputs(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    _logging(args.log)
    if args.once:
        return jobs.nightly_cycle(args.sites, args.db, args.reports, args.deadline, args.scheme)
    scheduler = build_scheduler(args.sites, args.db, args.at, args.probes_per_day, args.reports, args.deadline, args.scheme)

    def stop(signum, _frame):
        log.info("signal %s: stopping", signum)
        jobs.stop_children(signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("nightly scan at %s, %s homepage probes a day; jobs stored in %s", args.at, args.probes_per_day,
             args.db or DEFAULT_DB)
    scheduler.start()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
