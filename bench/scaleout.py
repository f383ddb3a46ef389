"""Scaling a scan out (issue 18): one process vs 1 and 2 worker processes over Redis.

    python bench/scaleout.py [--sites 200] [--pages 200] [--delay 0.02] [--limit 4]
                             [--redis redis://127.0.0.1:6379/0] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Many generated sites on one loopback server (told apart by Host), each a homepage, ten column
pages and its articles, with server think time per request. Three runs of the real `govcheck
scan` on PostgreSQL (a schema of each run's own, dropped afterwards), side by side in one
table: the single process, `--redis URL --workers 1`, `--redis URL --workers 2`. Printed per
run: wall time, pages stored, pages/s, the peak number of requests in flight for any one host
at the server (against concurrency_per_host), and the speed-up over the single process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from govcheck.demo.loopback import LoopbackSites, Route  # noqa: E402
from govcheck.store.schema import PageRow  # noqa: E402


def page(title: str, body: str) -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


def build_site(n: int, pages: int) -> dict[str, Route]:
    """A homepage, 10 columns and `pages` - 11 articles spread over them (each links the next)."""
    articles = max(0, pages - 11)
    routes = {"/": Route(body=page(f"第{n}测试区人民政府", "".join(f'<a href="/col{c}/">栏目{c}</a>' for c in range(10))
                                   + "<div>主办单位：测试区人民政府办公室</div>"))}
    for c in range(10):
        links = "".join(f'<li><a href="/col{c}/a{i}.html">第{i}篇</a><span>2024-04-{1 + i % 18:02d}</span></li>'
                        for i in range(c, articles, 10))
        routes[f"/col{c}/"] = Route(body=page(f"栏目{c}", f"<ul>{links}</ul>"))
    for i in range(articles):
        nxt = (i + 10) % articles if articles > 10 else i
        routes[f"/col{i % 10}/a{i}.html"] = Route(body=page(f"第{i}篇", f"<p>第{i}篇正文。</p>"
                                                              f"<a href='/col{nxt % 10}/a{nxt}.html'>下一篇</a>"))
    return routes


def run(hosts: dict, args, label: str, workers: int, tmp: Path) -> dict:
    schema = f"bench_scaleout_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = f"{args.pg}?options=-csearch_path%3D{schema}"
    try:
        with LoopbackSites(hosts, default_delay=args.delay) as server:
            registry = tmp / f"sites-{uuid.uuid4().hex[:6]}.yaml"
            registry.write_text(json.dumps({
                "as_of": "2024-04-19", "resolve": dict.fromkeys(hosts, "127.0.0.1"),
                "settings": {"resolve_only": True, "max_pages": args.pages + 50, "max_depth": 6, "screenshots": False,
                             "probes": 0, "concurrency_per_host": args.limit, "concurrency": args.concurrency},
                "units": [{"name": f"第{i}单位", "sites": [{"url": f"http://{h}:{server.port}/"}]}
                          for i, h in enumerate(hosts)]}, ensure_ascii=False), encoding="utf-8")
            env = dict(os.environ, GOVCHECK_RESOLVE_ONLY="1", GOVCHECK_REDIS_PREFIX=f"bench-{uuid.uuid4().hex[:8]}")
            scale = ["--redis", args.redis, "--workers", str(workers)] if workers else []
            govcheck = [sys.executable, "-m", "govcheck"]
            subprocess.run([*govcheck, "db", "upgrade", "--db", db], check=True, capture_output=True, env=env)
            start = time.monotonic()
            proc = subprocess.run([*govcheck, "scan", str(registry), "--db", db, "--crawl-only", *scale],
                                  capture_output=True, text=True, env=env)
            wall = time.monotonic() - start
            if proc.returncode != 0:
                sys.exit(f"{label}: scan failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}")
            peak = max(server.max_in_flight.values(), default=0)
            requests = len(server.requests)
        engine = create_engine(db)
        with engine.connect() as conn:
            pages = conn.execute(select(func.count()).select_from(PageRow.__table__)).scalar()
        engine.dispose()
        return {"wall": wall, "pages": pages, "requests": requests, "peak": peak}
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--pages", type=int, default=200, help="pages per site")
    ap.add_argument("--delay", type=float, default=0.02, help="server think time per request (s)")
    ap.add_argument("--limit", type=int, default=4, help="concurrency_per_host")
    ap.add_argument("--concurrency", type=int, default=32, help="requests in flight per process")
    ap.add_argument("--redis", default=os.environ.get("GOVCHECK_TEST_REDIS", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--pg", default=os.environ.get("GOVCHECK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    hosts = {f"www.s{n:04d}.gov.cn": build_site(n, args.pages) for n in range(args.sites)}
    print(f"{args.sites} sites x {args.pages} pages, server think time {args.delay * 1000:.0f} ms, "
          f"concurrency_per_host {args.limit}, concurrency {args.concurrency} per process, "
          f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (crawl only, no analysis)")
    print(f"{'run':<26}{'wall s':>8}{'pages':>8}{'pages/s':>9}{'requests':>10}{'peak/host':>11}{'speed-up':>10}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for label, workers in (("single process", 0), ("--workers 1 (Redis)", 1), ("--workers 2 (Redis)", 2)):
            r = run(hosts, args, label, workers, Path(tmp))
            rate = r["pages"] / r["wall"]
            base = base or rate
            print(f"{label:<26}{r['wall']:>8.1f}{r['pages']:>8}{rate:>9.1f}{r['requests']:>10}"
                  f"{r['peak']:>6} / {args.limit}{rate / base:>9.2f}x", flush=True)
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
