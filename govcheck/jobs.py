"""Scheduled jobs (scheduler.py). Each step runs as its own `govcheck` process: Scrapy's
reactor runs once per process, and a crashed scan must not take the scheduler down.

Functions live here, not in scheduler.py, because the persistent job store refers to them by
import path and must find them again after a restart.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

from govcheck import clock

log = logging.getLogger("govcheck.scheduler")
_children: set[subprocess.Popen] = set()
_lock = threading.Lock()


def _run(args: list[str]) -> int:
    cmd = [sys.executable, "-m", "govcheck", *args]
    log.info("run: %s", " ".join(cmd))
    proc = subprocess.Popen(cmd)
    with _lock:
        _children.add(proc)
    try:
        code = proc.wait()
    finally:
        with _lock:
            _children.discard(proc)
    log.log(logging.INFO if code == 0 else logging.ERROR, "exit %s: %s", code, " ".join(args[:1]))
    return code


def stop_children(signum: int = signal.SIGTERM) -> None:
    """Pass a shutdown on to running scans: Scrapy stops gracefully, the scan is marked failed and
    the previous scan's findings stay as they were."""
    with _lock:
        for proc in list(_children):
            if proc.poll() is None:
                proc.send_signal(signum)


def nightly_cycle(sites: str, db_url: str | None, reports: str, deadline: int = 15, scheme: str | None = None) -> int:
    """Full scan as of today (Beijing), alerts (notify:), then the reports of that scan into REPORTS/<date>/.

    Always today: a registry's fixed `as_of:` (handy for a one-off) must not make every night
    re-judge the same past day and re-open what units fixed since."""
    db = ["--db", db_url] if db_url else []
    today = clock.now().date().isoformat()
    code = _run(["scan", sites, *db, "--as-of", today])
    if code != 0:
        return code
    # Alerts never hold up the reports: their failures are logged and retried after the next scan.
    _run(["notify", sites, *db])
    out = Path(reports) / today
    return _run(["report", *db, "-o", str(out), "--deadline", str(deadline), *(["--scheme", scheme] if scheme else [])])


def probe(sites: str, db_url: str | None) -> int:
    return _run(["probe", sites, *(["--db", db_url] if db_url else [])])
