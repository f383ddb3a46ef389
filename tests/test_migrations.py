"""Alembic migrations (DESIGN §7 `govcheck db upgrade`): a database written by the previous
release (tests/fixtures/previous_release/e88f4cd.db, made by make_db.py beside it) upgrades on
SQLite — automatically on open — and on PostgreSQL, and the models agree with the migrations."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import findings_jsonl, govcheck
from sqlalchemy import MetaData, create_engine, inspect, select, text

from govcheck.store.engine import make_engine, open_db, session_factory
from govcheck.store.migrate import BASELINE, alembic_config, head
from govcheck.store.schema import Base, FindingRow, ProbeRow

PREVIOUS = Path(__file__).parent / "fixtures" / "previous_release" / "e88f4cd.db"
# What the previous release showed for its database (its own `govcheck findings`), naive times.
PREVIOUS_FIRST_SEEN = {1: "2024-04-19 05:52:31", 2: "2024-04-19 05:52:31"}


def migrate_to(engine, revision: str) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def schema_of(engine) -> dict:
    """Tables → columns (name, type, nullable), unique constraints, foreign keys, indexes."""
    insp = inspect(engine)
    out = {}
    for table in insp.get_table_names():
        if table == "alembic_version":
            continue
        out[table] = (
            sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)),
            sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            sorted((tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(table)),
            sorted((tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)),
        )
    return out


def no_differences(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)


def test_baseline_revision_is_the_previous_release_schema(tmp_path):
    migrated = make_engine(f"sqlite:///{tmp_path / 'baseline.db'}")
    migrate_to(migrated, BASELINE)
    assert schema_of(migrated) == schema_of(create_engine(f"sqlite:///{PREVIOUS}"))


def test_models_and_migrations_agree_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate_to(engine, "head")
    assert no_differences(engine) == []


def test_models_and_migrations_agree_on_postgresql(pg_url):
    engine = make_engine(pg_url)
    migrate_to(engine, "head")
    assert no_differences(engine) == []
    engine.dispose()


def test_new_database_is_created_at_head(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'new.db'}")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head()
    assert no_differences(engine) == []


def test_previous_release_database_upgrades_automatically_on_open(tmp_path):
    db = tmp_path / "govcheck.db"
    shutil.copy(PREVIOUS, db)
    proc = govcheck("findings", "--db", str(db), "--scan", "1", "--format", "jsonl")
    assert f"upgrading database {db} from schema revision {BASELINE} to {head()}" in proc.stderr
    assert (tmp_path / f"govcheck.db.before-{head()}").exists()   # the old file kept beside it
    records = {r["id"]: r for r in findings_jsonl(db, scan="1")}
    # Identity, lifecycle and the reviewer's decision survive; times are the same instants,
    # now explicit Beijing time. The review was made after scan 2 started, so scan 1 shows the
    # finding as it was then (history is not rewritten, govcheck.history) and scan 2 as ignored.
    assert records[1]["check"] == "link_broken" and records[1]["status"] == "open"
    for fid, naive in PREVIOUS_FIRST_SEEN.items():
        assert records[fid]["first_seen"] == naive + "+08:00"
    second = {r["id"]: r for r in findings_jsonl(db, scan="2")}
    assert {r["check"] for r in second.values()} >= {"account_stale", "word_typo", "footer_missing"}
    assert second[1]["status"] == "ignored" and second[1]["review_note"] == "旧版复核"
    with session_factory(open_db(f"sqlite:///{db}"))() as session:
        probe = session.scalars(select(ProbeRow).order_by(ProbeRow.id)).first()
        assert probe.at.utcoffset() == dt.timedelta(hours=8)
        assert session.get(FindingRow, 1).review_note == "旧版复核"
    # A second open finds nothing to do.
    assert "upgrading" not in govcheck("findings", "--db", str(db)).stderr


def copy_previous_release_into(url: str) -> None:
    """The previous release's data on PostgreSQL: its schema (the baseline revision) filled
    with the rows of the fixture file, as a deployment of that release would hold them."""
    target = make_engine(url)
    migrate_to(target, BASELINE)
    with target.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))   # the previous release had none
    source = MetaData()
    source_engine = create_engine(f"sqlite:///{PREVIOUS}")
    source.reflect(source_engine)
    dest = MetaData()
    dest.reflect(target)
    with source_engine.connect() as src, target.begin() as dst:
        for table in dest.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(select(source.tables[table.name]))]
            if rows:
                dst.execute(table.insert(), rows)
            if "id" in table.c:
                dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                 f"(SELECT coalesce(max(id), 1) FROM {table.name}))"))
    target.dispose()


@pytest.mark.slow
def test_previous_release_database_upgrades_on_postgresql(pg_url, tmp_path):
    copy_previous_release_into(pg_url)
    # A shared database is never upgraded behind its users' backs.
    refused = govcheck("findings", "--db", pg_url, check=False)
    assert refused.returncode == 2 and "govcheck db upgrade" in refused.stderr
    out = govcheck("db", "upgrade", "--db", pg_url).stdout
    assert f"upgraded from revision {BASELINE} to {head()}" in out
    assert f"already at revision {head()}" in govcheck("db", "upgrade", "--db", pg_url).stdout
    engine = create_engine(pg_url)
    assert no_differences(engine) == []
    with engine.connect() as conn:
        types = dict(conn.execute(text(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'findings'")).all())
    engine.dispose()
    assert types["detail"] == "jsonb" and types["first_seen"] == "timestamp with time zone"
    records = {r["id"]: r for r in findings_jsonl(pg_url, scan="1")}
    for fid, naive in PREVIOUS_FIRST_SEEN.items():
        assert records[fid]["first_seen"] == naive + "+08:00"
    # The same answer as the SQLite upgrade of the same file.
    db = tmp_path / "govcheck.db"
    shutil.copy(PREVIOUS, db)
    assert findings_jsonl(pg_url, scan="2") == findings_jsonl(db, scan="2")
    govcheck("review", "2", "--confirm", "--note", "升级后复核", "--db", pg_url)
