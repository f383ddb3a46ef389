"""Alembic environment: run by `govcheck db upgrade`, by the automatic upgrade on open, and by
`alembic revision --autogenerate` (alembic.ini at the repository root) when adding a revision."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from govcheck.store.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:   # handed in by govcheck.store.migrate
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - govcheck always migrates online
    raise SystemExit("govcheck migrations run online only (govcheck db upgrade)")
run_migrations_online()
