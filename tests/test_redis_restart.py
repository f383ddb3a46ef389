"""Issue 18: Redis restarted mid-scan. A scan sharing its per-host limit (and, with --workers,
its queue) through a Redis that goes away fails cleanly — a clear message, a non-zero exit,
the scan and its unfinished sites marked failed — keeps every page it had stored, and
`--resume` once Redis is back gives the findings of a scan that was never disturbed. The
Redis here is a server of the test's own on a port of its own (the shared one is left alone)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from conftest import Route, findings_jsonl, govcheck, html, stored_pages, write_registry
from sqlalchemy import select

from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import ScanRow, SiteOutcomeRow

pytest.importorskip("redis")
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

QUICK, SLOW = "www.quick.gov.cn", "www.slow.gov.cn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, port: int):
        self.port, self.proc = port, None

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--daemonize", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def redis_server():
    server = RedisServer(free_port())
    server.start()
    yield server
    server.kill()


def slow_site(n: int = 50) -> dict[str, Route]:
    routes = {"/": Route(body=html("慢站", "".join(f'<a href="/a{i}.html">文章{i}</a>' for i in range(n))
                                    + '<a href="/gone.html">失效</a>'))}
    routes.update({f"/a{i}.html": Route(body=html(f"文章{i}", f"<p>正文{i}</p>" + ("<p>南朝鲜</p>" if i == n - 2 else "")),
                                        delay=0.3) for i in range(n)})
    return routes


def comparable(records: list[dict]) -> list[str]:
    keep = ("unit", "check", "severity", "target", "subject", "url", "evidence", "detail", "status")
    return sorted(json.dumps({k: r.get(k) for k in keep}, ensure_ascii=False, sort_keys=True) for r in records)


@pytest.mark.parametrize("workers", [0, 1])
def test_redis_lost_mid_scan_fails_cleanly_and_resume_works(tmp_path, serve, redis_server, workers):
    server = serve({QUICK: {"/": Route(body=html("快站", "<p>首页</p>"))}, SLOW: slow_site()})
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": "快单位", "sites": [{"url": f"http://{QUICK}:{server.port}/"}]},
        {"name": "慢单位", "sites": [{"url": f"http://{SLOW}:{server.port}/"}]},
    ], resolve={QUICK: "127.0.0.1", SLOW: "127.0.0.1"}, settings={"concurrency_per_host": 1, "probes": 1},
        as_of="2024-04-19")
    whole = tmp_path / "whole.db"
    govcheck("scan", str(registry), "--db", str(whole))
    expected = comparable(findings_jsonl(whole))

    db = tmp_path / "g.db"
    scale = ["--workers", str(workers)] if workers else []
    proc = subprocess.Popen([sys.executable, "-m", "govcheck", "scan", str(registry), "--db", str(db),
                             "--redis", redis_server.url, *scale],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1", COLUMNS="200"))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None and (not db.exists() or stored_pages(db) < 10):
        time.sleep(0.2)
    before = stored_pages(db)
    assert 10 <= before < 52, "the crawl should be half-way when Redis goes"
    redis_server.kill()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    assert "redis" in (out + err).lower() and "Traceback" not in err, err[-3000:]

    with session_factory(open_db(str(db)))() as s:
        scan = s.scalar(select(ScanRow))
        assert scan.status == "failed"
        assert "redis" in scan.stats["failed_reason"].lower()
        statuses = set(s.scalars(select(SiteOutcomeRow.status)))
        assert "failed" in statuses and "crawling" not in statuses
    assert stored_pages(db) >= before                                   # nothing stored was lost

    redis_server.start()                                                # Redis is back (empty)
    govcheck("scan", str(registry), "--db", str(db), "--redis", redis_server.url, *scale, "--resume", "1")
    assert comparable(findings_jsonl(db)) == expected
    with session_factory(open_db(str(db)))() as s:
        assert s.scalar(select(ScanRow.status)) == "done"
        assert set(s.scalars(select(SiteOutcomeRow.status))) == {"complete"}
