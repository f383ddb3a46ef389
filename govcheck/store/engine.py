"""Opening a database: URL handling, SQLite pragmas, sessions.

SQLite file by default, PostgreSQL (or anything SQLAlchemy speaks) by URL.
"""

from __future__ import annotations

import os

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from govcheck.store.errors import StorageError
from govcheck.store.migrate import ensure_schema

DEFAULT_DB = "sqlite:///govcheck.db"


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


def normalise_url(url: str | None) -> str:
    url = url or DEFAULT_DB
    return url if "://" in url else f"sqlite:///{url}"  # a bare path means a SQLite file


def make_engine(url: str | None = None) -> Engine:
    """An engine for `--db` (no schema check: see open_db)."""
    url = normalise_url(url)
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(f"--db {url!r}: not a usable database URL ({exc})") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_db(url: str | None = None, create: bool = True) -> Engine:
    """An engine on a database whose schema is current: a new one is created (`create`), a
    SQLite file of an older release upgraded (govcheck.store.migrate)."""
    engine = make_engine(url)
    try:
        ensure_schema(engine, create)
    except OperationalError as exc:
        raise StorageError(f"--db {engine.url.render_as_string(hide_password=True)!r}: cannot open the database "
                           f"({exc.orig})") from None
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)

