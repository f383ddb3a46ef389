"""A scan whose coordinator was killed (SIGKILL) is not `running` forever: its heartbeat stops,
`govcheck scans` shows it interrupted with the command that resumes it, and that resume works;
while the coordinator is alive, a second one cannot resume its scan. Real PostgreSQL and Redis."""

import os
import select
import signal
import subprocess
import sys
import time

import pytest
from conftest import REDIS, Route, govcheck, html, write_registry

pytest.importorskip("redis")

HOST = "www.beat.gov.cn"


def slow_site(n: int = 60) -> dict[str, Route]:
    routes = {"/": Route(body=html("心跳测试区", "".join(f'<a href="/a{i}.html">第{i}篇</a>' for i in range(n))
                                   + '<a href="/gone.html">坏链</a>'))}
    routes.update({f"/a{i}.html": Route(body=html(f"第{i}篇", "<p>正文</p>"), delay=0.3) for i in range(n)})
    return routes


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def line_of(proc, timeout: float = 60) -> str:
    """The next stderr line of `proc` (text mode, line-buffered by the worker's flush)."""
    ready, _, _ = select.select([proc.stderr], [], [], timeout)
    assert ready, "no line within the timeout"
    return proc.stderr.readline()


def scans(db: str) -> list[list[str]]:
    return [line.split("\t") for line in govcheck("scans", "--db", db).stdout.splitlines()]


def start_scan(tmp_path, serve, pg_url, prefix, **popen):
    """A `--workers 1` scan of the slow site on PostgreSQL, returned once it is crawling:
    (server, registry, env, coordinator process)."""
    server = serve({HOST: slow_site()})
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "心跳单位", "sites": [
        {"url": f"http://{HOST}:{server.port}/"}]}], resolve={HOST: "127.0.0.1"},
        settings={"concurrency_per_host": 1, "probes": 0}, as_of="2024-04-19")
    env = dict(os.environ, GOVCHECK_RESOLVE_ONLY="1", GOVCHECK_REDIS_PREFIX=prefix)
    govcheck("db", "upgrade", "--db", pg_url)
    coordinator = subprocess.Popen([sys.executable, "-m", "govcheck", "scan", str(registry), "--db", pg_url,
                                    "--redis", REDIS, "--workers", "1"], env=env, **popen)
    deadline = time.monotonic() + 120
    while len(server.requests) < 6 and time.monotonic() < deadline and coordinator.poll() is None:
        time.sleep(0.05)
    if coordinator.poll() is not None or len(server.requests) < 6:
        coordinator.kill()
        pytest.fail(f"the scan did not start crawling (exit {coordinator.poll()}, {len(server.requests)} requests)")
    return server, registry, env, coordinator


def test_killed_coordinator_is_interrupted_and_resumable_a_live_one_is_not(tmp_path, serve, pg_url, prefix,
                                                                           monkeypatch):
    # Every process here (the listing's too: it judges staleness by the same setting) beats fast.
    monkeypatch.setenv("GOVCHECK_HEARTBEAT_SECONDS", "0.5")
    server, registry, env, coordinator = start_scan(tmp_path, serve, pg_url, prefix, stdout=subprocess.PIPE,
                                                    stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.6)   # beats well past the stale limit: the live coordinator renews them
        [row] = scans(pg_url)
        assert row[0] == "1" and row[3].startswith("running (") and f"pid {coordinator.pid}" in row[3]
        second = govcheck("scan", str(registry), "--db", pg_url, "--resume", "1", check=False)
        assert second.returncode == 2 and "still running" in second.stderr and f"pid {coordinator.pid}" in second.stderr
        # The coordinator's machine is gone: it and its worker, at once.
        workers = children(coordinator.pid)
        coordinator.kill()
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        coordinator.communicate(timeout=30)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.communicate()
    time.sleep(1.6)   # three missed beats
    [row] = scans(pg_url)
    assert row[3].startswith("interrupted (") and "--resume 1" in row[3], row
    # A worker on another machine does not crawl for the dead coordinator (the scan is still
    # queued in Redis) — and joins once the scan is resumed.
    remote = subprocess.Popen([sys.executable, "-m", "govcheck", "worker", "--db", pg_url, "--redis", REDIS],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert "waiting for scans" in line_of(remote)
        assert "not joining scan 1" in line_of(remote)
        out = subprocess.run([sys.executable, "-m", "govcheck", "scan", str(registry), "--db", pg_url, "--redis",
                              REDIS, "--workers", "1", "--resume", "1"], capture_output=True, text=True, env=env,
                             timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        assert "joining scan 1" in line_of(remote, timeout=5)
    finally:
        remote.send_signal(signal.SIGTERM)
        remote.communicate(timeout=60)
    assert remote.returncode == 0
    [row] = scans(pg_url)
    assert row[3] == "done"


def running(pid: int) -> bool:
    """Whether `pid` still runs (an orphan's zombie waits for whoever adopted it to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_local_workers_of_a_killed_coordinator_stop_instead_of_crawling_on(tmp_path, serve, pg_url, prefix):
    # Killing the scan (SIGKILL of `govcheck scan --workers`) ends its crawling: the local
    # workers see they were orphaned, give their leases back and exit.
    server, _, _, coordinator = start_scan(tmp_path, serve, pg_url, prefix, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        workers = children(coordinator.pid)
        assert workers
        coordinator.kill()
        coordinator.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(running(pid) for pid in workers)
        stopped_at = len(server.requests)
        time.sleep(1.0)
        assert len(server.requests) == stopped_at < 60   # nothing crawled after, and not to the end
    finally:
        for pid in workers:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        if coordinator.poll() is None:
            coordinator.kill()
