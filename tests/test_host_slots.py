"""The per-host limit shared by all workers (crawler/host_slots.py), against the local Redis:
politeness is measured at the server, with each worker its own process."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REDIS, Route, html

redis = pytest.importorskip("redis")

from crawler.host_slots import HostSlots  # noqa: E402

CRAWL = Path(__file__).resolve().parent / "hostslots_crawl.py"


def worker(urls, resolve, limit, redis_url=None, prefix="govcheck", **extra) -> subprocess.Popen:
    args = {"urls": urls, "resolve": resolve, "limit": limit, "redis": redis_url, "prefix": prefix, **extra}
    return subprocess.Popen([sys.executable, str(CRAWL), json.dumps(args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def pages(n: int, delay: float = 0.0) -> dict[str, Route]:
    return {f"/p{i}.html": Route(body=html(f"第{i}篇"), delay=delay) for i in range(n)}


def test_two_workers_together_never_exceed_the_hosts_limit(serve, prefix):
    server = serve({"www.a.gov.cn": pages(30)}, default_delay=0.15)
    urls = [f"http://www.a.gov.cn:{server.port}/p{i}.html" for i in range(30)]
    resolve = {"www.a.gov.cn": "127.0.0.1"}
    procs = [worker(urls, resolve, 2, REDIS, prefix) for _ in range(2)]
    outs = [finish(p) for p in procs]
    assert all(out.count("fetched 200") == 30 for out in outs)
    assert len(server.requests) == 60
    assert server.max_in_flight["www.a.gov.cn"] == 2, dict(server.max_in_flight)


def test_without_redis_each_worker_keeps_only_its_own_limit(serve):
    """Why the shared limit exists: two processes on their own send the host twice the limit."""
    server = serve({"www.a.gov.cn": pages(30)}, default_delay=0.15)
    urls = [f"http://www.a.gov.cn:{server.port}/p{i}.html" for i in range(30)]
    procs = [worker(urls, {"www.a.gov.cn": "127.0.0.1"}, 2) for _ in range(2)]
    for p in procs:
        finish(p)
    assert server.max_in_flight["www.a.gov.cn"] > 2


def test_a_killed_workers_slots_come_back_when_its_leases_end(serve, prefix):
    host = "www.k.gov.cn"
    server = serve({host: {**pages(4, delay=6.0), "/fast.html": Route(body=html("快"))}})
    resolve = {host: "127.0.0.1"}
    slots = HostSlots.from_url(REDIS, prefix, lease_seconds=1.5)
    doomed = worker([f"http://{host}:{server.port}/p{i}.html" for i in range(4)], resolve, 2, REDIS, prefix, lease=1.5)
    deadline = time.monotonic() + 30
    while server.in_flight[host] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.in_flight[host] == 2
    # A live worker renews: its slots outlast the lease time while its requests are in flight.
    time.sleep(2.5)
    assert slots.in_flight(host) == 2
    assert slots.try_acquire(host, 2, "probe") == (False, None)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    killed = time.monotonic()
    while slots.in_flight(host) and time.monotonic() - killed < 10:
        time.sleep(0.05)
    assert slots.in_flight(host) == 0
    assert time.monotonic() - killed < 4.0   # lease 1.5 s, renewed at most 0.5 s before the kill; load margin
    out = finish(worker([f"http://{host}:{server.port}/fast.html"], resolve, 2, REDIS, prefix, lease=1.5), timeout=30)
    assert "fetched 200" in out


def test_retry_after_seen_by_one_worker_holds_every_worker_off_that_host(serve, prefix):
    server = serve({
        "www.busy.gov.cn": {"/busy": Route(body=b"busy", status=429, headers={"Retry-After": "8"}),
                            "/a.html": Route(body=html("甲"))},
        "www.calm.gov.cn": {"/b.html": Route(body=html("乙"))},
    })
    resolve = {"www.busy.gov.cn": "127.0.0.1", "www.calm.gov.cn": "127.0.0.1"}
    finish(worker([f"http://www.busy.gov.cn:{server.port}/busy"], resolve, 2, REDIS, prefix))
    finish(worker([f"http://www.busy.gov.cn:{server.port}/a.html", f"http://www.calm.gov.cn:{server.port}/b.html"],
                  resolve, 2, REDIS, prefix))
    at = {path: t for (_, _, path), t in zip(server.requests, server.request_times)}
    assert at["/a.html"] - at["/busy"] >= 7.9            # the other worker waited out the Retry-After
    assert at["/a.html"] - at["/b.html"] >= 1.0          # ... for that host only (slow starts under load leave margin)


def test_slots_are_taken_atomically_up_to_the_limit(prefix):
    slots = HostSlots.from_url(REDIS, prefix, lease_seconds=5)
    got = [slots.try_acquire("www.x.gov.cn", 3, f"t{i}")[0] for i in range(5)]
    assert got == [True, True, True, False, False]
    slots.release("www.x.gov.cn", "t0")
    assert slots.try_acquire("www.x.gov.cn", 3, "t5") == (True, None)
    assert slots.try_acquire("www.y.gov.cn", 3, "t6") == (True, None)   # limits are per host
    slots.hold("www.x.gov.cn", 2.0)
    ok, wait = slots.try_acquire("www.x.gov.cn", 10, "t7")
    assert not ok and 1.5 < wait <= 2.0


def test_an_unreachable_redis_stops_the_crawl_instead_of_recording_failures(serve):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    server = serve({"www.a.gov.cn": pages(5)})
    urls = [f"http://www.a.gov.cn:{server.port}/p{i}.html" for i in range(5)]
    out = finish(worker(urls, {"www.a.gov.cn": "127.0.0.1"}, 2, dead, "unused"), timeout=60)
    assert "finish_reason redis_unavailable" in out
    assert not server.requests          # nothing was sent without the limit it was promised


def test_two_scans_with_redis_share_the_limit_at_the_server(tmp_path, serve, prefix):
    """The real command: two scans of the same host at once (two databases, e.g. a city's and a
    province's), both with --redis, never send the host more than concurrency_per_host."""
    from conftest import write_registry

    links = "".join(f'<a href="/p{i}.html">第{i}篇</a>' for i in range(24))
    server = serve({"www.share.gov.cn": {"/": Route(body=html("首页", links)), **pages(24)}}, default_delay=0.15)
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "共享单位", "sites": [{"url": f"http://www.share.gov.cn:{server.port}/"}]}],
                              resolve={"www.share.gov.cn": "127.0.0.1"}, settings={"concurrency_per_host": 2})
    env = dict(os.environ, GOVCHECK_RESOLVE_ONLY="1", GOVCHECK_REDIS_PREFIX=prefix)
    procs = [subprocess.Popen([sys.executable, "-m", "govcheck", "scan", str(registry), "--db", str(tmp_path / f"{i}.db"),
                               "--redis", REDIS], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for i in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    assert server.count("www.share.gov.cn", "/p0.html") == 2      # both scans crawled the whole site
    assert server.max_in_flight["www.share.gov.cn"] == 2, dict(server.max_in_flight)
