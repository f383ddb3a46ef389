"""One scan on several worker processes through Redis (issue 18): the same findings as the
single process, no page fetched twice across workers, the per-host limit held at the server,
and a worker killed with SIGKILL mid-scan costs nothing but time. The local Redis (each test a
key prefix of its own) and PostgreSQL (a schema per database) are real."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from conftest import PG, REDIS, Route, findings_jsonl, html, write_registry

redis = pytest.importorskip("redis")

HOST = "www.scale.gov.cn"
AS_OF = "2024-04-19"
LIMIT = 2
COMPARED = ("unit", "target_kind", "target", "check", "severity", "url", "subject", "evidence", "detail", "status")


def site(port: int, articles: int = 24) -> dict[str, Route]:
    items = "".join(f'<li><a href="/tzgg/a{i}.html">第{i}号通知</a><span>2024-04-{1 + i % 18:02d}</span></li>'
                    for i in range(articles))
    home = html("扩展测试区人民政府", f"""
      <div class="nav"><a href="/tzgg/">通知公告</a><a href="/gzdt/">工作动态</a></div>
      <ul>{items[:400]}</ul>
      <a href="/missing.html">已删除的文章</a> <a href="http://www.tour-portal.com:{port}/">旅游资讯网</a>
      <div style="display:none"><a href="http://www.casino-x.com:{port}/">娱乐城</a></div>
      <img src="/logo.png"><script src="/js/app.js"></script>
      <div class="footer">主办单位：扩展测试区人民政府办公室 网站标识码：1599000003</div>""")
    routes = {
        "/": Route(body=home),
        "/tzgg/": Route(body=html("通知公告", f"<ul>{items}</ul>")),
        "/gzdt/": Route(body=html("工作动态", '<ul><li><a href="/tzgg/a1.html">第1号通知</a><span>2023-01-05</span></li>'
                                           '<li><a href="/old.html">旧地址</a></li></ul>')),
        "/old.html": Route(status=301, headers={"Location": "/tzgg/a2.html"}),
        "/logo.png": Route(body=b"\x89PNG", content_type="image/png"),
        "/js/app.js": Route(body=b"var a;", content_type="application/javascript"),
        "/files/a1.pdf": Route(body=b"%PDF-1.4", content_type="application/pdf"),
    }
    for i in range(articles):
        body = f"<p>第{i}号通知正文。</p><a href='/tzgg/a{(i + 1) % articles}.html'>下一篇</a><img src='/img/{i}.jpg'>"
        if i == 3:
            body += "<p>台湾政府有关人士表示。</p><a href='/files/a1.pdf'>附件</a>"
        if i == 5:
            body += "<p>联系人：张三，电话 13912345678。</p><img src='/img/gone.jpg'>"
        routes[f"/tzgg/a{i}.html"] = Route(body=html(f"第{i}号通知", body))
        if i != 7:
            routes[f"/img/{i}.jpg"] = Route(body=b"\xff\xd8", content_type="image/jpeg")
    return routes


@pytest.fixture
def databases():
    """new() → a URL on the local PostgreSQL in a schema of its own (all dropped afterwards)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG)
    made = []

    def new() -> str:
        schema = f"govcheck_test_{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        made.append(schema)
        return f"{PG}?options=-csearch_path%3D{schema}"

    yield new
    with admin.begin() as conn:
        for schema in made:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def registry(tmp_path, port):
    return write_registry(tmp_path / "sites.yaml", [{"name": "扩展测试区人民政府", "sites": [
        {"url": f"http://{HOST}:{port}/", "site_code": "1599000003"}]}],
        resolve={HOST: "127.0.0.1", "www.tour-portal.com": "127.0.0.1", "www.casino-x.com": "127.0.0.1"},
        # A timeout long enough that a loaded machine never retries a slow answer: the requests
        # at the server are compared one for one with the single process's.
        settings={"concurrency_per_host": LIMIT, "probes": 2, "timeout": 15}, as_of=AS_OF)


