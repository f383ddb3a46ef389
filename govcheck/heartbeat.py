"""Whether the process running a scan is still there (issue 18 follow-up).

The process that runs a scan (the single process, or the coordinator of a `--workers` scan)
renews `scans.heartbeat_at` every HEARTBEAT_SECONDS from a thread of its own, and says who it
is in `scans.coordinator` (host and pid). A scan still `running` whose heartbeat is older than
STALE_AFTER lost its process (SIGKILL, power loss, a machine gone): `govcheck scans` shows it
as interrupted, to be continued with `govcheck scan SITES --resume ID`. The database's scan
lock (govcheck.store.lock) is what keeps a second coordinator off a scan whose coordinator is
alive; the heartbeat is what everybody else — another machine, the console, a script — can
read without taking that lock. On a SQLite file the lock itself is asked too: a long analysis
transaction can hold the heartbeat's write back, the lock never lies.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading

from sqlalchemy import update

from govcheck.store.schema import ScanRow

log = logging.getLogger("govcheck.heartbeat")

HEARTBEAT_SECONDS = float(os.environ.get("GOVCHECK_HEARTBEAT_SECONDS", "10"))
# Three beats missed: a loaded machine or a slow database may delay one, hardly three.
STALE_AFTER = dt.timedelta(seconds=3 * HEARTBEAT_SECONDS)


def wall_now() -> dt.datetime:
    # Real time, whatever the scan's as-of day: liveness is compared across machines (NTP).
    return dt.datetime.now(dt.UTC)


def who() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"[:200]


def beat(session, scan_id: int) -> None:
    """Mark this process as the scan's runner, alive now (part of the caller's transaction)."""
    session.execute(update(ScanRow).where(ScanRow.id == scan_id).values(heartbeat_at=wall_now(), coordinator=who()))


class Heartbeat:
    """`with Heartbeat(engine, scan_id):` renews the scan's heartbeat until the block ends."""

    def __init__(self, engine, scan_id: int, interval: float = HEARTBEAT_SECONDS):
        self.engine, self.scan_id, self.interval = engine, scan_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-scan-{scan_id}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        return False

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(ScanRow).where(ScanRow.id == self.scan_id, ScanRow.status == "running")
                                 .values(heartbeat_at=wall_now(), coordinator=who()))
            except Exception as exc:  # noqa: BLE001 — a missed beat is retried; the scan goes on
                log.debug("scan %s: heartbeat not written (%s)", self.scan_id, exc)


def coordinator_alive(scan: ScanRow, now: dt.datetime | None = None, lock_held: bool | None = None) -> bool:
    """Whether a `running` scan's process is alive: its heartbeat is recent, or (`lock_held`,
    where the database can tell) the scan lock is held."""
    if scan.status != "running":
        return False
    if lock_held:
        return True
    if scan.heartbeat_at is None:   # written before heartbeats existed, or never began
        return False
    return (now or wall_now()) - scan.heartbeat_at < STALE_AFTER


def describe(scan: ScanRow, now: dt.datetime | None = None, lock_held: bool | None = None) -> str:
    """The scan's status as a person should read it (`govcheck scans`)."""
    now = now or wall_now()
    if scan.status != "running":
        return scan.status
    ago = f"{(now - scan.heartbeat_at).total_seconds():.0f} s ago" if scan.heartbeat_at else "never"
    if coordinator_alive(scan, now, lock_held):
        return f"running ({scan.coordinator or 'coordinator'}, heartbeat {ago})"
    return f"interrupted ({scan.coordinator or 'its process'} gone: heartbeat {ago})"
