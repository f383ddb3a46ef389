"""Nightly scans and daytime availability probes with APScheduler.

    python scheduler.py SITES.yaml [--db URL] [--at HH:MM] [--probes-per-day 20] [--reports DIR]
                        [--scheme NAME] [--log FILE] [--once]

Jobs are kept in the same database as the findings (a persistent job store), so a restart
keeps the schedule; runs never overlap (coalesce, one instance); SIGTERM stops cleanly, passing
the signal on to a running scan. `--once` runs the nightly cycle (scan + reports) now and exits.

On PostgreSQL (several machines) one scheduler leads: it holds an advisory lock, and a second
instance started for failover waits until the leader stops or dies, then takes over.
"""

from __future__ import annotations

import logging
import signal
import sys

import click
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from govcheck import jobs
from govcheck.cli import BadInput
from govcheck.store.engine import DEFAULT_DB, make_engine
from govcheck.store.lock import leader_lock, lost

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


def check_inputs(sites: str, scheme: str | None, at: str) -> str | None:
    """Everything the nightly cycle will need, checked at start-up: a scheduler that starts must
    not find out at 01:30 that its registry or scheme is wrong. Returns the error, if any."""
    from govcheck.registry import RegistryError, load_registry
    from scoring.model import SchemeError, load_scheme

    try:
        load_registry(sites)
    except RegistryError as exc:
        return str(exc)
    if scheme:
        try:
            load_scheme(scheme)
        except SchemeError as exc:
            return f"--scheme {exc}"
    try:
        hour, minute = (int(x) for x in at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        return f"--at {at!r}: expected HH:MM"
    return None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("sites")
@click.option("--db", "db_url", default=None, metavar="URL", help="SQLAlchemy URL or SQLite path (jobs are stored there too)")
@click.option("--at", default="01:30", show_default=True, metavar="HH:MM", help="time of the nightly scan")
@click.option("--probes-per-day", type=click.IntRange(min=0), default=20, show_default=True,
              help="homepage probes per site per day")
@click.option("--reports", default="reports", show_default=True, help="folder for the reports of each nightly scan")
@click.option("--deadline", type=click.IntRange(min=1), default=15, show_default=True,
              help="days before an open finding is overdue")
@click.option("--scheme", default=None, metavar="NAME|FILE", help="scheme whose score tables go into the 通报 draft")
@click.option("--log", "log_file", default="govcheck-scheduler.log", show_default=True, help="log file (also logged to stdout)")
@click.option("--once", is_flag=True, help="run the nightly cycle now and exit")
@click.option("--leader-poll", type=click.FloatRange(min=0.1), default=5.0, show_default=True, metavar="SECONDS",
              help="PostgreSQL: how often a waiting scheduler tries to become the leader")
def main(sites, db_url, at, probes_per_day, reports, deadline, scheme, log_file, once, leader_poll) -> None:
    """govcheck scheduler: nightly scans and daytime homepage probes."""
    problem = check_inputs(sites, scheme, at)
    if problem:
        raise BadInput(problem)
    _logging(log_file)
    if once:
        sys.exit(jobs.nightly_cycle(sites, db_url, reports, deadline, scheme))

    def stop_waiting(signum, _frame):
        log.info("signal %s: stopped while waiting to lead", signum)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop_waiting)
    signal.signal(signal.SIGINT, stop_waiting)
    engine = make_engine(db_url)
    where = engine.url.render_as_string(hide_password=True)
    with leader_lock(engine, poll=leader_poll,
                     on_wait=lambda: log.info("another scheduler leads on %s: waiting to take over", where)) as conn:
        sys.exit(_lead(sites, db_url, at, probes_per_day, reports, deadline, scheme, conn))


def _lead(sites, db_url, at, probes_per_day, reports, deadline, scheme, conn) -> int:
    scheduler = build_scheduler(sites, db_url, at, probes_per_day, reports, deadline, scheme)
    code = 0

    def stop(signum, _frame):
        log.info("signal %s: stopping", signum)
        jobs.stop_children(signum)
        if not scheduler.running:
            # The signal came between taking the lead and the scheduler's start: nothing runs
            # yet, so stop here as a waiting instance does (shutdown() would raise, exit 1).
            sys.exit(0)
        scheduler.shutdown(wait=False)

    def watch_leadership():
        # A PostgreSQL restart ends the lock's session: another instance may lead now, so this
        # one stops rather than run every job twice.
        nonlocal code
        if lost(conn):
            log.error("lost the scheduler lock (database connection broke): stopping")
            code = 1
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if conn is not None:
        log.info("leading: this scheduler holds the scheduler lock")
        scheduler.add_jobstore(MemoryJobStore(), "local")
        scheduler.add_job(watch_leadership, IntervalTrigger(seconds=30), id="leader_watch", jobstore="local")
    log.info("nightly scan at %s, %s homepage probes a day; jobs stored in %s", at, probes_per_day, db_url or DEFAULT_DB)
    scheduler.start()
    log.info("stopped")
    return code


if __name__ == "__main__":
    main()
