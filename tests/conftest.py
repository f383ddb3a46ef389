"""Shared fixtures: loopback sites, registries written to tmp, and the real command."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from govcheck.demo.loopback import LoopbackSites, Route
from govcheck.findings import Finding, FindingState
from govcheck.store.schema import PageRow

SHARED = Path(__file__).resolve().parents[2] / "shared"

# No test may resolve a real name: hosts missing from a registry's resolve: map fail as DNS
# errors without a lookup (the machine's resolver is not on loopback).
os.environ["GOVCHECK_RESOLVE_ONLY"] = "1"


def html(title: str, body: str = "", head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head><body>{body}</body></html>"


@pytest.fixture
def serve():
    """serve({host: {path: Route}}) → running LoopbackSites (stopped after the test)."""
    started = []

    def _serve(hosts, **kw) -> LoopbackSites:
        s = LoopbackSites(hosts, **kw)
        s.start()
        started.append(s)
        return s

    yield _serve
    for s in started:
        s.stop()


PG = os.environ.get("GOVCHECK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


REDIS = os.environ.get("GOVCHECK_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def prefix():
    """A Redis key prefix of this test's own (other runs may share the local Redis), its keys removed afterwards."""
    import redis

    p = f"govcheck-test-{uuid.uuid4().hex[:10]}"
    yield p
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"{p}:*"):
        client.delete(key)


@pytest.fixture
def pg_url():
    """A URL on the local PostgreSQL inside a schema of this test's own (dropped afterwards):
    other engineers' test runs share database `test`."""
    from sqlalchemy import create_engine, text

    schema = f"govcheck_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def write_registry(path: Path, units: list[dict], resolve: dict | None = None, settings: dict | None = None,
                   **top) -> Path:
    doc = dict(top)
    # Screenshots (headless Chromium) only where a test asks for them: they cost seconds a scan.
    doc["settings"] = {"resolve_only": True, "timeout": 2, "retries": 1, "probe_interval": 0.1, "screenshots": False,
                       **(settings or {})}
    doc["resolve"] = resolve or {}
    doc["units"] = units
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def govcheck(*args: str, cwd: Path | None = None, check: bool = True, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run the real command line in a subprocess (Scrapy's reactor runs once per process)."""
    proc = subprocess.run([sys.executable, "-m", "govcheck", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1", COLUMNS="200"))
    if check and proc.returncode != 0:
        raise AssertionError(f"govcheck {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def findings_jsonl(db: Path | str, scan: str = "latest", cwd: Path | None = None) -> list[dict]:
    url = db if "://" in str(db) else f"sqlite:///{db}"
    out = govcheck("findings", "--db", str(url), "--scan", scan, "--format", "jsonl", cwd=cwd).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


__all__ = ["Route", "html", "write_registry", "govcheck", "findings_jsonl", "SHARED"]


def stored(finding_id: int, check: str, severity: str = "deduct", target_kind: str = "site", status: str = "open",
           **detail) -> FindingState:
    """A stored finding as scoring sees it, without a database: open, seen in scan 1."""
    at = dt.datetime(2024, 4, 1, 9, 0)
    target = "http://www.example.gov.cn/" if target_kind == "site" else "某账号"
    return FindingState(finding_id, Finding(check, target, None, "", detail, severity, "单位", target_kind, target),
                        status, False, at, 1, at, 1)


def stored_pages(db) -> int:
    """Pages stored so far, read with plain sqlite3: opening the file with open_db while the scan
    is still creating its schema took the half-made schema for an old one and raced the scan
    ("table … already exists") on a loaded machine."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(f"SELECT count(*) FROM {PageRow.__tablename__}").fetchone()[0]
    except sqlite3.OperationalError:   # not made yet
        return 0
