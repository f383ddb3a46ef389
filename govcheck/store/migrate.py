"""Schema migrations (Alembic): `govcheck db upgrade`, and the check every open makes.

A new database is created from the models and stamped with the head revision. A database of
the previous release (tables but no alembic_version) is at the baseline revision 0001. SQLite
files are upgraded automatically on open, after a copy of the file is kept beside it; a
shared PostgreSQL database is upgraded only by `govcheck db upgrade`, so that one scan
never changes a schema other processes are using.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from govcheck.store.errors import StorageError
from govcheck.store.schema import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"   # release e88f4cd's schema: databases made before Alembic


class SchemaError(StorageError):
    """The database's schema is not the one this govcheck needs (bad input: exit 2)."""


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def head() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:  # two engineers' revisions on the same parent: re-point one (PROTOCOL)
        raise SchemaError(f"migrations have {len(heads)} heads ({', '.join(heads)}): expected one linear history")
    return heads[0]


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    return frozenset(s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions())


@dataclass(frozen=True)
class SchemaState:
    revision: str | None   # None: empty database, or tables without alembic_version
    has_tables: bool

    @property
    def current(self) -> bool:
        return self.revision == head()


def schema_state(conn: Connection) -> SchemaState:
    revision = MigrationContext.configure(conn).get_current_revision()
    tables = set(inspect(conn).get_table_names())
    has_tables = bool(tables & set(Base.metadata.tables))
    if revision is None and has_tables:
        revision = BASELINE
    return SchemaState(revision, has_tables)


def create_schema(engine: Engine) -> None:
    """A new database: the models' tables, stamped at the head revision."""
    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        command.stamp(alembic_config(conn), "head")


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Upgrade to the head revision; (revision before, head). An empty database is created."""
    with engine.begin() as conn:
        state = schema_state(conn)
    if not state.has_tables:
        create_schema(engine)
        return None, head()
    _check_known(engine, state)
    if state.current:
        return state.revision, state.revision
    with engine.begin() as conn:
        cfg = alembic_config(conn)
        if MigrationContext.configure(conn).get_current_revision() is None:
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, "head")
    return state.revision, head()


def _check_known(engine: Engine, state: SchemaState) -> None:
    if state.revision not in known_revisions():
        raise SchemaError(f"--db {_shown(engine)}: schema revision {state.revision!r} is unknown to this govcheck "
                          f"(head {head()}): the database was written by a newer version")


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def ensure_schema(engine: Engine, create: bool) -> None:
    """On open: create a new database (when `create`), upgrade a SQLite file, refuse an
    outdated shared database with the command that fixes it."""
    with engine.connect() as conn:
        state = schema_state(conn)
    if not state.has_tables:
        if create:
            create_schema(engine)
        return
    _check_known(engine, state)
    if state.current:
        return
    if engine.dialect.name != "sqlite":
        raise SchemaError(f"--db {_shown(engine)}: schema revision {state.revision}, this govcheck needs {head()}: "
                          f"run `govcheck db upgrade --db URL` first")
    path = engine.url.database
    backup = None
    if path and path != ":memory:" and Path(path).exists():
        backup = f"{path}.before-{head()}"
        if not Path(backup).exists():
            with engine.connect() as conn:   # a consistent copy, WAL contents included
                conn.exec_driver_sql("VACUUM INTO ?", (backup,))
    print(f"govcheck: upgrading database {path} from schema revision {state.revision} to {head()}"
          + (f" (copy of the old file: {backup})" if backup else ""), file=sys.stderr)
    upgrade(engine)
