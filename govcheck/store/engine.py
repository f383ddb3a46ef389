"""Opening a database: URL handling, SQLite pragmas, sessions.

SQLite file by default, PostgreSQL (or anything SQLAlchemy speaks) by URL.
"""

from __future__ import annotations

import os

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from govcheck.store.schema import Base

DEFAULT_DB = "sqlite:///govcheck.db"


class StorageError(RuntimeError):
    """The database cannot be opened or used (bad URL, server down): bad input, exit 2."""


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    # WAL lets `govcheck findings` read while a scan writes; foreign keys keep evidence linked.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def missing_sqlite_file(url: str | None) -> str | None:
    """The path of a SQLite database URL whose file does not exist, else None."""
    url = url or DEFAULT_DB
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else (url if "://" not in url else None)
    return path if path and not os.path.exists(path) else None


def open_db(url: str | None = None, create: bool = True) -> Engine:
    url = url or DEFAULT_DB
    if "://" not in url:  # a bare path means a SQLite file
        url = f"sqlite:///{url}"
    try:
        engine = create_engine(url, future=True)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(f"--db {url!r}: not a usable database URL ({exc})") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        if create:
            Base.metadata.create_all(engine)
        else:
            with engine.connect():
                pass
    except OperationalError as exc:
        raise StorageError(f"--db {url!r}: cannot open the database ({exc.orig})") from None
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)

