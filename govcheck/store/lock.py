"""One scan at a time per database.

Two scans writing the same database would each mark the other's findings fixed. The lock is
the database's own where it has one (a PostgreSQL advisory lock, per database and schema,
so parallel test schemas do not collide) and an flock beside the SQLite file otherwise. The
lock dies with its process, so a scan killed with SIGKILL never leaves it held: whoever gets
the lock next knows every scan still marked `running` is stale.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine


class ScanLocked(RuntimeError):
    """Another scan holds this database."""


@contextmanager
def scan_lock(engine: Engine):
    dialect = engine.dialect.name
    if dialect == "sqlite":
        path = engine.url.database
        if not path or path == ":memory:":
            yield
            return
        fd = os.open(f"{path}.scan-lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ScanLocked(f"another scan is running on {path}; wait for it to finish "
                                 "(one scan at a time per database)") from None
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            yield
        finally:
            os.close(fd)
        return
    if dialect == "postgresql":
        conn = engine.connect()
        try:
            key = "hashtext('govcheck-scan:' || current_database() || '.' || current_schema())"
            if not conn.execute(text(f"SELECT pg_try_advisory_lock({key})")).scalar():  # noqa: S608 — constant SQL
                raise ScanLocked(f"another scan is running on {engine.url.render_as_string(hide_password=True)}; "
                                 "wait for it to finish (one scan at a time per database)")
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock({key})"))  # noqa: S608
                conn.commit()
        finally:
            conn.close()
        return
    yield


def scan_lock_held(engine: Engine) -> bool | None:
    """Whether some process holds the scan lock of a SQLite file now (None: this database
    cannot tell without taking it — PostgreSQL is asked through the scans' heartbeats)."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or not os.path.exists(f"{path}.scan-lock"):
        return None if engine.dialect.name != "sqlite" else False
    fd = os.open(f"{path}.scan-lock", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)   # closing the descriptor drops the shared lock we took
    return False


def _pg_key(name: str) -> str:
    # Per database and schema, like the scan lock: parallel test schemas never collide.
    return f"hashtext('govcheck-{name}:' || current_database() || '.' || current_schema())"


@contextmanager
def leader_lock(engine: Engine, poll: float = 5.0, on_wait=None):
    """One scheduler per PostgreSQL database: the leader holds an advisory lock for as long as it
    runs (on a connection of its own); another instance waits here until the leader stops or
    dies — PostgreSQL drops the lock with the leader's session, so a killed leader is replaced
    within `poll` seconds. Yields the lock's connection (`lost(conn)` tells whether it broke).

    Other databases (SQLite: one machine) run a single scheduler by deployment, not by lock."""
    if engine.dialect.name != "postgresql":
        yield None
        return
    key = _pg_key("scheduler")
    conn = engine.connect()
    try:
        waited = False
        while not conn.execute(text(f"SELECT pg_try_advisory_lock({key})")).scalar():  # noqa: S608 — constant SQL
            conn.commit()
            if on_wait is not None and not waited:
                on_wait()
            waited = True
            time.sleep(poll)
        conn.commit()
        try:
            yield conn
        finally:
            try:
                conn.execute(text(f"SELECT pg_advisory_unlock({key})"))  # noqa: S608
                conn.commit()
            except Exception:  # noqa: BLE001 — a broken session has dropped the lock already
                pass
    finally:
        conn.close()


def lost(conn) -> bool:
    """Whether the leader's lock connection broke (PostgreSQL restarted: the lock is gone)."""
    if conn is None:
        return False
    try:
        conn.execute(text("SELECT 1"))
        conn.commit()
        return False
    except Exception:  # noqa: BLE001
        return True