def run(*args, prefix: str, lease: float = 30.0, **env) -> subprocess.Popen:
    env = dict(os.environ, GOVCHECK_RESOLVE_ONLY="1", COLUMNS="200", GOVCHECK_REDIS_PREFIX=prefix,
               GOVCHECK_QUEUE_LEASE_SECONDS=str(lease), **env)
    return subprocess.Popen([sys.executable, "-m", "govcheck", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def finish(proc, timeout: float = 300) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"{out}\n{err}"
    return out


def comparable(findings):
    return sorted(({k: f[k] for k in COMPARED} for f in findings), key=lambda f: (f["check"], f["target"], f["url"]))


def outcome_statuses(db: str) -> list[str]:
    from sqlalchemy import select

    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.schema import SiteOutcomeRow

    with session_factory(open_db(db))() as session:
        return list(session.scalars(select(SiteOutcomeRow.status)))


def reset(server):
    server.requests.clear()
    server.max_in_flight.clear()


def test_one_and_two_workers_find_what_the_single_process_finds(tmp_path, serve, prefix, databases):
    server = serve({HOST: {}}, default_delay=0.03)
    server.hosts[HOST] = site(server.port)
    reg = registry(tmp_path, server.port)

    single = databases()
    finish(run("scan", str(reg), "--db", single, prefix=prefix))
    expected = comparable(findings_jsonl(single))
    requests_single = Counter(server.requests)
    assert {f["check"] for f in expected} >= {"link_broken", "link_external", "link_hidden", "word_serious",
                                              "privacy_leak"}

    for workers in (1, 2):
        reset(server)
        db = databases()
        out = finish(run("scan", str(reg), "--db", db, "--redis", REDIS, "--workers", str(workers), prefix=prefix))
        assert "巡检" in out
        assert comparable(findings_jsonl(db)) == expected, f"{workers} workers"
        # Every request the single process sent, once each as there: nothing fetched twice
        # across workers, nothing left out.
        assert Counter(server.requests) == requests_single, f"{workers} workers"
        assert max(server.max_in_flight.values()) <= LIMIT, dict(server.max_in_flight)
        assert outcome_statuses(db) == ["complete"]
    # One local worker and one `govcheck worker` (as on another machine) that joins the scan.
    reset(server)
    db = databases()
    remote = run("worker", "--db", db, "--redis", REDIS, prefix=prefix)
    try:
        assert "waiting for scans" in remote.stderr.readline()
        finish(run("scan", str(reg), "--db", db, "--redis", REDIS, "--workers", "1", prefix=prefix))
        assert "joining scan 1" in remote.stderr.readline()
        assert remote.poll() is None   # it waits for the next scan
    finally:
        remote.send_signal(signal.SIGTERM)
        remote.communicate(timeout=60)
    assert remote.returncode == 0
    assert comparable(findings_jsonl(db)) == expected
    assert Counter(server.requests) == requests_single
    client = redis.Redis.from_url(REDIS)
    assert not [k for k in client.scan_iter(f"{prefix}:scan:*")]   # the scan's keys are gone once it is done


def test_bad_or_unreachable_redis_is_exit_2(tmp_path, prefix):
    reg = registry(tmp_path, 1)
    for url, why in (("http://127.0.0.1:6379", "not a Redis URL"), ("redis://127.0.0.1:1/0", "cannot be reached")):
        for args in (("scan", str(reg), "--db", str(tmp_path / "g.db"), "--redis", url, "--workers", "2"),
                     ("worker", "--db", str(tmp_path / "g.db"), "--redis", url)):
            proc = run(*args, prefix=prefix)
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 2, (args, out, err)
            assert why in err and url in err
    proc = run("scan", str(reg), "--db", str(tmp_path / "g.db"), "--workers", "2", prefix=prefix)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "--redis" in err
    assert not (tmp_path / "g.db").exists()   # nothing was started


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_a_worker_killed_mid_scan_costs_only_time(tmp_path, serve, prefix, databases):
    server = serve({HOST: {}}, default_delay=0.15)
    server.hosts[HOST] = site(server.port, articles=40)
    reg = registry(tmp_path, server.port)
    single = databases()
    finish(run("scan", str(reg), "--db", single, prefix=prefix))
    expected = comparable(findings_jsonl(single))
    wanted = set(server.requests)

    reset(server)
    db = databases()
    # Short leases: the dead worker's requests and host slots come back within seconds.
    coordinator = run("scan", str(reg), "--db", db, "--redis", REDIS, "--workers", "2", prefix=prefix, lease=2.0,
                      GOVCHECK_HOST_LEASE_SECONDS="2")
    deadline = time.monotonic() + 120
    while len(server.requests) < 12 and time.monotonic() < deadline and coordinator.poll() is None:
        time.sleep(0.05)
    workers = children(coordinator.pid)
    assert len(workers) == 2 and len(server.requests) >= 12, (workers, len(server.requests))
    client = redis.Redis.from_url(REDIS)
    leased = [k for k in client.scan_iter(f"{prefix}:scan:*:processing")]
    assert leased and client.zcard(leased[0]) > 0   # requests were out when the worker died
    os.kill(workers[0], signal.SIGKILL)
    finish(coordinator, timeout=300)
    # Its leased requests went back on the queue and the other worker crawled them.
    assert set(server.requests) == wanted
    assert comparable(findings_jsonl(db)) == expected
    assert max(server.max_in_flight.values()) <= LIMIT


def test_a_worker_waiting_for_scans_exits_cleanly_on_sigterm(tmp_path, prefix):
    proc = run("worker", "--db", str(tmp_path / "none.db"), "--redis", REDIS, prefix=prefix)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "does not exist" in err   # a worker needs the scan's database
    db = tmp_path / "g.db"
    finish(run("db", "upgrade", "--db", str(db), prefix=prefix))
    proc = run("worker", "--db", str(db), "--redis", REDIS, prefix=prefix)
    assert "waiting for scans" in proc.stderr.readline()
    time.sleep(0.5)
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server(port: int) -> subprocess.Popen:
    """A Redis of this test's own (the shared one must not be restarted), keeping nothing on disk."""
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    raise AssertionError("redis-server did not start")


def test_redis_restarted_mid_scan_fails_the_scan_and_a_rerun_works(tmp_path, serve, prefix, databases):
    from sqlalchemy import func, select

    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.schema import PageRow, ScanRow

    if not subprocess.run(["which", "redis-server"], capture_output=True).stdout:
        pytest.skip("no redis-server binary")
    server = serve({HOST: {}}, default_delay=0.15)
    server.hosts[HOST] = site(server.port, articles=40)
    reg = registry(tmp_path, server.port)
    db = databases()
    port = free_port()
    own = redis_server(port)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        coordinator = run("scan", str(reg), "--db", db, "--redis", url, "--workers", "2", prefix=prefix)
        deadline = time.monotonic() + 120
        while len(server.requests) < 12 and time.monotonic() < deadline and coordinator.poll() is None:
            time.sleep(0.05)
        assert coordinator.poll() is None
        own.kill()
        own.wait()
        own = redis_server(port)   # back at once, empty
        out, err = coordinator.communicate(timeout=120)
        assert coordinator.returncode == 1, f"{out}\n{err}"
        assert "scan interrupted" in err and "Redis" in err   # gone from it, or failed under the coordinator
        with session_factory(open_db(db))() as session:
            scan = session.get(ScanRow, 1)
            assert scan.status == "failed"
            kept = session.scalar(select(func.count()).select_from(PageRow).where(PageRow.scan_id == 1))
        assert kept > 0   # what the workers stored before the restart is kept
        # Scanned again on the restarted Redis: complete, with its findings.
        finish(run("scan", str(reg), "--db", db, "--redis", url, "--workers", "2", prefix=prefix))
        checks = {f["check"] for f in findings_jsonl(db)}
        assert {"link_broken", "word_serious", "privacy_leak"} <= checks
    finally:
        own.kill()
        own.wait()
